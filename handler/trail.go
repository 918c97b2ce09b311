package handler

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/picbucket/picbucket/internal/trigger"
	"github.com/picbucket/picbucket/signer"
)

// CLS events (trigger "cls"): the organization's CloudAudit records, each
// in its own account (userIdentity.accountId). The function's own account
// is run as for an EventBridge event, with its own key. A member in scope
// (PICBUCKET_ACCOUNTS is "org" or lists it, PICBUCKET_EXCLUDE_ACCOUNTS does
// not) gets, in this invocation, with "org" one DescribeOrganizationMembers
// that must list it (inOrganization), one AssumeRole of PICBUCKET_MEMBER_ROLE,
// one GetUserAppId (the member's APPID), and one Create per named
// bucket signed with the assumed key: no listing and no Invoke, a few
// accounts at a time. Any other account is skipped, naming the setting,
// without a request.

// cls runs a CLS event.
func (inv *invocation) cls(ctx context.Context) (*Result, error) {
	cfg, ev := inv.cfg, inv.ev
	ownUin := inv.id.uin
	if ownUin == "" && len(ev.Accounts) > 0 {
		return nil, errors.New("picbucket: a CLS event's records name their account, but this function's own account is unknown " +
			"(neither TENCENTCLOUD_UIN nor the invocation's context gives it), so its records cannot be told from its members'; set TENCENTCLOUD_UIN")
	}
	o := &orgRun{inv: inv}
	// Every row is known now (a record's bucket, once per service): the
	// rows are gathered in one allocation, not grown by doubling.
	rows, unnamed := 0, 0
	for _, s := range ev.Skipped {
		if s.Bucket == "" {
			unnamed++
		} else {
			rows++
		}
	}
	for _, a := range ev.Accounts {
		rows += len(a.Targets) + len(a.Locate)
	}
	o.buckets = make([]BucketResult, 0, unnamed+rows*max(1, len(cfg.Services)))
	var skipped []BucketResult
	for _, s := range ev.Skipped {
		skipped = append(skipped, BucketResult{Bucket: s.Bucket, Region: s.Region, Outcome: Skipped, Reason: s.Reason})
	}
	for _, b := range perService(skipped, cfg.Services) {
		reportBucket(inv.log, b)
		o.buckets = append(o.buckets, b)
	}
	var own *trigger.AccountBuckets
	var members []trigger.AccountBuckets
	for i, a := range ev.Accounts {
		why := ""
		switch {
		case cfg.ExcludeAccounts[a.Uin]:
			why = "PICBUCKET_EXCLUDE_ACCOUNTS lists account " + a.Uin
		case a.Uin == ownUin:
			own = &ev.Accounts[i]
			continue
		case !cfg.Org:
			why = "account " + a.Uin + " is not this function's own (" + ownUin + ") and PICBUCKET_ACCOUNTS is not set, so this function works in its own account only"
		case !cfg.OrgAll && !slices.Contains(cfg.MemberUins, a.Uin):
			why = "PICBUCKET_ACCOUNTS does not list account " + a.Uin
		default:
			members = append(members, a)
			continue
		}
		res := &Result{Results: perService(accountResults(a, Skipped, "left alone: "+why, ""), cfg.Services)}
		log := inv.log.With().Str("account", a.Uin).Logger()
		for _, b := range res.Results {
			reportBucket(log, b)
		}
		res.finish()
		o.addAccount(AccountResult{Uin: a.Uin, Outcome: AccountSkipped, Error: "left alone: " + why, Summary: &res.Summary}, res)
	}
	if len(members) > 0 {
		if inv.credErr != nil {
			return nil, fmt.Errorf("picbucket: %w", inv.credErr)
		}
		tc, err := inv.apiClient()
		if err != nil {
			return nil, err
		}
		o.tc = tc
	}

	ownDone := make(chan struct{})
	go func() {
		defer close(ownDone)
		if own != nil {
			o.ownBuckets(ctx, *own)
		}
	}()
	startEach(slices.Values(members), accountsParallel, o.stopAt(ctx), inv.h.now,
		func(a trigger.AccountBuckets) { o.memberBuckets(ctx, a) },
		func(a trigger.AccountBuckets) {
			why := "not started: too close to the invocation deadline; the hourly timer covers the account"
			res := &Result{Results: perService(accountResults(a, Deferred, why, ""), cfg.Services)}
			res.finish()
			o.addAccount(AccountResult{Uin: a.Uin, Outcome: AccountDeferred, Error: why, Summary: &res.Summary}, res)
		})
	<-ownDone
	return o.result(string(trigger.KindCLS))
}

// accountResults gives every bucket that a names the same outcome, naming
// the account; names that lack their APPID are shown as the record gave them.
func accountResults(a trigger.AccountBuckets, outcome Outcome, reason, errText string) []BucketResult {
	var out []BucketResult
	for _, t := range a.Targets {
		out = append(out, BucketResult{Account: a.Uin, Bucket: t.Bucket, Region: t.Region, Outcome: outcome, Reason: reason, Error: errText})
	}
	for _, name := range a.Locate {
		out = append(out, BucketResult{Account: a.Uin, Bucket: name, Outcome: outcome, Reason: reason, Error: errText})
	}
	return out
}

// ownBuckets runs the own account's records as an EventBridge event's:
// with the function's own key, locating a bucket without a region with
// GetService and reconciling the region of a record that names no bucket.
func (o *orgRun) ownBuckets(ctx context.Context, a trigger.AccountBuckets) {
	inv := o.inv
	key := inv.ownKey()
	done, skipped := a.Complete(key.appID)
	ev := &trigger.Request{Kind: trigger.KindCLS, Targets: done.Targets, Locate: done.Locate, Reconcile: done.Reconcile,
		Skipped: skipped, Notes: a.Notes}
	res, err := inv.account(ctx, ev, key, inv.log.With().Str("account", a.Uin).Logger())
	acct := AccountResult{Uin: a.Uin, AppID: key.appID, Outcome: AccountReconciled, Summary: &res.Summary}
	if err != nil {
		acct.Outcome, acct.Error = AccountFailed, err.Error()
	}
	o.addAccount(acct, res)
}

// memberBuckets enables the buckets a member's records name, with the
// member's key: one AssumeRole, one GetUserAppId, one Create per bucket. A bucket without a region is deferred (a
// listing would find it; the hourly timer's reconciliation does), and so
// is a record that names no bucket.
func (o *orgRun) memberBuckets(ctx context.Context, a trigger.AccountBuckets) {
	inv, uin, role := o.inv, a.Uin, o.inv.cfg.MemberRole
	log := inv.log.With().Str("account", uin).Logger()
	var deferred []BucketResult
	for _, name := range a.Locate {
		deferred = append(deferred, BucketResult{Account: uin, Bucket: name, Outcome: Deferred,
			Reason: "not started: the record gives no bucket region, and finding it would take a listing of account " + uin +
				"'s buckets, which a CLS event does not make; the hourly reconciliation (the timer) covers it"})
	}
	var notes []string
	if a.Reconcile != nil {
		notes = append(notes, "account "+uin+": a PutBucket record names no bucket: the hourly reconciliation (the timer) covers the account; a CLS event lists no member's buckets")
	}
	acct := AccountResult{Uin: uin}
	// finish adds the results made here (logged here) to those of res.
	finish := func(res *Result) {
		deferred = perService(deferred, inv.cfg.Services)
		res.Results = append(res.Results, deferred...)
		for _, b := range deferred {
			reportBucket(log, b)
		}
		res.Notes = append(res.Notes, notes...)
		res.finish()
		acct.Summary = &res.Summary
		o.addAccount(acct, res)
	}
	if inv.cfg.OrgAll {
		// A record names its account (userIdentity.accountId): with "org",
		// only an account the Organization lists is assumed.
		member, err := o.inOrganization(ctx, uin)
		if err != nil || !member {
			outcome, why := AccountSkipped, "left alone: account "+uin+" is not a member of this Organization (DescribeOrganizationMembers does not list it), so its role is never assumed"
			b, reason, errText := Skipped, why, ""
			if err != nil {
				outcome, why = accountFailure(err, "DescribeOrganizationMembers (whether the Organization lists account "+uin+")")
				why += "; its role is not assumed"
				b, reason = Deferred, why
				if outcome == AccountFailed {
					b, reason, errText = Failed, "", why
				}
			}
			acct.Outcome, acct.Error = outcome, why
			deferred = accountResults(a, b, reason, errText)
			notes = nil
			finish(&Result{})
			return
		}
	}
	if len(a.Targets) == 0 {
		acct.Outcome, acct.Error = AccountDeferred, "no bucket named with its region: nothing to do in this invocation"
		finish(&Result{})
		return
	}
	fail := func(outcome AccountOutcome, msg string) {
		acct.Outcome, acct.Error = outcome, msg
		b := Failed
		if outcome == AccountDeferred {
			b = Deferred
		}
		deferred = append(deferred, accountResults(trigger.AccountBuckets{Uin: uin, Targets: a.Targets}, b, "", msg)...)
		finish(&Result{})
	}

	// The member's APPID is always read: names complete with it, and the
	// filter skips a name whose APPID is another account's, which this
	// member's key must not be sent to sign for.
	key, appID, outcome, why := o.assume(ctx, uin, role, true)
	if outcome != "" {
		fail(outcome, why)
		return
	}
	acct.AppID = appID
	done, skipped := trigger.AccountBuckets{Uin: uin, Targets: a.Targets}.Complete(appID)
	ev := &trigger.Request{Kind: trigger.KindCLS, Targets: done.Targets, Skipped: skipped}
	res, err := inv.account(ctx, ev, accountKey{uin: uin, appID: appID, source: signer.Static{Key: key}}, log)
	acct.Outcome = AccountReconciled
	if err != nil {
		acct.Outcome, acct.Error = AccountFailed, err.Error()
	}
	finish(res)
}

package handler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/picbucket/picbucket/internal/clip"
	"github.com/picbucket/picbucket/internal/config"
	"github.com/picbucket/picbucket/internal/tcapi"
	"github.com/picbucket/picbucket/internal/trigger"
)

// Organization-wide runs (PICBUCKET_ACCOUNTS). The timer invocation lists
// the accounts: its own, and every member of the Organization (org) or the
// members listed. With fan-out it sends one asynchronous invocation of this
// same function per member, carrying a member event, and reconciles its own
// account meanwhile; without, it reconciles every account itself, a few at a
// time. A member event assumes the member's role (STS AssumeRole, signed
// with the function's own key), reads the member's APPID with the assumed
// key (CAM GetUserAppId), and reconciles that account with that key. Every
// API 3.0 call goes through internal/tcapi (the official SDK's common
// client); the calls and their documents are cited there.
//
// One route a file: org.go, the organization-wide invocation and the
// orgRun that collects its accounts; fanout.go, the member invocations
// sent; member.go, a member's run (membership, role, APPID, reconcile);
// trail.go, the organization trail's CLS records. An account's failure is
// judged in classify.go (accountFailure) and logged in report.go
// (reportAccount).

// accountsParallel bounds the accounts reconciled at once without fan-out
// (and the members of a CLS event).
const accountsParallel = 4

// orgRequest is what an organization run asks of each member.
type orgRequest struct {
	reconcile *trigger.Reconcile
	dryRun    bool
}

// organization runs an organization-wide invocation: a member event, or a
// timer (or manual reconciliation) that covers every account.
func (inv *invocation) organization(ctx context.Context) (*Result, error) {
	cfg, ev := inv.cfg, inv.ev
	if !cfg.Org {
		return nil, fmt.Errorf("picbucket: a member event needs PICBUCKET_ACCOUNTS (\"org\" or a list of member UINs); it is not set, so this function works in its own account only")
	}
	if inv.credErr != nil {
		return nil, fmt.Errorf("picbucket: %w", inv.credErr)
	}
	ownUin := inv.id.uin
	if ev.Kind == trigger.KindMember {
		uin := ev.Account.Uin
		switch {
		case ev.Account.Role != "" && ev.Account.Role != cfg.MemberRole:
			// Whoever can invoke the function must not choose the role it
			// assumes: the role is the operator's setting, never the event's.
			return nil, fmt.Errorf("picbucket: member event for account %s names the role %s, but the role assumed is always the one %s sets (%s): an event cannot choose it; drop \"role\" from the event",
				uin, clip.Quote(ev.Account.Role), config.MemberRole, cfg.MemberRole)
		case cfg.ExcludeAccounts[uin]:
			return nil, fmt.Errorf("picbucket: member event for account %s, which PICBUCKET_EXCLUDE_ACCOUNTS leaves alone", uin)
		case !cfg.OrgAll && !slices.Contains(cfg.MemberUins, uin):
			return nil, fmt.Errorf("picbucket: member event for account %s, which PICBUCKET_ACCOUNTS does not list", uin)
		}
	}
	tc, err := inv.apiClient()
	if err != nil {
		return nil, err
	}
	o := &orgRun{inv: inv, tc: tc}
	if ev.Kind == trigger.KindMember {
		if uin := ev.Account.Uin; cfg.OrgAll && uin != ownUin {
			// Whoever can invoke the function can send a member event: the
			// account must be the Organization's before its role is assumed.
			switch member, err := o.inOrganization(ctx, uin); {
			case err != nil:
				return nil, fmt.Errorf("picbucket: member event for account %s: whether the Organization lists it could not be checked, so its role is not assumed: %w", uin, err)
			case !member:
				return nil, fmt.Errorf("picbucket: member event for account %s, which is not a member of this Organization (DescribeOrganizationMembers does not list it): its role is never assumed", uin)
			}
		}
		req := orgRequest{reconcile: ev.Reconcile, dryRun: ev.DryRun != nil && *ev.DryRun}
		o.member(ctx, ev.Account.Uin, cfg.MemberRole, req)
		return o.result(string(trigger.KindMember))
	}
	orgWide := ev.Kind == trigger.KindTimer || ev.Kind == trigger.KindManual
	if !orgWide || ev.Reconcile == nil || len(ev.Targets) > 0 || len(ev.Locate) > 0 {
		// Bucket events (EventBridge, COS, named buckets) concern the
		// function's own account: CloudAudit delivers only its own to its
		// EventBridge bus, and a COS trigger is on one of its buckets. A
		// PutBucket record that names no bucket reconciles a region of the
		// own account, never the organization's.
		return inv.account(ctx, ev, inv.ownKey(), inv.log.With().Str("account", ownUin).Logger())
	}
	o.everyAccount(ctx, orgRequest{reconcile: ev.Reconcile, dryRun: cfg.DryRun || (ev.DryRun != nil && *ev.DryRun)})
	return o.result(string(ev.Kind))
}

// apiClient is the API 3.0 client signed with the function's own key. It
// sends nothing until called.
func (inv *invocation) apiClient() (*tcapi.Client, error) {
	tc, err := tcapi.New(inv.creds,
		tcapi.Options{Region: inv.id.region, Endpoint: inv.cfg.APIEndpoint})
	if err != nil {
		return nil, fmt.Errorf("picbucket: %w", err)
	}
	return tc, nil
}

// orgRun collects the accounts' results.
type orgRun struct {
	inv *invocation
	tc  *tcapi.Client

	mu       sync.Mutex
	accounts []AccountResult
	buckets  []BucketResult
	results  []*Result
	notes    []string
	errs     []error
}

// addAccount records one account's outcome and writes its log line.
func (o *orgRun) addAccount(a AccountResult, res *Result) {
	o.mu.Lock()
	o.accounts = append(o.accounts, a)
	if res != nil {
		o.buckets = append(o.buckets, res.Results...)
		// The rows live in o.buckets alone: result reads only the counts.
		counts := *res
		counts.Results = nil
		o.results = append(o.results, &counts)
		o.notes = append(o.notes, res.Notes...)
	}
	o.mu.Unlock()
	reportAccount(o.inv.log, a)
}

// everyAccount covers the function's own account and every member.
func (o *orgRun) everyAccount(ctx context.Context, req orgRequest) {
	inv := o.inv
	cfg := inv.cfg
	own := make(chan struct{})
	go func() {
		defer close(own)
		if cfg.ExcludeAccounts[inv.id.uin] {
			o.addAccount(AccountResult{Uin: inv.id.uin, Outcome: AccountSkipped, Error: "left alone: PICBUCKET_EXCLUDE_ACCOUNTS"}, nil)
			return
		}
		o.reconcileWith(ctx, inv.ownKey(), req)
	}()
	defer func() { <-own }()
	if cfg.Fanout {
		// The Invokes go out as the member pages arrive, beside the own
		// account's work.
		o.fanOut(ctx, req)
		return
	}
	var todo []string
	o.recordListErr(o.memberPages(ctx, func(uins []string) {
		for _, uin := range uins {
			if o.covers(uin) {
				todo = append(todo, uin)
			}
		}
	}))
	startEach(slices.Values(todo), accountsParallel, o.stopAt(ctx), inv.h.now,
		func(uin string) { o.member(ctx, uin, cfg.MemberRole, req) },
		func(uin string) {
			o.addAccount(AccountResult{Uin: uin, Outcome: AccountDeferred, Error: "not started: too close to the invocation deadline"}, nil)
		})
}

// stopAt is when to stop starting members: PICBUCKET_DEADLINE_MARGIN (at
// most a fifth of the time left) before ctx's deadline; zero without one.
func (o *orgRun) stopAt(ctx context.Context) time.Time {
	d, ok := ctx.Deadline()
	if !ok {
		return time.Time{}
	}
	return d.Add(-min(o.inv.cfg.DeadlineMargin, d.Sub(o.inv.h.now())/5))
}

// covers reports whether uin is a member this run covers: not the
// function's own account, not excluded (an excluded one is recorded as
// skipped).
func (o *orgRun) covers(uin string) bool {
	if uin == o.inv.id.uin {
		return false
	}
	if o.inv.cfg.ExcludeAccounts[uin] {
		o.addAccount(AccountResult{Uin: uin, Outcome: AccountSkipped, Error: "left alone: " + "PICBUCKET_EXCLUDE_ACCOUNTS"}, nil)
		return false
	}
	return true
}

// recordListErr records a failure to list the members.
func (o *orgRun) recordListErr(err error) {
	if err == nil {
		return
	}
	o.mu.Lock()
	o.errs = append(o.errs, fmt.Errorf("listing the organization's members: %w", err))
	o.mu.Unlock()
}

// memberPages hands the member UINs to page as they are known: the
// Organization's, a page of DescribeOrganizationMembers at a time, or the
// configured list at once.
func (o *orgRun) memberPages(ctx context.Context, page func([]string)) error {
	if !o.inv.cfg.OrgAll {
		page(o.inv.cfg.MemberUins)
		return nil
	}
	return o.tc.ListMemberPages(ctx, func(ms []tcapi.Member) {
		uins := make([]string, 0, len(ms))
		for _, m := range ms {
			uins = append(uins, fmt.Sprint(m.Uin))
		}
		page(uins)
	})
}

// result merges the accounts into the invocation's Result and error: the
// invocation fails when any account failed, naming the failing UINs.
func (o *orgRun) result(trig string) (*Result, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	// The decoded event's notes come first: they say what the event asked.
	res := &Result{Trigger: trig, Results: o.buckets, Notes: append(slices.Clone(o.inv.ev.Notes), o.notes...)}
	for _, r := range o.results {
		res.DryRun = res.DryRun || r.DryRun
		res.Requests += r.Requests
		res.Retries += r.Retries
		res.Summary.Filtered += r.Summary.Filtered
		for id, s := range r.Summary.ByService { // finish keeps them
			res.Summary.addFiltered(id, s.Filtered)
		}
	}
	if o.tc != nil {
		res.APIRequests = o.tc.Requests()
	}
	res.finish()
	slices.SortFunc(o.accounts, func(a, b AccountResult) int { return strings.Compare(a.Uin, b.Uin) })
	res.Accounts = o.accounts
	var failed []string
	for _, a := range o.accounts {
		if a.Outcome == AccountFailed {
			failed = append(failed, a.Uin+": "+a.Error)
		}
	}
	errs := o.errs
	if len(failed) > 0 {
		errs = append(errs, fmt.Errorf("%d of %d accounts failed: %s", len(failed), len(o.accounts), strings.Join(failed, "; ")))
	}
	if len(errs) > 0 {
		return res, fmt.Errorf("picbucket: %w", errors.Join(errs...))
	}
	return res, nil
}

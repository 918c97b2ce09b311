package handler

import (
	"cmp"
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/picbucket/picbucket/internal/retry"
	"github.com/picbucket/picbucket/internal/tcapi"
	"github.com/picbucket/picbucket/internal/trigger"
	"github.com/picbucket/picbucket/signer"
)

// A member's run: the Organization must list the account (with "org"),
// then its role is assumed, its APPID read with the assumed key, and the
// account reconciled with that key.

// member assumes the member's role, reads its APPID and reconciles it.
func (o *orgRun) member(ctx context.Context, uin, role string, req orgRequest) {
	if uin == o.inv.id.uin {
		o.reconcileWith(ctx, o.inv.ownKey(), req)
		return
	}
	key, appID, outcome, why := o.assume(ctx, uin, role, true)
	if outcome != "" {
		o.addAccount(AccountResult{Uin: uin, Outcome: outcome, Error: why}, nil)
		return
	}
	o.reconcileWith(ctx, accountKey{uin: uin, appID: appID, source: signer.Static{Key: key}}, req)
}

// inOrganization reports whether the Organization lists account uin
// (PICBUCKET_ACCOUNTS=org): one DescribeOrganizationMembers with SearchKey
// (tcapi.FindMember), sent again after each throttle until the time to
// start accounts runs out. An error means the membership is unknown.
func (o *orgRun) inOrganization(ctx context.Context, uin string) (bool, error) {
	n, err := strconv.ParseInt(uin, 10, 64)
	if err != nil || n <= 0 {
		return false, nil
	}
	tc := o.tc.PassThrottles()
	loop := retry.Loop{Now: o.inv.h.now, StopAt: o.stopAt(ctx), Classify: throttledOnly}
	var member bool
	_, err = loop.Do(ctx, func(ctx context.Context) (err error) {
		_, member, err = tc.FindMember(ctx, n)
		return err
	})
	return member, err
}

// assume assumes role in member account uin (the key lives no longer than
// the invocation can still run) and, when withAppID, reads the member's
// APPID with that key. On failure it returns the account's outcome and why.
func (o *orgRun) assume(ctx context.Context, uin, role string, withAppID bool) (key signer.Credentials, appID string, outcome AccountOutcome, why string) {
	duration := 12 * time.Hour
	if d, ok := ctx.Deadline(); ok {
		duration = d.Sub(o.inv.h.now())
	}
	key, _, err := o.tc.AssumeRole(ctx, uin, role, tcapi.SessionName(o.inv.fc.RequestID), duration)
	if err != nil {
		outcome, why = accountFailure(err, fmt.Sprintf("AssumeRole of %s in account %s", role, uin))
		if tcapi.IsRoleRefused(err) {
			why += fmt.Sprintf(": the role %s of account %s must exist and its trust policy must trust this account's function role (the management account %s)",
				role, uin, cmp.Or(o.inv.id.uin, "that runs this function"))
		}
		return key, "", outcome, why
	}
	o.inv.secrets.add(key)
	if !withAppID {
		return key, "", "", ""
	}
	acct, err := o.tc.With(key).GetUserAppID(ctx)
	if err != nil {
		outcome, why = accountFailure(err, "GetUserAppId in account "+uin)
		return key, "", outcome, why
	}
	return key, acct.AppID, "", ""
}

// reconcileWith reconciles one account with its key and records it.
func (o *orgRun) reconcileWith(ctx context.Context, key accountKey, req orgRequest) {
	inv := o.inv
	ev := &trigger.Request{Kind: inv.ev.Kind, Reconcile: req.reconcile, DryRun: &req.dryRun}
	res, err := inv.account(ctx, ev, key, inv.log.With().Str("account", key.uin).Logger())
	a := AccountResult{Uin: key.uin, AppID: key.appID, Outcome: AccountReconciled, Summary: &res.Summary}
	if err != nil {
		a.Outcome, a.Error = AccountFailed, err.Error()
	}
	o.addAccount(a, res)
}

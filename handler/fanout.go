package handler

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/picbucket/picbucket/internal/pace"
	"github.com/picbucket/picbucket/internal/retry"
	"github.com/picbucket/picbucket/internal/tcapi"
	"github.com/picbucket/picbucket/internal/trigger"
)

// The fan-out: a timer of an organization run (PICBUCKET_FANOUT, the
// default) sends one asynchronous invocation of this same function per
// member, carrying a member event, at a pace under the documented limits.

// Fan-out tuning.
const (
	// fanoutParallel bounds the Invoke requests in flight: at invokeQPS,
	// enough for answers that take up to 1.28 s.
	fanoutParallel = 128
	// invokeQPS is scf Invoke's documented limit, 100 requests per second
	// (https://cloud.tencent.com/document/api/583/17243, "默认接口请求频率
	// 限制：100次/秒"; https://www.tencentcloud.com/document/api/583/17243).
	// The fan-out's pacer starts at pace.Share of it, never goes above, and
	// learns lower when throttled.
	invokeQPS = 100
	// membersQPS is organization DescribeOrganizationMembers' documented
	// limit, 20 requests per second
	// (https://www.tencentcloud.com/document/api/1031/52040). With
	// PICBUCKET_ACCOUNTS=org every member invocation checks its account
	// with one such request (inOrganization), signed with the same
	// management identity as the listing: the fan-out paces its listing
	// pages and its Invokes together at pace.Share of it, so that the
	// member invocations' checks arrive under it.
	membersQPS = 20
)

// memberEvent is the event a fan-out sends to the function for one member.
type memberEvent struct {
	Account   trigger.Account    `json:"account"`
	Reconcile *trigger.Reconcile `json:"reconcile,omitempty"`
	DryRun    bool               `json:"dryRun,omitempty"`
}

// fanOut sends one asynchronous invocation of this function per member.
// The members are invoked as their listing pages arrive (the listing runs
// ahead on its own goroutine), at a pace under scf Invoke's documented
// limit (invokeQPS) that a throttle lowers (internal/pace, the control law
// the COS requests use), at most fanoutParallel at once. A throttled
// Invoke (RequestLimitExceeded) is sent again, after the pacer's spacing
// and a jittered wait, until the member is invoked or the time to start
// members runs out (stopAt); a member not invoked by then is deferred,
// with the reason, and the next timer covers it.
func (o *orgRun) fanOut(ctx context.Context, req orgRequest) {
	inv := o.inv
	id := inv.id
	reconcile := req.reconcile
	if reconcile != nil && len(reconcile.Regions)+len(reconcile.Include)+len(reconcile.Exclude) == 0 {
		reconcile = nil
	}

	// Pacer waits end at stopAt; the Invokes themselves may run to ctx's
	// deadline.
	waitCtx := ctx
	if stopAt := o.stopAt(ctx); !stopAt.IsZero() {
		var cancel context.CancelFunc
		waitCtx, cancel = context.WithDeadline(ctx, stopAt)
		defer cancel()
	}
	// With "org", each member invocation spends one request of
	// DescribeOrganizationMembers' 20/s (inOrganization), as does each
	// listing page: the pages and the Invokes share one pacer under that
	// limit, so that the checks the Invokes cause arrive under it too.
	pacer := pace.NewLimited(inv.h.Now, invokeQPS)
	pageWait := func() {}
	if inv.cfg.OrgAll {
		pacer = pace.NewLimited(inv.h.Now, min(invokeQPS, membersQPS))
		pageWait = func() { _ = pacer.Wait(waitCtx) }
	}

	// The listing feeds todo; it never waits for the Invokes.
	todo := make(chan string, tcapi.PageSize*tcapi.MaxPages+len(inv.cfg.MemberUins))
	go func() {
		defer close(todo)
		pageWait()
		o.recordListErr(o.memberPages(ctx, func(uins []string) {
			for _, uin := range uins {
				if o.covers(uin) {
					todo <- uin
				}
			}
			pageWait() // before the next page is asked for
		}))
	}()

	tc := o.tc.PassThrottles()
	startEach(chanValues(todo), fanoutParallel, time.Time{}, inv.h.now, func(uin string) {
		if id.function == "" {
			o.addAccount(AccountResult{Uin: uin, Outcome: AccountFailed, Error: "fan-out needs the function's name: SCF_FUNCTIONNAME is not set (set PICBUCKET_FANOUT=false to reconcile every account in this invocation)"}, nil)
			return
		}
		body, _ := json.Marshal(memberEvent{Account: trigger.Account{Uin: uin, Role: inv.cfg.MemberRole}, Reconcile: reconcile, DryRun: req.dryRun})
		in := tcapi.InvokeInput{FunctionName: id.function, Qualifier: id.qualifier, Namespace: id.namespace, Region: id.region, ClientContext: string(body)}
		o.invoke(ctx, waitCtx, tc, pacer, uin, in)
	}, nil)
}

// invoke sends one member's Invoke through the one retry loop: paced, and
// sent again after each throttle until the pacer's waits reach waitCtx's
// end; and records the member.
func (o *orgRun) invoke(ctx, waitCtx context.Context, tc *tcapi.Client, pacer *pace.Pacer, uin string, in tcapi.InvokeInput) {
	what := "Invoke of " + in.FunctionName + " for account " + uin
	var out tcapi.InvokeResult
	loop := retry.Loop{Pacer: pacer, Now: o.inv.h.now, Classify: throttledOnly}
	sent, err := loop.Do(waitCtx, func(context.Context) (err error) {
		out, err = tc.Invoke(ctx, in) // the Invoke itself may run to ctx's deadline
		return err
	})
	switch {
	case err == nil:
		o.addAccount(AccountResult{Uin: uin, Outcome: AccountFannedOut, InvocationID: cmp.Or(out.FunctionRequestID, out.RequestID)}, nil)
	case errors.Is(err, retry.ErrCut) && sent == 0:
		o.addAccount(AccountResult{Uin: uin, Outcome: AccountDeferred,
			Error: "not invoked: the invocation's deadline came first (Invoke paced at " + paceText(pacer) + ")"}, nil)
	case errors.Is(err, retry.ErrCut):
		o.addAccount(AccountResult{Uin: uin, Outcome: AccountDeferred,
			Error: fmt.Sprintf("%s throttled %d times until the invocation's deadline (Invoke paced at %s): %v", what, sent, paceText(pacer), err)}, nil)
	default:
		a := AccountResult{Uin: uin}
		a.Outcome, a.Error = accountFailure(err, what)
		o.addAccount(a, nil)
	}
}

// paceText describes the pacer's rate.
func paceText(p *pace.Pacer) string {
	if r := p.Rate(); r > 0 {
		return fmt.Sprintf("%.1f/s", r)
	}
	return "no limit"
}

package handler

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/picbucket/picbucket/internal/retry"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/picbucket/picbucket/internal/clip"
	"github.com/picbucket/picbucket/internal/config"
	"github.com/picbucket/picbucket/internal/pace"
	"github.com/picbucket/picbucket/internal/tcapi"
	"github.com/picbucket/picbucket/internal/trigger"
	"github.com/picbucket/picbucket/signer"
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

// Organization tuning.
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
	// accountsParallel bounds the accounts reconciled at once without fan-out.
	accountsParallel = 4
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
	ownUin := inv.ownUin()
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
	o := &orgRun{inv: inv, tc: tc, ownUin: ownUin}
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
		return inv.account(ctx, ev, accountKey{uin: ownUin, appID: cmp.Or(cfg.AppID, inv.fc.TencentcloudAppID),
			source: signer.Env{Getenv: inv.getenv}}, inv.log.With().Str("account", ownUin).Logger())
	}
	o.everyAccount(ctx, orgRequest{reconcile: ev.Reconcile, dryRun: cfg.DryRun || (ev.DryRun != nil && *ev.DryRun)})
	return o.result(string(ev.Kind))
}

// ownUin is the function's own account's UIN, "" when unknown.
func (inv *invocation) ownUin() string {
	return cmp.Or(strings.TrimSpace(inv.getenv("TENCENTCLOUD_UIN")), inv.fc.TencentcloudUin)
}

// apiClient is the API 3.0 client signed with the function's own key. It
// sends nothing until called.
func (inv *invocation) apiClient() (*tcapi.Client, error) {
	tc, err := tcapi.New(inv.creds,
		tcapi.Options{Region: inv.region(), Endpoint: inv.cfg.APIEndpoint})
	if err != nil {
		return nil, fmt.Errorf("picbucket: %w", err)
	}
	return tc, nil
}

// region is the function's region: Invoke and AssumeRole need one.
func (inv *invocation) region() string {
	return cmp.Or(strings.TrimSpace(inv.getenv("TENCENTCLOUD_REGION")), inv.fc.TencentcloudRegion, "ap-guangzhou")
}

// orgRun collects the accounts' results.
type orgRun struct {
	inv    *invocation
	tc     *tcapi.Client
	ownUin string

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
		o.results = append(o.results, res)
		o.notes = append(o.notes, res.Notes...)
	}
	o.mu.Unlock()
	log := o.inv.log
	ev := log.Info()
	switch a.Outcome {
	case AccountFailed:
		ev = always(log, zerolog.ErrorLevel)
	case AccountDeferred:
		ev = log.Warn()
	}
	ev = ev.Str("account", a.Uin).Str("appId", a.AppID).Str("outcome", string(a.Outcome))
	if a.Error != "" {
		ev = ev.Str("error", a.Error)
	}
	if a.InvocationID != "" {
		ev = ev.Str("invocationId", a.InvocationID)
	}
	if a.Summary != nil {
		ev = summaryFields(ev, *a.Summary)
	}
	ev.Msg("account")
}

// reconcileWith reconciles one account with its key and records it.
func (o *orgRun) reconcileWith(ctx context.Context, uin, appID string, source signer.Source, req orgRequest) {
	inv := o.inv
	ev := &trigger.Request{Kind: inv.ev.Kind, Reconcile: req.reconcile, DryRun: &req.dryRun}
	res, err := inv.account(ctx, ev, accountKey{uin: uin, appID: appID, source: source}, inv.log.With().Str("account", uin).Logger())
	a := AccountResult{Uin: uin, AppID: appID, Outcome: AccountReconciled, Summary: &res.Summary}
	if err != nil {
		a.Outcome, a.Error = AccountFailed, err.Error()
	}
	o.addAccount(a, res)
}

// member assumes the member's role, reads its APPID and reconciles it.
func (o *orgRun) member(ctx context.Context, uin, role string, req orgRequest) {
	if uin == o.ownUin {
		o.reconcileWith(ctx, uin, cmp.Or(o.inv.cfg.AppID, o.inv.fc.TencentcloudAppID), signer.Env{Getenv: o.inv.getenv}, req)
		return
	}
	key, appID, outcome, why := o.assume(ctx, uin, role, true)
	if outcome != "" {
		o.addAccount(AccountResult{Uin: uin, Outcome: outcome, Error: why}, nil)
		return
	}
	o.reconcileWith(ctx, uin, appID, signer.Static{Key: key}, req)
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
				role, uin, cmp.Or(o.ownUin, "that runs this function"))
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

// throttledOnly is the retry rule of API 3.0 calls the handler sends again
// itself: a throttle waits and goes again, anything else is final.
func throttledOnly(err error) retry.Rule {
	if tcapi.IsThrottled(err) {
		return retry.Rule{Kind: retry.Throttled}
	}
	return retry.Rule{Kind: retry.Final}
}

// accountFailure classifies an API 3.0 error: throttling and the deadline
// defer the account, anything else fails it.
func accountFailure(err error, what string) (AccountOutcome, string) {
	if tcapi.IsThrottled(err) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return AccountDeferred, what + " did not finish in time: " + err.Error()
	}
	return AccountFailed, what + " failed: " + err.Error()
}

// everyAccount covers the function's own account and every member.
func (o *orgRun) everyAccount(ctx context.Context, req orgRequest) {
	inv := o.inv
	cfg := inv.cfg
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if cfg.ExcludeAccounts[o.ownUin] {
			o.addAccount(AccountResult{Uin: o.ownUin, Outcome: AccountSkipped, Error: "left alone: PICBUCKET_EXCLUDE_ACCOUNTS"}, nil)
			return
		}
		o.reconcileWith(ctx, o.ownUin, cmp.Or(cfg.AppID, inv.fc.TencentcloudAppID), signer.Env{Getenv: inv.getenv}, req)
	}()
	if cfg.Fanout {
		// The Invokes go out as the member pages arrive, beside the own
		// account's work.
		o.fanOut(ctx, req)
		wg.Wait()
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
	sem := make(chan struct{}, accountsParallel)
	stopAt := o.stopAt(ctx)
	for _, uin := range todo {
		sem <- struct{}{}
		if !stopAt.IsZero() && !inv.h.now().Before(stopAt) {
			<-sem
			o.addAccount(AccountResult{Uin: uin, Outcome: AccountDeferred, Error: "not started: too close to the invocation deadline"}, nil)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			o.member(ctx, uin, cfg.MemberRole, req)
		}()
	}
	wg.Wait()
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
	if uin == o.ownUin {
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
	fn := cmp.Or(strings.TrimSpace(inv.getenv("SCF_FUNCTIONNAME")), inv.fc.FunctionName)
	qualifier := cmp.Or(strings.TrimSpace(inv.getenv("SCF_FUNCTIONVERSION")), inv.fc.FunctionVersion, "$LATEST")
	namespace := cmp.Or(strings.TrimSpace(inv.getenv("SCF_NAMESPACE")), inv.fc.Namespace, "default")
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
	var wg sync.WaitGroup
	sem := make(chan struct{}, fanoutParallel)
	for uin := range todo {
		if fn == "" {
			o.addAccount(AccountResult{Uin: uin, Outcome: AccountFailed, Error: "fan-out needs the function's name: SCF_FUNCTIONNAME is not set (set PICBUCKET_FANOUT=false to reconcile every account in this invocation)"}, nil)
			continue
		}
		body, _ := json.Marshal(memberEvent{Account: trigger.Account{Uin: uin, Role: inv.cfg.MemberRole}, Reconcile: reconcile, DryRun: req.dryRun})
		in := tcapi.InvokeInput{FunctionName: fn, Qualifier: qualifier, Namespace: namespace, Region: inv.region(), ClientContext: string(body)}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			o.invoke(ctx, waitCtx, tc, pacer, uin, in)
		}()
	}
	wg.Wait()
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

// CLS events (trigger "cls"): the organization's CloudAudit records, each
// in its own account (userIdentity.accountId). The function's own account
// is run as for an EventBridge event, with its own key. A member in scope
// (PICBUCKET_ACCOUNTS is "org" or lists it, PICBUCKET_EXCLUDE_ACCOUNTS does
// not) gets, in this invocation, one AssumeRole of PICBUCKET_MEMBER_ROLE,
// one GetUserAppId (the member's APPID), and one Create per named
// bucket signed with the assumed key: no listing and no Invoke, a few
// accounts at a time. Any other account is skipped, naming the setting,
// without a request.

// cls runs a CLS event.
func (inv *invocation) cls(ctx context.Context) (*Result, error) {
	cfg, ev := inv.cfg, inv.ev
	ownUin := inv.ownUin()
	if ownUin == "" && len(ev.Accounts) > 0 {
		return nil, errors.New("picbucket: a CLS event's records name their account, but this function's own account is unknown " +
			"(neither TENCENTCLOUD_UIN nor the invocation's context gives it), so its records cannot be told from its members'; set TENCENTCLOUD_UIN")
	}
	o := &orgRun{inv: inv, ownUin: ownUin}
	for _, s := range ev.Skipped {
		b := BucketResult{Bucket: s.Bucket, Region: s.Region, Outcome: Skipped, Reason: s.Reason}
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
		res := &Result{Results: accountResults(a, Skipped, "left alone: "+why, "")}
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

	var wg sync.WaitGroup
	if own != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o.ownBuckets(ctx, *own)
		}()
	}
	sem := make(chan struct{}, accountsParallel)
	stopAt := o.stopAt(ctx)
	for _, a := range members {
		sem <- struct{}{}
		if !stopAt.IsZero() && !inv.h.now().Before(stopAt) {
			<-sem
			why := "not started: too close to the invocation deadline; the hourly timer covers the account"
			res := &Result{Results: accountResults(a, Deferred, why, "")}
			res.finish()
			o.addAccount(AccountResult{Uin: a.Uin, Outcome: AccountDeferred, Error: why, Summary: &res.Summary}, res)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			o.memberBuckets(ctx, a)
		}()
	}
	wg.Wait()
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
	appID := cmp.Or(inv.cfg.AppID, inv.fc.TencentcloudAppID)
	done, skipped := a.Complete(appID)
	ev := &trigger.Request{Kind: trigger.KindCLS, Targets: done.Targets, Locate: done.Locate, Reconcile: done.Reconcile,
		Skipped: skipped, Notes: a.Notes}
	res, err := inv.account(ctx, ev, accountKey{uin: a.Uin, appID: appID, source: signer.Env{Getenv: inv.getenv}, credErr: inv.credErr},
		inv.log.With().Str("account", a.Uin).Logger())
	acct := AccountResult{Uin: a.Uin, AppID: appID, Outcome: AccountReconciled, Summary: &res.Summary}
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

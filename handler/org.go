package handler

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

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
	// fanoutParallel bounds the Invoke requests in flight.
	fanoutParallel = 32
	// accountsParallel bounds the accounts reconciled at once without fan-out.
	accountsParallel = 4
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
	ownUin := cmp.Or(strings.TrimSpace(inv.getenv("TENCENTCLOUD_UIN")), inv.fc.TencentcloudUin)
	if ev.Kind == trigger.KindMember {
		uin := ev.Account.Uin
		switch {
		case cfg.ExcludeAccounts[uin]:
			return nil, fmt.Errorf("picbucket: member event for account %s, which PICBUCKET_EXCLUDE_ACCOUNTS leaves alone", uin)
		case !cfg.OrgAll && !slices.Contains(cfg.MemberUins, uin):
			return nil, fmt.Errorf("picbucket: member event for account %s, which PICBUCKET_ACCOUNTS does not list", uin)
		}
	}
	tc, err := tcapi.New(inv.creds, tcapi.Options{Region: inv.region(), Endpoint: cfg.APIEndpoint})
	if err != nil {
		return nil, fmt.Errorf("picbucket: %w", err)
	}
	o := &orgRun{inv: inv, tc: tc, ownUin: ownUin}
	if ev.Kind == trigger.KindMember {
		role := cmp.Or(ev.Account.Role, cfg.MemberRole)
		req := orgRequest{reconcile: ev.Reconcile, dryRun: ev.DryRun != nil && *ev.DryRun}
		o.member(ctx, ev.Account.Uin, role, req)
		return o.result(string(trigger.KindMember))
	}
	if ev.Reconcile == nil || len(ev.Targets) > 0 || len(ev.Locate) > 0 {
		// Bucket events (EventBridge, COS, named buckets) concern the
		// function's own account: CloudAudit delivers only its own.
		return inv.account(ctx, ev, accountKey{uin: ownUin, appID: cmp.Or(cfg.AppID, inv.fc.TencentcloudAppID),
			source: signer.Env{Getenv: inv.getenv}}, inv.log.With().Str("account", ownUin).Logger())
	}
	o.everyAccount(ctx, orgRequest{reconcile: ev.Reconcile, dryRun: cfg.DryRun || (ev.DryRun != nil && *ev.DryRun)})
	return o.result(string(ev.Kind))
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
	a := AccountResult{Uin: uin}
	duration := 12 * time.Hour
	if d, ok := ctx.Deadline(); ok {
		// The key lives no longer than the invocation can still run.
		duration = time.Until(d)
	}
	key, _, err := o.tc.AssumeRole(ctx, uin, role, tcapi.SessionName(o.inv.fc.RequestID), duration)
	if err != nil {
		a.Outcome, a.Error = accountFailure(err, fmt.Sprintf("AssumeRole of %s in account %s", role, uin))
		if tcapi.IsRoleRefused(err) {
			a.Error += fmt.Sprintf(": the role %s of account %s must exist and its trust policy must trust this account's function role (the management account %s)",
				role, uin, cmp.Or(o.ownUin, "that runs this function"))
		}
		o.addAccount(a, nil)
		return
	}
	o.inv.secrets.add(key)
	acct, err := o.tc.With(key).GetUserAppID(ctx)
	if err != nil {
		a.Outcome, a.Error = accountFailure(err, "GetUserAppId in account "+uin)
		o.addAccount(a, nil)
		return
	}
	o.reconcileWith(ctx, uin, acct.AppID, signer.Static{Key: key}, req)
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
	members, listErr := o.members(ctx)
	var todo []string
	for _, uin := range members {
		if uin == o.ownUin {
			continue
		}
		if cfg.ExcludeAccounts[uin] {
			o.addAccount(AccountResult{Uin: uin, Outcome: AccountSkipped, Error: "left alone: " + "PICBUCKET_EXCLUDE_ACCOUNTS"}, nil)
			continue
		}
		todo = append(todo, uin)
	}
	if listErr != nil {
		o.mu.Lock()
		o.errs = append(o.errs, fmt.Errorf("listing the organization's members: %w", listErr))
		o.mu.Unlock()
	}

	var wg sync.WaitGroup
	own := func() {
		defer wg.Done()
		if cfg.ExcludeAccounts[o.ownUin] {
			o.addAccount(AccountResult{Uin: o.ownUin, Outcome: AccountSkipped, Error: "left alone: PICBUCKET_EXCLUDE_ACCOUNTS"}, nil)
			return
		}
		o.reconcileWith(ctx, o.ownUin, cmp.Or(cfg.AppID, inv.fc.TencentcloudAppID), signer.Env{Getenv: inv.getenv}, req)
	}
	if cfg.Fanout {
		// The Invokes go out at once, beside the own account's work.
		wg.Add(2)
		go own()
		go func() {
			defer wg.Done()
			o.fanOut(ctx, todo, req)
		}()
		wg.Wait()
		return
	}
	wg.Add(1)
	go own()
	sem := make(chan struct{}, accountsParallel)
	stopAt := time.Time{}
	if d, ok := ctx.Deadline(); ok {
		stopAt = d.Add(-min(cfg.DeadlineMargin, time.Until(d)/5))
	}
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

// members lists the member UINs: the Organization's, or the configured list.
func (o *orgRun) members(ctx context.Context) ([]string, error) {
	if !o.inv.cfg.OrgAll {
		return o.inv.cfg.MemberUins, nil
	}
	ms, err := o.tc.ListMembers(ctx)
	var uins []string
	for _, m := range ms {
		uins = append(uins, fmt.Sprint(m.Uin))
	}
	return uins, err
}

// memberEvent is the event a fan-out sends to the function for one member.
type memberEvent struct {
	Account   trigger.Account    `json:"account"`
	Reconcile *trigger.Reconcile `json:"reconcile,omitempty"`
	DryRun    bool               `json:"dryRun,omitempty"`
}

// fanOut sends one asynchronous invocation of this function per member, a
// bounded number at a time.
func (o *orgRun) fanOut(ctx context.Context, uins []string, req orgRequest) {
	inv := o.inv
	fn := cmp.Or(strings.TrimSpace(inv.getenv("SCF_FUNCTIONNAME")), inv.fc.FunctionName)
	qualifier := cmp.Or(strings.TrimSpace(inv.getenv("SCF_FUNCTIONVERSION")), inv.fc.FunctionVersion, "$LATEST")
	namespace := cmp.Or(strings.TrimSpace(inv.getenv("SCF_NAMESPACE")), inv.fc.Namespace, "default")
	var wg sync.WaitGroup
	sem := make(chan struct{}, fanoutParallel)
	for _, uin := range uins {
		if fn == "" {
			o.addAccount(AccountResult{Uin: uin, Outcome: AccountFailed, Error: "fan-out needs the function's name: SCF_FUNCTIONNAME is not set (set PICBUCKET_FANOUT=false to reconcile every account in this invocation)"}, nil)
			continue
		}
		reconcile := req.reconcile
		if reconcile != nil && len(reconcile.Regions)+len(reconcile.Include)+len(reconcile.Exclude) == 0 {
			reconcile = nil
		}
		body, _ := json.Marshal(memberEvent{Account: trigger.Account{Uin: uin, Role: inv.cfg.MemberRole}, Reconcile: reconcile, DryRun: req.dryRun})
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out, err := o.tc.Invoke(ctx, tcapi.InvokeInput{FunctionName: fn, Qualifier: qualifier, Namespace: namespace,
				Region: inv.region(), ClientContext: string(body)})
			a := AccountResult{Uin: uin, Outcome: AccountFannedOut, InvocationID: cmp.Or(out.FunctionRequestID, out.RequestID)}
			if err != nil {
				a.Outcome, a.Error = accountFailure(err, "Invoke of "+fn+" for account "+uin)
			}
			o.addAccount(a, nil)
		}()
	}
	wg.Wait()
}

// result merges the accounts into the invocation's Result and error: the
// invocation fails when any account failed, naming the failing UINs.
func (o *orgRun) result(trig string) (*Result, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	res := &Result{Trigger: trig, Results: o.buckets, Notes: o.notes}
	for _, r := range o.results {
		res.DryRun = res.DryRun || r.DryRun
		res.Requests += r.Requests
		res.Retries += r.Retries
		res.Summary.Filtered += r.Summary.Filtered
	}
	res.APIRequests = o.tc.Requests()
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

package handler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/ciservice"
	"github.com/picbucket/picbucket/internal/config"
	"github.com/picbucket/picbucket/internal/cosapi"
	"github.com/picbucket/picbucket/internal/retry"
	"github.com/picbucket/picbucket/internal/trigger"
)

// Services: with PICBUCKET_SERVICES set, an account's run is one pipeline
// per CI service (plan -> execute -> collect, as account.go wires them),
// all at once, then one merged Result. Each pipeline has its own plan,
// collector, seen-set and stop judgement, so every (bucket, service) pair
// has one outcome, and a refusal of one service's API stops only that
// service. What the pipelines share:
//
//   - the reads that do not depend on the service (sharedReads): one
//     GetService listing and one GetBucketTagging per bucket, each with
//     its retries, serve every service, whether they succeed or fail;
//   - one executor: the PICBUCKET_MAX_ENABLE cap counts the Creates of
//     every pair, and at most PICBUCKET_CONCURRENCY jobs run at once
//     across the services (gate);
//   - the retry loop and its pacer: one account, one rate.
//
// With PICBUCKET_SERVICES unset none of this runs: account.go's pipeline
// is the image-processing run it always was, byte for byte.

// serviceAPI is what a Cloud offers for the CI services other than image
// processing; *cosapi.Client implements it.
type serviceAPI interface {
	ListServiceEnabled(ctx context.Context, svc ciservice.ID, region string, page, pageSize int) (cosapi.EnabledPage, error)
	IsServiceEnabled(ctx context.Context, svc ciservice.ID, t bucket.Target) (bool, string, error)
	EnableService(ctx context.Context, svc ciservice.ID, t bucket.Target) (cosapi.Enabled, error)
}

// serviceView is the account's Cloud as one service's pipeline sees it:
// the listing, the read-back and the Create are the service's; the bucket
// listing and the tag reads go through shared (listBucketsOnce, tagsOnce).
type serviceView struct {
	Cloud
	api    serviceAPI
	svc    ciservice.Service
	shared *sharedReads
}

// ListEnabled lists the buckets of region that have the service. Once
// any service has met a refusal of the key, it sends nothing and answers
// that refusal; a listing that meets one is that refusal for every
// service.
func (v *serviceView) ListEnabled(ctx context.Context, region string, page, pageSize int) (cosapi.EnabledPage, error) {
	if r := v.shared.keyRefused.Load(); r != nil {
		return cosapi.EnabledPage{}, r.err
	}
	pg, err := v.api.ListServiceEnabled(ctx, v.svc.ID, region, page, pageSize)
	if cosapi.IsCredentialError(err) {
		v.shared.keyRefused.CompareAndSwap(nil, &refusal{op: v.svc.ListOp, code: codeOf(err), err: err, credentials: true})
	}
	return pg, err
}

// IsEnabled asks whether t has the service.
func (v *serviceView) IsEnabled(ctx context.Context, t bucket.Target) (bool, string, error) {
	return v.api.IsServiceEnabled(ctx, v.svc.ID, t)
}

// Enable sends the service's Create for t.
func (v *serviceView) Enable(ctx context.Context, t bucket.Target) (cosapi.Enabled, error) {
	return v.api.EnableService(ctx, v.svc.ID, t)
}

type tagRead struct {
	tags map[string]string
	err  error
}

// sharedReads are the reads every service's pipeline of one account
// shares, each with its retries: a read that fails after them has failed
// for every service, and is not sent again.
type sharedReads struct {
	buckets memo[struct{}, bucketsRead]
	tags    memo[bucket.Target, tagRead]
	// keyRefused is the first refusal of the key itself that any service
	// met: the key is the account's, so no service sends another request.
	keyRefused atomic.Pointer[refusal]
}

type bucketsRead struct {
	all []bucket.Target
	err error
}

// listBucketsOnce is read (planner.listAllBuckets), once for every
// service of the account when c is a service's view.
func listBucketsOnce(ctx context.Context, c Cloud, read func(context.Context) ([]bucket.Target, error)) ([]bucket.Target, error) {
	v, ok := c.(*serviceView)
	if !ok {
		return read(ctx)
	}
	r, err := v.shared.buckets.do(ctx, struct{}{}, func(ctx context.Context) (bucketsRead, error) {
		all, err := read(ctx)
		return bucketsRead{all, err}, nil
	})
	if err != nil {
		return nil, err
	}
	return r.all, r.err
}

// tagsOnce is read (the executor's tag read of t, with its retries), once
// for every service of the account when c is a service's view.
func tagsOnce(ctx context.Context, c Cloud, t bucket.Target, read func(context.Context) (map[string]string, error)) (map[string]string, error) {
	v, ok := c.(*serviceView)
	if !ok {
		return read(ctx)
	}
	r, err := v.shared.tags.do(ctx, t, func(ctx context.Context) (tagRead, error) {
		tags, err := read(ctx)
		return tagRead{tags, err}, nil
	})
	if err != nil {
		return nil, err
	}
	return r.tags, r.err
}

// memo makes one read per key serve every caller: callers that come
// while it is in flight wait for it; its answer is kept for those that
// come later. A failure of f itself is handed to the callers that waited
// for it and then forgotten; the reads above fold their failures into the
// answer, retries included, so that nothing is read twice.
type memo[K comparable, V any] struct {
	mu    sync.Mutex
	calls map[K]*memoCall[V]
}

type memoCall[V any] struct {
	done chan struct{}
	v    V
	err  error
}

func (m *memo[K, V]) do(ctx context.Context, k K, f func(context.Context) (V, error)) (V, error) {
	m.mu.Lock()
	if m.calls == nil {
		m.calls = map[K]*memoCall[V]{}
	}
	if c, ok := m.calls[k]; ok {
		m.mu.Unlock()
		select {
		case <-c.done:
			return c.v, c.err
		case <-ctx.Done():
			var zero V
			return zero, ctx.Err()
		}
	}
	c := &memoCall[V]{done: make(chan struct{})}
	m.calls[k] = c
	m.mu.Unlock()
	c.v, c.err = f(ctx)
	if c.err != nil {
		m.mu.Lock()
		delete(m.calls, k)
		m.mu.Unlock()
	}
	close(c.done)
	return c.v, c.err
}

// cloudOr returns the Cloud j's requests go to: its service's view, or def.
func (j job) cloudOr(def Cloud) Cloud {
	if j.svc != nil {
		return j.svc
	}
	return def
}

// createOp names the Create API of j's service.
func (j job) createOp() string {
	if j.svc != nil {
		return j.svc.svc.CreateOp
	}
	return opCreate
}

// listOpOf names the listing API a Cloud's ListEnabled sends.
func listOpOf(c Cloud) string {
	if v, ok := c.(*serviceView); ok {
		return v.svc.ListOp
	}
	return ciservice.Get(ciservice.Pic).ListOp
}

// camActionsFor names the CAM actions of the service whose API is op
// (image processing's when op is none of theirs).
func camActionsFor(op string) string {
	s, ok := ciservice.ByOp(op)
	if !ok {
		s = ciservice.Get(ciservice.Pic)
	}
	return s.CreateAction + ", " + s.ListAction
}

// opName is the API name of the operation op in c's service.
func (c *collector) opName(op string) string {
	if op == opCreate && c.service != "" {
		return ciservice.Get(ciservice.ID(c.service)).CreateOp
	}
	return op
}

// serviceCache is the warm instance's confirmations of one service.
func (h *Handler) serviceCache(id ciservice.ID) *confirmed {
	if id == ciservice.Pic {
		return h.cache()
	}
	c, _ := h.byService.LoadOrStore(id, newConfirmed())
	return c.(*confirmed)
}

// servicePipeline is one service's run within an account.
type servicePipeline struct {
	p *planner
	c *collector
}

// runServices runs ev in one account for each service of
// PICBUCKET_SERVICES and merges the results.
func (inv *invocation) runServices(ctx context.Context, ev *trigger.Request, acct accountKey, log zerolog.Logger, cloud Cloud,
	dryRun bool, loop retry.Loop, rules filter, stopAt time.Time) (*Result, error) {
	h, cfg := inv.h, inv.cfg
	api, ok := cloud.(serviceAPI)
	if !ok {
		return nil, fmt.Errorf("picbucket: %s is set, but this run's Cloud (%T) has no CI services but image processing", config.Services, cloud)
	}
	shared := &sharedReads{}
	x := &executor{cloud: cloud, loop: loop, rules: rules, dryRun: dryRun, now: h.now, stopAt: stopAt, maxEnable: cfg.MaxEnable, creates: &inv.creates}
	gate := make(chan struct{}, cfg.Concurrency)

	runs := make([]servicePipeline, len(cfg.Services))
	var wg sync.WaitGroup
	for i, id := range cfg.Services {
		svc := ciservice.Get(id)
		view := &serviceView{Cloud: cloud, api: api, svc: svc, shared: shared}
		r := rules
		r.service = &svc
		evi := ev
		if i > 0 {
			evi = withoutUnnamed(ev)
		}
		cache := h.serviceCache(id)
		c := newCollector(evi, acct.uin, dryRun, log, cache, h.now, cfg.CacheTTL)
		c.service = string(id)
		p := &planner{ev: evi, cloud: view, loop: loop, rules: r, cache: cache, now: h.now, cacheTTL: cfg.CacheTTL,
			log: log.With().Str("service", string(id)).Logger(), halt: c.halt}
		runs[i] = servicePipeline{p: p, c: c}

		planned := make(chan item)
		work := make(chan job)
		done := make(chan executed)
		go p.run(ctx, planned)
		for range cfg.Concurrency {
			go workFor(ctx, x, view, gate, work, done)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = c.run(planned, work, done)
		}()
	}
	wg.Wait()
	return mergeServices(ev, dryRun, runs, x.retries.Load())
}

// workFor is executor.work for one service's jobs, at most cap(gate) at
// once across the services. Once any service has met a refusal of the key,
// a job sends nothing: it carries that refusal back, and its collector
// stops as if it had met it.
func workFor(ctx context.Context, x *executor, view *serviceView, gate chan struct{}, jobs <-chan job, done chan<- executed) {
	for j := range jobs {
		j.svc = view
		gate <- struct{}{}
		var e executed
		if r := view.shared.keyRefused.Load(); r != nil {
			e = executed{BucketResult: BucketResult{Bucket: j.Bucket, Region: j.Region, Outcome: Deferred,
				Reason: "not started: the credentials were refused (" + r.code + ")"}, refusal: r}
		} else {
			e = x.executeSafely(ctx, j)
			if e.refusal != nil && e.refusal.credentials {
				view.shared.keyRefused.CompareAndSwap(nil, e.refusal)
			}
		}
		<-gate
		done <- e
	}
}

// withoutUnnamed returns ev without the skipped records that name no
// bucket: those are reported once, by the first service.
func withoutUnnamed(ev *trigger.Request) *trigger.Request {
	cp := *ev
	cp.Skipped = nil
	for _, s := range ev.Skipped {
		if s.Bucket != "" {
			cp.Skipped = append(cp.Skipped, s)
		}
	}
	return &cp
}

// mergeServices joins the services' results into one: every pair's
// result, the notes once, the counts summed, and the invocation's error:
// each service's stop or failed listing (once each), else the failed
// pairs by name.
func mergeServices(ev *trigger.Request, dryRun bool, runs []servicePipeline, retries int64) (*Result, error) {
	res := &Result{Trigger: string(ev.Kind), DryRun: dryRun, Retries: retries}
	var errs []error
	var errTexts []string
	keep := func(err error) {
		if err != nil && !slices.Contains(errTexts, err.Error()) {
			errTexts = append(errTexts, err.Error())
			errs = append(errs, err)
		}
	}
	for _, r := range runs {
		sub := r.c.res
		for _, n := range sub.Notes {
			if !slices.Contains(res.Notes, n) {
				res.Notes = append(res.Notes, n)
			}
		}
		res.Results = append(res.Results, sub.Results...)
		res.Summary.Filtered += sub.Summary.Filtered
		res.Summary.addFiltered(r.c.service, sub.Summary.Filtered)
		res.Retries += r.p.retries.Load()
		keep(r.c.stopped)
		keep(r.c.failure)
	}
	res.finish()
	if len(errs) > 0 {
		return res, errors.Join(errs...)
	}
	return res, failedError(res)
}

var _ serviceAPI = (*cosapi.Client)(nil)

// perService returns rs with each result that names a bucket made one
// result per service of services, each with its Service: a result decided
// before any service's pipeline (an account left alone, not a member, not
// started) is still one outcome for each (bucket, service) pair. A result
// that names no bucket stays one. With services empty, rs is returned as
// it is.
func perService(rs []BucketResult, services []ciservice.ID) []BucketResult {
	if len(services) == 0 {
		return rs
	}
	out := make([]BucketResult, 0, len(rs)*len(services))
	for _, b := range rs {
		if b.Bucket == "" {
			out = append(out, b)
			continue
		}
		for _, id := range services {
			b.Service = string(id)
			out = append(out, b)
		}
	}
	return out
}

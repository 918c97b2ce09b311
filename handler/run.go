package handler

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/config"
	"github.com/picbucket/picbucket/internal/cosapi"
	"github.com/picbucket/picbucket/internal/pace"
	"github.com/picbucket/picbucket/internal/retry"
	"github.com/picbucket/picbucket/internal/trigger"
)

// bindingAgeSlack is how much older than the request a binding's CreateTime
// must be to count as enabled before: it absorbs clock differences.
const bindingAgeSlack = 10 * time.Minute

// describeParallel is the least number of regions whose enabled lists are
// fetched at once: the lists gate the Creates, so they all go out together.
const describeParallel = 16

// run is the state of one invocation.
type run struct {
	h      *Handler
	cfg    config.Config
	log    zerolog.Logger
	ev     *trigger.Request
	appID  string
	dryRun bool
	policy retry.Policy
	api    *cosapi.Client
	pace   *pace.Pacer

	mu      sync.Mutex
	res     *Result
	retries atomic.Int64

	seen    map[string]bool              // bucket names that have (or will have) a result; under mu
	started atomic.Int64                 // Creates started (or would-be Creates in a dry run)
	refused atomic.Pointer[refusedCreds] // set once the service refuses the credentials
	stopAt  time.Time                    // start no bucket after this
}

type refusedCreds struct{ err error }

func (r *run) add(b BucketResult) {
	r.mu.Lock()
	r.res.Results = append(r.res.Results, b)
	r.mu.Unlock()
}

// claim records that bucket name will have a result in this run, and
// reports false if it already has one: one result, and at most one Create,
// per bucket per invocation, whatever mix of explicit buckets and
// reconciliation the event asks for.
func (r *run) claim(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]bool{}
	}
	if r.seen[name] {
		return false
	}
	r.seen[name] = true
	return true
}

// needsRequests reports whether the event asks for any request at all.
func (r *run) needsRequests() bool {
	return len(r.ev.Targets) > 0 || len(r.ev.Locate) > 0 || r.ev.Reconcile != nil
}

// job is one bucket to enable.
type job struct {
	bucket.Target
	// fromEvent is set for a bucket the event names (it may be so new that
	// CI has not seen it yet), not for one a listing found.
	fromEvent bool
}

// do turns the event into jobs and runs them on a bounded pool of workers
// while they are being found: explicit buckets first, then, for a
// reconciliation, each region's buckets as soon as its enabled list is in.
func (r *run) do(ctx context.Context) error {
	if d, ok := ctx.Deadline(); ok {
		// The margin is at most a fifth of the time left, so that a short
		// time limit still leaves room for work.
		margin := min(r.cfg.DeadlineMargin, time.Until(d)/5)
		r.stopAt = d.Add(-margin)
		// Requests in flight may use half the margin; the rest is for reporting.
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-margin/2))
		defer cancel()
	}
	for _, s := range r.ev.Skipped {
		r.add(BucketResult{Bucket: s.Bucket, Region: s.Region, Outcome: Skipped, Reason: s.Reason})
	}
	jobs := make(chan job)
	var listErr error
	go func() {
		defer close(jobs)
		for _, t := range r.explicit() {
			jobs <- job{Target: t, fromEvent: true}
		}
		if len(r.ev.Locate) > 0 || r.ev.Reconcile != nil {
			listErr = r.listAndReconcile(ctx, jobs)
		}
	}()
	var wg sync.WaitGroup
	for range r.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				r.add(r.enableSafely(ctx, j))
			}
		}()
	}
	wg.Wait()
	if listErr != nil {
		return listErr
	}
	if rc := r.refused.Load(); rc != nil {
		return fmt.Errorf("picbucket: credentials refused, stopped: %w", rc.err)
	}
	return nil
}

// explicit filters the buckets the event names and returns those to enable.
func (r *run) explicit() []bucket.Target {
	now := r.h.now()
	// The warm-instance cache serves only bursts of COS object events. A
	// PutBucket means a bucket that did not exist: a cache hit could only be
	// a deleted bucket of the same name.
	useCache := r.ev.Kind == trigger.KindCOS
	var jobs []bucket.Target
	for _, t := range r.ev.Targets {
		if !r.claim(t.Bucket) {
			continue
		}
		if reason := r.skipReason(t); reason != "" {
			r.add(BucketResult{Bucket: t.Bucket, Region: t.Region, Outcome: Skipped, Reason: reason})
			continue
		}
		if useCache && r.h.cache().fresh(t, now, r.cfg.CacheTTL) {
			r.add(BucketResult{Bucket: t.Bucket, Region: t.Region, Outcome: AlreadyEnabled,
				Reason: "confirmed by this instance within " + r.cfg.CacheTTL.String()})
			continue
		}
		jobs = append(jobs, t)
	}
	return jobs
}

// skipReason says why a bucket is left alone, or "" if it is not.
func (r *run) skipReason(t bucket.Target) string {
	if r.appID != "" && bucket.AppID(t.Bucket) != r.appID {
		return "other account: APPID " + bucket.AppID(t.Bucket) + " is not " + r.appID
	}
	if ok, why := r.cfg.Allows(t); !ok {
		return why
	}
	if !bucket.CIServes(t.Region) {
		return ciUnservedReason(t.Region)
	}
	return ""
}

// passes reports whether the account and the settings' filters let t through.
func (r *run) passes(t bucket.Target) bool {
	ok, _ := r.cfg.Allows(t)
	return ok && (r.appID == "" || bucket.AppID(t.Bucket) == r.appID)
}

func ciUnservedReason(region string) string {
	return "Cloud Infinite does not serve " + region
}

// listAndReconcile lists the account's buckets once (GetService), finds
// the region of each bucket the event names without one (Locate), and, for
// a reconciliation, enables the listed buckets that lack image processing.
// A located bucket that the listing does not contain yet (GetService is
// eventually consistent) is deferred, and its region is reconciled as a
// whole: all regions, since it is unknown.
func (r *run) listAndReconcile(ctx context.Context, jobs chan<- job) error {
	all, err := r.listBuckets(ctx)
	if err != nil {
		r.log.Error().Err(err).Msg("listing buckets failed")
		for _, name := range r.ev.Locate {
			if r.claim(name) {
				r.add(BucketResult{Bucket: name, Outcome: Deferred, Reason: "not started: its region is unknown and listing buckets failed: " + err.Error()})
			}
		}
		return fmt.Errorf("picbucket: listing buckets: %w", err)
	}
	spec := r.ev.Reconcile
	if len(r.ev.Locate) > 0 {
		where := make(map[string]string, len(all))
		for _, t := range all {
			where[t.Bucket] = t.Region
		}
		for _, name := range r.ev.Locate {
			if !r.claim(name) {
				continue
			}
			region, ok := where[name]
			if !ok {
				r.add(BucketResult{Bucket: name, Outcome: Deferred,
					Reason: "the event gives no bucket region and GetService does not list the bucket yet: reconciling all regions; the next run picks it up"})
				spec = &trigger.Reconcile{}
				continue
			}
			t := bucket.Target{Bucket: name, Region: region}
			if reason := r.skipReason(t); reason != "" {
				r.add(BucketResult{Bucket: t.Bucket, Region: t.Region, Outcome: Skipped, Reason: reason})
				continue
			}
			jobs <- job{Target: t, fromEvent: true}
		}
	}
	if spec == nil {
		return nil
	}
	return r.reconcile(ctx, spec, all, jobs)
}

// reconcile records the listed buckets that already have image processing
// as already_enabled (fetching each region's enabled list, regions in
// parallel) and sends the rest to jobs. Buckets that already have a result
// in this run are left out.
func (r *run) reconcile(ctx context.Context, spec *trigger.Reconcile, all []bucket.Target, jobs chan<- job) error {
	byRegion := map[string][]bucket.Target{}
	var regions []string
	for _, t := range all {
		if err := t.Validate(); err != nil {
			if r.claim(t.Bucket) {
				r.add(BucketResult{Bucket: t.Bucket, Region: t.Region, Outcome: Skipped, Reason: "listed bucket not usable: " + err.Error()})
			}
			continue
		}
		if !specAllows(spec, t) || !r.passes(t) {
			r.mu.Lock()
			if !r.seen[t.Bucket] {
				r.res.Summary.Filtered++
			}
			r.mu.Unlock()
			continue
		}
		if !r.claim(t.Bucket) {
			continue
		}
		if !bucket.CIServes(t.Region) {
			r.add(BucketResult{Bucket: t.Bucket, Region: t.Region, Outcome: Skipped, Reason: ciUnservedReason(t.Region)})
			continue
		}
		if byRegion[t.Region] == nil {
			regions = append(regions, t.Region)
		}
		byRegion[t.Region] = append(byRegion[t.Region], t)
	}
	slices.Sort(regions)

	var (
		wg      sync.WaitGroup
		sem     = make(chan struct{}, max(r.cfg.Concurrency, describeParallel))
		errOnce sync.Once
		credErr error
	)
	for _, region := range regions {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			enabled, err := r.listEnabled(ctx, region)
			if err != nil {
				if cosapi.IsCredentialError(err) {
					errOnce.Do(func() { credErr = fmt.Errorf("picbucket: listing enabled buckets in %s: %w", region, err) })
					return
				}
				// Fall back to one Create per bucket: Create is idempotent and
				// its answer still tells the enabled apart.
				note := fmt.Sprintf("listing enabled buckets in %s failed (%v): sending a Create for each of its %d buckets", region, err, len(byRegion[region]))
				r.mu.Lock()
				r.res.Notes = append(r.res.Notes, note)
				r.mu.Unlock()
				r.log.Warn().Str("region", region).Err(err).Msg(note)
			}
			now := r.h.now()
			for _, t := range byRegion[region] {
				if enabled[t.Bucket] {
					r.add(BucketResult{Bucket: t.Bucket, Region: t.Region, Outcome: AlreadyEnabled, Reason: "listed by DescribePicProcessBuckets"})
					r.h.cache().put(t, now, r.cfg.CacheTTL)
					continue
				}
				jobs <- job{Target: t}
			}
		}()
	}
	wg.Wait()
	return credErr
}

func specAllows(spec *trigger.Reconcile, t bucket.Target) bool {
	if len(spec.Regions) > 0 && !slices.Contains(spec.Regions, t.Region) {
		return false
	}
	match := func(patterns []string) bool {
		return slices.ContainsFunc(patterns, func(p string) bool { ok, _ := path.Match(p, t.Bucket); return ok })
	}
	if len(spec.Include) > 0 && !match(spec.Include) {
		return false
	}
	return !match(spec.Exclude)
}

// listBuckets pages through GetService.
func (r *run) listBuckets(ctx context.Context) ([]bucket.Target, error) {
	var all []bucket.Target
	marker := ""
	for page := 1; ; page++ {
		var p cosapi.BucketPage
		_, err := r.call(ctx, func(ctx context.Context) (err error) {
			p, err = r.api.ListBuckets(ctx, marker, cosapi.MaxListBuckets)
			return err
		})
		if err != nil {
			return nil, err
		}
		all = append(all, p.Buckets...)
		if !p.Truncated {
			return all, nil
		}
		if p.NextMarker == "" || p.NextMarker == marker || page >= 1000 {
			return nil, fmt.Errorf("GetService: truncated page %d without a usable NextMarker", page)
		}
		marker = p.NextMarker
	}
}

// listEnabled pages through DescribePicProcessBuckets for one region.
func (r *run) listEnabled(ctx context.Context, region string) (map[string]bool, error) {
	enabled := map[string]bool{}
	for page := 1; ; page++ {
		var p cosapi.EnabledPage
		_, err := r.call(ctx, func(ctx context.Context) (err error) {
			p, err = r.api.ListEnabled(ctx, region, page, cosapi.MaxDescribe)
			return err
		})
		if err != nil {
			return enabled, err
		}
		for _, b := range p.Buckets {
			enabled[b] = true
		}
		if len(p.Buckets) == 0 || page*cosapi.MaxDescribe >= p.Total || page >= 10000 {
			return enabled, nil
		}
	}
}

// call runs op under the retry policy, paced, counting retries; it returns
// how many times op ran.
func (r *run) call(ctx context.Context, op func(context.Context) error) (int, error) {
	n, err := r.policy.Do(ctx, cosapi.IsRetryable, func(ctx context.Context) error {
		if err := r.pace.Wait(ctx); err != nil {
			return err
		}
		err := op(ctx)
		switch {
		case cosapi.IsThrottled(err):
			r.pace.Throttled()
		case err == nil:
			r.pace.Accepted()
		}
		return err
	})
	r.retries.Add(int64(n - 1))
	return n, err
}

// enableSafely is enable with a panic turned into that bucket's failure.
func (r *run) enableSafely(ctx context.Context, j job) (b BucketResult) {
	defer func() {
		if p := recover(); p != nil {
			b = BucketResult{Bucket: j.Bucket, Region: j.Region, Outcome: Failed, Error: fmt.Sprintf("internal error: %v", p)}
		}
	}()
	return r.enable(ctx, j)
}

// Bucket-visibility window: right after PutBucket, CI may not know the new
// bucket yet and answers 404 NoSuchBucket. A bucket the event names gets at
// most noSuchBucketCreates Creates, the waits between them doubling from
// noSuchBucketFirstWait (0.25+0.5+1+2 s, about 4 s in all), inside the
// invocation's deadline.
const (
	noSuchBucketCreates   = 5
	noSuchBucketFirstWait = 250 * time.Millisecond
)

// enable makes sure one bucket has image processing enabled.
func (r *run) enable(ctx context.Context, j job) BucketResult {
	t := j.Target
	b := BucketResult{Bucket: t.Bucket, Region: t.Region}
	if rc := r.refused.Load(); rc != nil {
		b.Outcome, b.Reason = Deferred, "not started: the credentials were refused ("+codeOf(rc.err)+")"
		return b
	}
	if !r.stopAt.IsZero() && !r.h.now().Before(r.stopAt) {
		b.Outcome, b.Reason = Deferred, "not started: too close to the invocation deadline"
		return b
	}
	if r.cfg.MaxEnable > 0 && r.started.Add(1) > int64(r.cfg.MaxEnable) {
		b.Outcome, b.Reason = Deferred, fmt.Sprintf("not started: %s=%d reached", config.MaxEnable, r.cfg.MaxEnable)
		return b
	}
	if r.dryRun {
		b.Outcome, b.Reason = WouldEnable, "dry run"
		return b
	}

	var ans cosapi.Enabled
	sent := r.h.now()
	var err error
	for wait, creates := noSuchBucketFirstWait, 1; ; wait, creates = wait*2, creates+1 {
		var n int
		n, err = r.call(ctx, func(ctx context.Context) (err error) {
			ans, err = r.api.Enable(ctx, t)
			return err
		})
		b.Attempts += n
		if !cosapi.IsNoSuchBucket(err) || !j.fromEvent || creates >= noSuchBucketCreates ||
			!r.sleepBefore(ctx, wait) {
			break
		}
	}
	b.RequestID = ans.RequestID
	now := r.h.now()
	switch {
	case cosapi.IsNoSuchBucket(err):
		b.Outcome = Skipped
		setError(&b, err, false)
		if j.fromEvent {
			b.Reason = fmt.Sprintf("bucket does not exist: CreatePicProcessBucket answered NoSuchBucket %d times over %s",
				b.Attempts, now.Sub(sent).Round(10*time.Millisecond))
		} else {
			b.Reason = "bucket does not exist: deleted since it was listed (CreatePicProcessBucket answered NoSuchBucket)"
		}
		return b
	case err == nil:
		b.Outcome = Enabled
		// CI may answer 200 to a bucket that was enabled long ago; the
		// binding's CreateTime tells the two apart.
		if !ans.CreateTime.IsZero() && ans.CreateTime.Before(sent.Add(-bindingAgeSlack)) {
			b.Outcome = AlreadyEnabled
			b.Reason = "CreatePicProcessBucket answered 200 for a binding created " + ans.CreateTime.UTC().Format(time.RFC3339)
		}
		r.h.cache().put(t, now, r.cfg.CacheTTL)
		return b
	case cosapi.IsAlreadyEnabled(err):
		b.Outcome, b.Reason = AlreadyEnabled, "CreatePicProcessBucket answered "+codeOf(err)
		setError(&b, err, false)
		r.h.cache().put(t, now, r.cfg.CacheTTL)
		return b
	case cosapi.IsCredentialError(err):
		r.refused.CompareAndSwap(nil, &refusedCreds{err: err})
		b.Outcome = Failed
		setError(&b, err, true)
		return b
	case !cosapi.IsRetryable(err) && isClientError(err):
		// An answer we do not know: ask whether the bucket is enabled anyway.
		on, rid, rerr := r.readBack(ctx, t)
		if rerr == nil && on {
			b.Outcome, b.Reason, b.RequestID = AlreadyEnabled, "CreatePicProcessBucket answered "+codeOf(err)+"; DescribePicProcessBuckets lists it", rid
			r.h.cache().put(t, now, r.cfg.CacheTTL)
			return b
		}
	}
	b.Outcome = Failed
	setError(&b, err, true)
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		b.Reason = "the invocation deadline came during the call"
	}
	return b
}

// sleepBefore waits d unless that would pass the point where no new
// request starts (stopAt) or ctx ends; it reports whether it waited.
func (r *run) sleepBefore(ctx context.Context, d time.Duration) bool {
	if !r.stopAt.IsZero() && !r.h.now().Add(d).Before(r.stopAt) {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func (r *run) readBack(ctx context.Context, t bucket.Target) (bool, string, error) {
	var on bool
	var rid string
	_, err := r.call(ctx, func(ctx context.Context) (err error) {
		on, rid, err = r.api.IsEnabled(ctx, t)
		return err
	})
	return on, rid, err
}

func isClientError(err error) bool {
	var e *cosapi.Error
	return errors.As(err, &e) && e.Status >= 400 && e.Status < 500
}

func codeOf(err error) string {
	var e *cosapi.Error
	if errors.As(err, &e) && e.Code != "" {
		return e.Code
	}
	return "no answer"
}

func setError(b *BucketResult, err error, asError bool) {
	var e *cosapi.Error
	if errors.As(err, &e) {
		b.Code, b.Status = e.Code, e.Status
		if e.RequestID != "" {
			b.RequestID = e.RequestID
		}
	}
	if asError {
		b.Error = err.Error()
	}
}

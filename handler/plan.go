package handler

import (
	"context"
	"fmt"
	"path"
	"slices"
	"sync"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/cosapi"
	"github.com/picbucket/picbucket/internal/trigger"
)

// Plan: which buckets this invocation acts on. The event's buckets come
// first; then, when the event names buckets without a region or asks for a
// reconciliation, one GetService listing, and each region's enabled list.
// Every bucket passes through one filter and one seen-set, so each gets one
// result and at most one Create.

// describeParallel is the least number of regions whose enabled lists are
// fetched at once: the lists gate the Creates, so they all go out together.
const describeParallel = 16

// job is one bucket to enable.
type job struct {
	bucket.Target
	// fromEvent is set for a bucket the event names (it may be so new that
	// CI has not seen it yet), not for one a listing found.
	fromEvent bool
}

// filteredOut is the filter's verdict for a bucket that the settings or
// the reconcile options leave out. A listed bucket so left out is only
// counted (Summary.Filtered); a bucket the event names is reported skipped.
const filteredOut Outcome = "filtered"

// filter is the one place that decides whether a bucket is acted on. It
// returns "" to act on t, or the outcome and the reason to report instead.
// spec is the reconciliation's options, nil for a bucket the event names.
func (r *run) filter(t bucket.Target, spec *trigger.Reconcile) (Outcome, string) {
	if err := t.Validate(); err != nil {
		return Skipped, "listed bucket not usable: " + err.Error()
	}
	if r.appID != "" && bucket.AppID(t.Bucket) != r.appID {
		return Skipped, "other account: APPID " + bucket.AppID(t.Bucket) + " is not " + r.appID
	}
	if ok, why := r.cfg.Allows(t); !ok {
		return filteredOut, why
	}
	if spec != nil && !specAllows(spec, t) {
		return filteredOut, "left out by the reconcile options"
	}
	if !bucket.CIServes(t.Region) {
		return Skipped, "Cloud Infinite does not serve " + t.Region
	}
	return "", ""
}

// claim records that bucket name will have a result in this run, and
// reports false if it already has one: one result, and at most one Create,
// per bucket per invocation.
func (r *run) claim(name string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
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
		if o, why := r.filter(t, nil); o != "" {
			r.add(BucketResult{Bucket: t.Bucket, Region: t.Region, Outcome: Skipped, Reason: why})
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

// listAndReconcile lists the account's buckets once (GetService), finds
// the region of each bucket the event names without one (Locate), and, for
// a reconciliation, enables the listed buckets that lack image processing.
// A located bucket that the listing does not contain yet (GetService is
// eventually consistent) is deferred, and all regions are reconciled, since
// its region is unknown.
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
			if o, why := r.filter(t, nil); o != "" {
				r.add(BucketResult{Bucket: t.Bucket, Region: t.Region, Outcome: Skipped, Reason: why})
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
		o, why := r.filter(t, spec)
		if o == filteredOut {
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
		if o != "" {
			r.add(BucketResult{Bucket: t.Bucket, Region: t.Region, Outcome: o, Reason: why})
			continue
		}
		if byRegion[t.Region] == nil {
			regions = append(regions, t.Region)
		}
		byRegion[t.Region] = append(byRegion[t.Region], t)
	}
	slices.Sort(regions)

	var (
		wg  sync.WaitGroup
		sem = make(chan struct{}, max(r.cfg.Concurrency, describeParallel))
	)
	for _, region := range regions {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			r.reconcileRegion(ctx, region, byRegion[region], jobs)
		}()
	}
	wg.Wait()
	return nil
}

// reconcileRegion reads one region's enabled list and sends the buckets
// missing from it to jobs. A list that cannot be read because of
// throttling, the deadline or a refusal of the credentials or permissions
// defers the region's buckets as a whole (the next run picks them up);
// after another failure, each bucket gets a Create (paced): Create is
// idempotent and its answer still tells the enabled apart.
func (r *run) reconcileRegion(ctx context.Context, region string, buckets []bucket.Target, jobs chan<- job) {
	enabled, err := r.listEnabled(ctx, region)
	if err != nil {
		if reason, ok := r.deferListing(err); ok {
			r.log.Warn().Str("region", region).Err(err).Msg("listing enabled buckets deferred the region")
			for _, t := range buckets {
				b := BucketResult{Bucket: t.Bucket, Region: t.Region, Outcome: Deferred,
					Reason: "not started: DescribePicProcessBuckets in " + region + " " + reason}
				setError(&b, err, false)
				r.add(b)
			}
			return
		}
		note := fmt.Sprintf("listing enabled buckets in %s failed (%v): sending a Create for each of its %d buckets", region, err, len(buckets))
		r.mu.Lock()
		r.res.Notes = append(r.res.Notes, note)
		r.mu.Unlock()
		r.log.Warn().Str("region", region).Err(err).Msg(note)
	}
	now := r.h.now()
	for _, t := range buckets {
		if enabled[t.Bucket] {
			r.add(BucketResult{Bucket: t.Bucket, Region: t.Region, Outcome: AlreadyEnabled, Reason: "listed by DescribePicProcessBuckets"})
			r.h.cache().put(t, now, r.cfg.CacheTTL)
			continue
		}
		jobs <- job{Target: t}
	}
}

// deferListing says whether a failed listing defers its buckets, and why.
func (r *run) deferListing(err error) (string, bool) {
	switch {
	case isCut(err):
		return "was cut by the invocation deadline", true
	case cosapi.IsThrottled(err):
		return "stayed throttled until the time left ran out (" + codeOf(err) + ")", true
	case cosapi.IsCredentialError(err):
		r.stop.trip(err, 1)
		return "refused the credentials (" + codeOf(err) + ")", true
	case isPermissionError(err):
		return "was refused (" + codeOf(err) + "): " + fixFor(codeOf(err)), true
	}
	return "", false
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

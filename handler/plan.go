package handler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/cosapi"
	"github.com/picbucket/picbucket/internal/retry"
	"github.com/picbucket/picbucket/internal/trigger"
)

// Plan: which buckets this run acts on. The event's buckets come first;
// then, when the event names buckets without a region or asks for a
// reconciliation, one GetService listing, and each region's enabled list.
// The plan sends what it finds to the collector as items, while it finds
// them: the Creates of one region start while the next region is listed.

// describeParallel is the most regions whose enabled lists are fetched at
// once: the lists gate the Creates, so they go out together.
const describeParallel = 16

// job is one bucket to work on.
type job struct {
	bucket.Target
	// fromEvent is set for a bucket the event names (it may be so new that
	// CI has not seen it yet), not for one a listing found.
	fromEvent bool
	// svc is the CI service the job is for, when PICBUCKET_SERVICES is set
	// (service.go); nil means image processing through the run's Cloud.
	svc *serviceView
}

// item is one thing the plan found: a bucket to work on (job), a result it
// decided itself (result), a listed bucket the filter left out (filtered,
// with the reason), a note for the result, a listing that failed the
// invocation (failure), or a refusal of the credentials (refusal). listed
// marks a result that a DescribePicProcessBuckets listing confirmed now.
type item struct {
	job      *job
	result   *BucketResult
	listed   bool
	filtered *BucketResult
	note     string
	failure  error
	refusal  error
}

// planner finds the work of one run.
type planner struct {
	ev       *trigger.Request
	cloud    Cloud
	loop     retry.Loop
	rules    filter
	cache    *confirmed
	now      func() time.Time
	cacheTTL time.Duration
	log      zerolog.Logger
	retries  atomic.Int64
	// halt is closed when the collector stops the run: the plan sends no
	// request after it, and hands the buckets it has not judged to the
	// collector as jobs, which the collector defers with the stop's reason.
	halt <-chan struct{}
}

// halted reports whether the collector has stopped the run.
func (p *planner) halted() bool {
	select {
	case <-p.halt:
		return true
	default:
		return false
	}
}

// errHalted is the answer of a request the plan did not send because the
// run had stopped.
var errHalted = errors.New("not sent: the run has stopped")

// run sends the run's items to out and closes it.
func (p *planner) run(ctx context.Context, out chan<- item) {
	defer close(out)
	p.loop.OnRetry = func() { p.retries.Add(1) }
	p.loop.Classify = requestRule
	for _, s := range p.ev.Skipped {
		out <- item{result: &BucketResult{Bucket: s.Bucket, Region: s.Region, Outcome: Skipped, Reason: s.Reason}}
	}
	p.named(out)
	if len(p.ev.Locate) > 0 || p.ev.Reconcile != nil {
		p.listed(ctx, out)
	}
}

// named sends the buckets the event names with their region.
func (p *planner) named(out chan<- item) {
	now := p.now()
	// The warm-instance cache serves only bursts of COS object events. A
	// PutBucket means a bucket that did not exist: a cache hit could only be
	// a deleted bucket of the same name.
	useCache := p.ev.Kind == trigger.KindCOS
	for _, t := range p.ev.Targets {
		if v := p.rules.byName(t, nil); !v.act() {
			out <- item{result: &BucketResult{Bucket: t.Bucket, Region: t.Region, Outcome: Skipped, Reason: v.reason}}
			continue
		}
		if useCache && p.cache.fresh(t, now, p.cacheTTL) {
			out <- item{result: &BucketResult{Bucket: t.Bucket, Region: t.Region, Outcome: AlreadyEnabled,
				Reason: "confirmed by this instance within " + p.cacheTTL.String()}}
			continue
		}
		out <- item{job: &job{Target: t, fromEvent: true}}
	}
}

// listed lists the account's buckets once (GetService), finds the region of
// each bucket the event names without one (Locate), and, for a
// reconciliation, sends the listed buckets that lack image processing. A
// located bucket that the listing does not contain yet (GetService is
// eventually consistent) is deferred, and all regions are reconciled, since
// its region is unknown.
func (p *planner) listed(ctx context.Context, out chan<- item) {
	if p.halted() {
		for _, name := range p.ev.Locate {
			out <- item{job: &job{Target: bucket.Target{Bucket: name}, fromEvent: true}}
		}
		return
	}
	all, err := p.listBuckets(ctx)
	if err != nil {
		p.log.Error().Err(err).Msg("listing buckets failed")
		for _, name := range p.ev.Locate {
			out <- item{result: &BucketResult{Bucket: name, Outcome: Deferred, Reason: "not started: its region is unknown and listing buckets failed: " + err.Error()}}
		}
		it := item{failure: fmt.Errorf("picbucket: listing buckets: %w", err)}
		if cosapi.IsCredentialError(err) {
			it.refusal = err
		}
		out <- it
		return
	}
	spec := p.ev.Reconcile
	if len(p.ev.Locate) > 0 {
		where := make(map[string]string, len(all))
		for _, t := range all {
			where[t.Bucket] = t.Region
		}
		for _, name := range p.ev.Locate {
			region, ok := where[name]
			if !ok {
				out <- item{result: &BucketResult{Bucket: name, Outcome: Deferred,
					Reason: "the event gives no bucket region and GetService does not list the bucket yet: reconciling all regions; the next run picks it up"}}
				spec = &trigger.Reconcile{}
				continue
			}
			t := bucket.Target{Bucket: name, Region: region}
			if v := p.rules.byName(t, nil); !v.act() {
				out <- item{result: &BucketResult{Bucket: t.Bucket, Region: t.Region, Outcome: Skipped, Reason: v.reason}}
				continue
			}
			out <- item{job: &job{Target: t, fromEvent: true}}
		}
	}
	if spec != nil {
		p.reconcile(ctx, spec, all, out)
	}
}

// reconcile sends the listed buckets that already have image processing as
// already_enabled (fetching each region's enabled list, regions in
// parallel) and the rest as jobs.
func (p *planner) reconcile(ctx context.Context, spec *trigger.Reconcile, all []bucket.Target, out chan<- item) {
	byRegion := map[string][]bucket.Target{}
	var regions []string
	for _, t := range all {
		v := p.rules.byName(t, spec)
		switch {
		case v.outcome == filteredOut:
			out <- item{filtered: &BucketResult{Bucket: t.Bucket, Region: t.Region, Reason: v.reason}}
			continue
		case !v.act():
			out <- item{result: &BucketResult{Bucket: t.Bucket, Region: t.Region, Outcome: v.outcome, Reason: v.reason}}
			continue
		}
		if byRegion[t.Region] == nil {
			regions = append(regions, t.Region)
		}
		byRegion[t.Region] = append(byRegion[t.Region], t)
	}
	slices.Sort(regions)

	startEach(slices.Values(regions), describeParallel, time.Time{}, p.now, func(region string) {
		p.reconcileRegion(ctx, region, byRegion[region], out)
	}, nil)
}

// reconcileRegion reads one region's enabled list and sends the buckets
// missing from it as jobs. A list that cannot be read because of
// throttling, the deadline or a refusal of the credentials or permissions
// defers the region's buckets as a whole (the next run picks them up);
// after another failure, each bucket gets a Create (paced): Create is
// idempotent and its answer still tells the enabled apart.
func (p *planner) reconcileRegion(ctx context.Context, region string, buckets []bucket.Target, out chan<- item) {
	enabled, err := p.listEnabled(ctx, region)
	if p.halted() {
		// Stopped before or while the region was listed: the collector
		// defers its buckets with the stop's reason.
		for _, t := range buckets {
			out <- item{job: &job{Target: t}}
		}
		return
	}
	if err != nil {
		if reason, ok := listingDeferral(listOpOf(p.cloud), err, cutBy(ctx, err)); ok {
			p.log.Warn().Str("region", region).Err(err).Msg("listing enabled buckets deferred the region")
			if cosapi.IsCredentialError(err) {
				out <- item{refusal: err}
			}
			for _, t := range buckets {
				b := BucketResult{Bucket: t.Bucket, Region: t.Region, Outcome: Deferred,
					Reason: "not started: " + listOpOf(p.cloud) + " in " + region + " " + reason}
				setError(&b, err, false)
				out <- item{result: &b}
			}
			return
		}
		note := fmt.Sprintf("listing enabled buckets in %s failed (%v): sending a Create for each of its %d buckets", region, err, len(buckets))
		p.log.Warn().Str("region", region).Err(err).Msg(note)
		out <- item{note: note}
	}
	for _, t := range buckets {
		if enabled[t.Bucket] {
			out <- item{result: &BucketResult{Bucket: t.Bucket, Region: t.Region, Outcome: AlreadyEnabled, Reason: "listed by " + listOpOf(p.cloud)}, listed: true}
			continue
		}
		out <- item{job: &job{Target: t}}
	}
}

// listBuckets pages through GetService; with several services, once for
// all of them, and then no one service's stop ends it.
func (p *planner) listBuckets(ctx context.Context) ([]bucket.Target, error) {
	if _, ok := p.cloud.(*serviceView); ok {
		return listBucketsOnce(ctx, p.cloud, func(ctx context.Context) ([]bucket.Target, error) {
			return p.listAllBuckets(ctx, func() bool { return false })
		})
	}
	return p.listAllBuckets(ctx, p.halted)
}

// listAllBuckets pages through GetService until halted says to stop.
func (p *planner) listAllBuckets(ctx context.Context, halted func() bool) ([]bucket.Target, error) {
	var all []bucket.Target
	marker := ""
	for page := 1; ; page++ {
		var pg cosapi.BucketPage
		_, err := p.loop.Do(ctx, func(ctx context.Context) (err error) {
			if halted() {
				return errHalted
			}
			pg, err = p.cloud.ListBuckets(ctx, marker, cosapi.MaxListBuckets)
			return err
		})
		if err != nil {
			return nil, err
		}
		all = append(all, pg.Buckets...)
		if !pg.Truncated {
			return all, nil
		}
		if pg.NextMarker == "" || pg.NextMarker == marker || page >= 1000 {
			return nil, fmt.Errorf("GetService: truncated page %d without a usable NextMarker", page)
		}
		marker = pg.NextMarker
	}
}

// listEnabled pages through DescribePicProcessBuckets (or the service's
// listing) for one region. Pages are asked for cosapi.MaxDescribe at a
// time, but numbered by the size the server serves: a first page that
// carries fewer than were asked and fewer than TotalCount, or an answer
// whose PageSize is smaller, tells that size, so a server that serves
// smaller pages costs more pages, never a listed bucket missed. It stops
// at a page without elements or once the pages cover TotalCount.
func (p *planner) listEnabled(ctx context.Context, region string) (map[string]bool, error) {
	enabled := map[string]bool{}
	size := cosapi.MaxDescribe
	for page := 1; ; page++ {
		var pg cosapi.EnabledPage
		_, err := p.loop.Do(ctx, func(ctx context.Context) (err error) {
			if p.halted() {
				return errHalted
			}
			pg, err = p.cloud.ListEnabled(ctx, region, page, cosapi.MaxDescribe)
			return err
		})
		if err != nil {
			return enabled, err
		}
		for _, b := range pg.Buckets {
			enabled[b] = true
		}
		listed := max(pg.Listed, len(pg.Buckets))
		if pg.PageSize > 0 && pg.PageSize < size {
			size = pg.PageSize
		}
		if page == 1 && listed > 0 && listed < size && listed < pg.Total {
			size = listed
		}
		if listed == 0 || page*size >= pg.Total || page >= 10000 {
			return enabled, nil
		}
	}
}

package handler

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/picbucket/picbucket/internal/config"
	"github.com/picbucket/picbucket/internal/cosapi"
	"github.com/picbucket/picbucket/internal/retry"
)

// Execute: each worker takes one job at a time from the collector and
// turns it into one result: read the bucket's tags when a tag setting asks
// for them, judge them, then send the Create (or, in a dry run, report
// would_enable) and classify the answer. Every request goes through the one
// retry loop, which paces it and retries what may pass.

// executed is one job's result, with what the collector needs to judge
// the account: the refusal that ended it, if any, and which operations
// were answered without a refusal.
type executed struct {
	BucketResult
	refusal    *refusal
	tagsRead   bool // GetBucketTagging was answered
	createdNow bool // CreatePicProcessBucket was answered with success
}

// executor does the jobs of one run.
type executor struct {
	cloud     Cloud
	loop      retry.Loop
	rules     filter
	dryRun    bool
	now       func() time.Time
	stopAt    time.Time
	maxEnable int

	// creates counts the Creates started (would-be Creates in a dry run)
	// for maxEnable: the invocation's one counter, shared by every account
	// it works in, since the cap is per invocation.
	creates *atomic.Int64
	retries atomic.Int64 // requests sent again after a failure
}

// work does the jobs it receives until jobs is closed, sending each result to done.
func (x *executor) work(ctx context.Context, jobs <-chan job, done chan<- executed) {
	for j := range jobs {
		done <- x.executeSafely(ctx, j)
	}
}

// executeSafely is execute with a panic turned into that bucket's failure.
func (x *executor) executeSafely(ctx context.Context, j job) (e executed) {
	defer func() {
		if p := recover(); p != nil {
			e = executed{BucketResult: BucketResult{Bucket: j.Bucket, Region: j.Region, Outcome: Failed, Error: fmt.Sprintf("internal error: %v", p)}}
		}
	}()
	return x.execute(ctx, j)
}

// execute makes sure one bucket has image processing enabled.
func (x *executor) execute(ctx context.Context, j job) executed {
	e := executed{BucketResult: BucketResult{Bucket: j.Bucket, Region: j.Region}}
	b := &e.BucketResult
	if x.pastStop() {
		b.Outcome, b.Reason = Deferred, "not started: too close to the invocation deadline"
		return e
	}
	if x.capReached() {
		b.Outcome, b.Reason = Deferred, fmt.Sprintf("not started: %s=%d reached (the most Creates of one invocation)", config.MaxEnable, x.maxEnable)
		return e
	}
	cloud := j.cloudOr(x.cloud)
	loop := x.loop
	loop.Classify = bucketRule(j.fromEvent)
	loop.OnRetry = func() { x.retries.Add(1) }

	if x.rules.needsTags() {
		tags, err := tagsOnce(ctx, cloud, j.Target, func(ctx context.Context) (tags map[string]string, err error) {
			_, err = loop.Do(ctx, func(ctx context.Context) (err error) {
				tags, _, err = cloud.Tags(ctx, j.Target)
				return err
			})
			return tags, err
		})
		if err != nil {
			tagsOutcome(b, err, cutBy(ctx, err))
			e.refusal = refusalOf(opTags, err)
			return e
		}
		e.tagsRead = true
		if v := x.rules.byTags(tags, j.fromEvent); !v.act() {
			b.Outcome, b.Reason = v.outcome, v.reason
			return e
		}
	}
	if x.maxEnable > 0 && x.creates.Add(1) > int64(x.maxEnable) {
		b.Outcome, b.Reason = Deferred, fmt.Sprintf("not started: %s=%d reached (the most Creates of one invocation)", config.MaxEnable, x.maxEnable)
		return e
	}
	if x.pastStop() { // the tag read may have taken the time left
		b.Outcome, b.Reason = Deferred, "not started: too close to the invocation deadline"
		return e
	}
	if x.dryRun {
		b.Outcome, b.Reason = WouldEnable, "dry run"
		return e
	}

	var ans cosapi.Enabled
	sent := x.now()
	n, err := loop.Do(ctx, func(ctx context.Context) (err error) {
		ans, err = cloud.Enable(ctx, j.Target)
		return err
	})
	b.Attempts, b.RequestID = n, ans.RequestID
	if unknown := createOutcome(b, j, ans, err, cutBy(ctx, err), sent, x.now()); unknown {
		// An answer we do not know: ask whether the bucket is enabled anyway.
		var on bool
		var rid string
		_, rerr := loop.Do(ctx, func(ctx context.Context) (err error) {
			on, rid, err = cloud.IsEnabled(ctx, j.Target)
			return err
		})
		if rerr == nil && on {
			b.Outcome, b.Reason, b.RequestID, b.Error = AlreadyEnabled, j.createOp()+" answered "+codeOf(err)+"; "+listOpOf(cloud)+" lists it", rid, ""
			if cosapi.IsUnreadableSuccess(err) { // a 200: this Create made the binding
				b.Outcome, b.Reason = Enabled, j.createOp()+" answered 200 with a body that could not be read; "+listOpOf(cloud)+" lists it"
			}
		}
	}
	if b.Outcome == Failed || b.Outcome == Deferred {
		e.refusal = refusalOf(opCreate, err)
	}
	e.createdNow = err == nil || b.Outcome == AlreadyEnabled || b.Outcome == Enabled
	return e
}

// capReached reports whether PICBUCKET_MAX_ENABLE's Creates have all
// started: then a bucket costs no tag read either.
func (x *executor) capReached() bool {
	return x.maxEnable > 0 && x.creates.Load() >= int64(x.maxEnable)
}

// pastStop reports whether stopAt has passed.
func (x *executor) pastStop() bool { return !x.stopAt.IsZero() && !x.now().Before(x.stopAt) }

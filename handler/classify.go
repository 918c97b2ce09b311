package handler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/picbucket/picbucket/internal/config"
	"github.com/picbucket/picbucket/internal/cosapi"
)

// Classify: one answer (or its absence) to one bucket's Create becomes one
// outcome. failed means the bucket itself is broken; time or rate running
// out, or a refusal of the whole account, defers it to the next run.

// bindingAgeSlack is how much older than the request a binding's CreateTime
// must be to count as enabled before: it absorbs clock differences.
const bindingAgeSlack = 10 * time.Minute

// Bucket-visibility window: right after PutBucket, CI may not know the new
// bucket yet and answers 404 NoSuchBucket. A bucket the event names gets at
// most noSuchBucketCreates Creates, the waits between them doubling from
// noSuchBucketFirstWait (0.25+0.5+1+2 s, about 4 s in all), inside the
// invocation's deadline.
const (
	noSuchBucketCreates   = 5
	noSuchBucketFirstWait = 250 * time.Millisecond
)

// enableSafely is enable with a panic turned into that bucket's failure.
func (r *run) enableSafely(ctx context.Context, j job) (b BucketResult) {
	defer func() {
		if p := recover(); p != nil {
			b = BucketResult{Bucket: j.Bucket, Region: j.Region, Outcome: Failed, Error: fmt.Sprintf("internal error: %v", p)}
		}
	}()
	return r.enable(ctx, j)
}

// enable makes sure one bucket has image processing enabled.
func (r *run) enable(ctx context.Context, j job) BucketResult {
	t := j.Target
	b := BucketResult{Bucket: t.Bucket, Region: t.Region}
	if why := r.stop.reason(); why != "" {
		b.Outcome, b.Reason = Deferred, why
		return b
	}
	if r.pastStop() {
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
		if !cosapi.IsNoSuchBucket(err) || !j.fromEvent || creates >= noSuchBucketCreates || !r.sleepBefore(ctx, wait) {
			break
		}
	}
	b.RequestID = ans.RequestID
	r.classify(ctx, j, &b, ans, err, sent)
	switch b.Outcome {
	case Enabled, AlreadyEnabled:
		r.stop.success()
		r.h.cache().put(t, r.h.now(), r.cfg.CacheTTL)
	}
	return b
}

// classify sets b's outcome from the Create's answer (ans, err), sent at sent.
func (r *run) classify(ctx context.Context, j job, b *BucketResult, ans cosapi.Enabled, err error, sent time.Time) {
	switch {
	case err == nil:
		b.Outcome = Enabled
		// CI may answer 200 to a bucket that was enabled long ago; the
		// binding's CreateTime tells the two apart.
		if !ans.CreateTime.IsZero() && ans.CreateTime.Before(sent.Add(-bindingAgeSlack)) {
			b.Outcome = AlreadyEnabled
			b.Reason = "CreatePicProcessBucket answered 200 for a binding created " + ans.CreateTime.UTC().Format(time.RFC3339)
		}
	case cosapi.IsAlreadyEnabled(err):
		b.Outcome, b.Reason = AlreadyEnabled, "CreatePicProcessBucket answered "+codeOf(err)
		setError(b, err, false)
	case cosapi.IsNoSuchBucket(err):
		b.Outcome = Skipped
		setError(b, err, false)
		if j.fromEvent {
			b.Reason = fmt.Sprintf("bucket does not exist: CreatePicProcessBucket answered NoSuchBucket %d times over %s",
				b.Attempts, r.h.now().Sub(sent).Round(10*time.Millisecond))
		} else {
			b.Reason = "bucket does not exist: deleted since it was listed (CreatePicProcessBucket answered NoSuchBucket)"
		}
	case isCut(err) || (errors.Is(err, context.Canceled) && ctx.Err() != nil):
		b.Outcome, b.Reason = Deferred, "the invocation deadline came before CI answered; the next run picks it up"
		setError(b, err, false)
	case cosapi.IsThrottled(err):
		b.Outcome, b.Reason = Deferred, "throttled ("+codeOf(err)+") until the time left ran out; the next run picks it up"
		setError(b, err, false)
	case cosapi.IsCredentialError(err):
		r.stop.trip(err, 1)
		b.Outcome, b.Reason = Deferred, "the credentials were refused ("+codeOf(err)+")"
		setError(b, err, false)
	case cosapi.IsRetryable(err):
		// 5xx, timeouts and connection errors past the attempt budget.
		b.Outcome = Failed
		setError(b, err, true)
	case isClientError(err):
		// An answer we do not know: ask whether the bucket is enabled
		// anyway, unless the account already refuses everything.
		if r.stop.reason() == "" {
			if on, rid, rerr := r.readBack(ctx, j); rerr == nil && on {
				b.Outcome, b.Reason, b.RequestID = AlreadyEnabled, "CreatePicProcessBucket answered "+codeOf(err)+"; DescribePicProcessBuckets lists it", rid
				return
			}
		}
		r.stop.refused(err)
		b.Outcome = Failed
		setError(b, err, true)
	default:
		b.Outcome = Failed
		setError(b, err, true)
	}
}

func (r *run) readBack(ctx context.Context, j job) (bool, string, error) {
	var on bool
	var rid string
	_, err := r.call(ctx, func(ctx context.Context) (err error) {
		on, rid, err = r.api.IsEnabled(ctx, j.Target)
		return err
	})
	return on, rid, err
}

func isClientError(err error) bool {
	var e *cosapi.Error
	return errors.As(err, &e) && e.Status >= 400 && e.Status < 500
}

// isPermissionError reports a refusal of the account or its permissions
// (as opposed to one bucket's problem): 401/403 answers and CI's role and
// access codes.
func isPermissionError(err error) bool {
	var e *cosapi.Error
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case "AccessDenied", "ResourceAccessDenied", "CIRoleNotExist", "UnauthorizedOperation":
		return true
	}
	return e.Status == 401 || e.Status == 403
}

// fixFor says what to fix for an account-wide refusal code.
func fixFor(code string) string {
	switch {
	case code == "CIRoleNotExist":
		return "authorize Cloud Infinite's service role (CI console) and retry"
	case code == "AccessDenied" || code == "ResourceAccessDenied" || code == "UnauthorizedOperation":
		return "grant the function's execution role ci:CreatePicProcessBucket, ci:DescribePicProcessBucket and cos:GetService (the CAM policy in README.md)"
	case strings.Contains(strings.ToLower(code), "notactivated") || strings.Contains(strings.ToLower(code), "unbind"):
		return "activate Cloud Infinite for the account"
	default:
		return "check the CAM policy of the function's execution role and that Cloud Infinite is activated"
	}
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

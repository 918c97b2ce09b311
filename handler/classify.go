package handler

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/picbucket/picbucket/internal/config"
	"github.com/picbucket/picbucket/internal/cosapi"
	"github.com/picbucket/picbucket/internal/retry"
	"github.com/picbucket/picbucket/internal/tcapi"
)

// Classify: one answer (or its absence) becomes one outcome, and the retry
// loop's treatment of each failure is decided here. failed means the bucket
// itself is broken; time or rate running out, or a refusal of the whole
// account, defers it to the next run. These are pure functions: they send
// nothing and change nothing.

// The operations a bucket's work sends, as refusals name them.
const (
	opCreate = "CreatePicProcessBucket"
	opTags   = "GetBucketTagging"
)

// bindingAgeSlack is how much older than the request a binding's CreateTime
// must be to count as enabled before: it absorbs clock differences.
const bindingAgeSlack = 10 * time.Minute

// noSuchBucketWindow is the bucket-visibility window: right after
// PutBucket, CI (or COS) may not know the new bucket yet and answers 404
// NoSuchBucket. A bucket the event names gets at most 5 requests, the waits
// between them doubling from 250 ms (0.25+0.5+1+2 s, about 4 s in all),
// inside the invocation's deadline.
var noSuchBucketWindow = retry.Policy{Attempts: 5, Base: 250 * time.Millisecond, Max: 2 * time.Second,
	Jitter: func() float64 { return 1 }}

// requestRule is the retry loop's treatment of a failed request: throttling
// waits for the pacer without spending attempts; 5xx answers, timeouts and
// connection errors spend the policy's attempts; anything else is final.
func requestRule(err error) retry.Rule {
	switch {
	case cosapi.IsThrottled(err):
		return retry.Rule{Kind: retry.Throttled}
	case cosapi.IsRetryable(err):
		return retry.Rule{Kind: retry.Transient}
	}
	return retry.Rule{Kind: retry.Final}
}

// bucketRule is requestRule for a request addressed to one bucket: for a
// bucket the event names, NoSuchBucket is retried within the window.
func bucketRule(fromEvent bool) func(error) retry.Rule {
	if !fromEvent {
		return requestRule
	}
	return func(err error) retry.Rule {
		if cosapi.IsNoSuchBucket(err) {
			return retry.Rule{Kind: retry.Transient, Policy: &noSuchBucketWindow}
		}
		return requestRule(err)
	}
}

// refusal is an answer that may concern the whole account rather than one
// bucket: the key refused (credentials), or a permission refused. Only the
// collector decides whether it stops the run.
type refusal struct {
	op          string // opCreate or opTags
	code        string
	err         error
	credentials bool // the key itself was refused: the run stops at once
}

// refusalOf returns err's refusal, or nil when err concerns only its bucket.
func refusalOf(op string, err error) *refusal {
	switch {
	case cosapi.IsCredentialError(err):
		return &refusal{op: op, code: codeOf(err), err: err, credentials: true}
	case isPermissionError(err):
		return &refusal{op: op, code: codeOf(err), err: err}
	}
	return nil
}

// cutBy reports whether err came from the run's time running out: the
// retry loop gave up waiting (retry.ErrCut), or the run's context ended. A
// single request's own timeout is not a cut: it is a transient failure of
// that request, retried and then failed.
func cutBy(ctx context.Context, err error) bool {
	return err != nil && (errors.Is(err, retry.ErrCut) || ctx.Err() != nil)
}

// createOutcome sets b's outcome from the Create's answer (ans, err), sent
// at sent and judged at now; cut says the run's time ran out (cutBy). It
// reports whether the answer is a code the function does not know, after
// which a read-back may still find the bucket enabled.
func createOutcome(b *BucketResult, j job, ans cosapi.Enabled, err error, cut bool, sent, now time.Time) (unknown bool) {
	op := j.createOp()
	switch {
	case err == nil:
		b.Outcome = Enabled
		// CI may answer 200 to a bucket that was enabled long ago; the
		// binding's CreateTime tells the two apart.
		if !ans.CreateTime.IsZero() && ans.CreateTime.Before(sent.Add(-bindingAgeSlack)) {
			b.Outcome = AlreadyEnabled
			b.Reason = op + " answered 200 for a binding created " + ans.CreateTime.UTC().Format(time.RFC3339)
		}
	case cosapi.IsUnreadableSuccess(err):
		// CI accepted the Create, but its body could not be read (the AI
		// pages print one that is not XML): the read-back decides.
		b.Outcome = Failed
		setError(b, err, true)
		return true
	case cosapi.IsAlreadyEnabled(err):
		b.Outcome, b.Reason = AlreadyEnabled, op+" answered "+codeOf(err)
		setError(b, err, false)
	case cut:
		b.Outcome, b.Reason = Deferred, "the invocation deadline came before CI answered; the next run picks it up"
		if cosapi.IsQueueBusy(err) {
			b.Reason = queueReason(err) + " until the time left ran out; the next run picks it up"
		} else if cosapi.IsThrottled(err) {
			b.Reason = "throttled (" + codeOf(err) + ") until the time left ran out; the next run picks it up"
		} else if cosapi.IsNoSuchBucket(err) {
			b.Reason = "CI did not know the new bucket yet (NoSuchBucket) when the time left ran out; the next run picks it up"
		}
		setError(b, err, false)
	case cosapi.IsNoSuchBucket(err):
		b.Outcome = Skipped
		setError(b, err, false)
		b.Reason = "bucket does not exist: deleted since it was listed (" + op + " answered NoSuchBucket)"
		if j.fromEvent {
			b.Reason = fmt.Sprintf("bucket does not exist: %s answered NoSuchBucket %d times over %s",
				op, b.Attempts, now.Sub(sent).Round(10*time.Millisecond))
		}
	case cosapi.IsUnbound(err):
		b.Outcome = Skipped
		b.Reason = "unbound from Cloud Infinite by hand (" + op + " answered " + codeOf(err) +
			"): left alone; to enable it again, bind the bucket in the Cloud Infinite console (Bucket management > Bind bucket)"
		setError(b, err, false)
	case cosapi.IsQueueBusy(err):
		// Not the bucket's fault, nor a refusal of the account.
		b.Outcome, b.Reason = Deferred, queueReason(err)+"; the next run picks it up"
		setError(b, err, false)
	case cosapi.IsThrottled(err):
		b.Outcome, b.Reason = Deferred, "throttled ("+codeOf(err)+") until the time left ran out; the next run picks it up"
		setError(b, err, false)
	case cosapi.IsCredentialError(err):
		b.Outcome, b.Reason = Deferred, "the credentials were refused ("+codeOf(err)+")"
		setError(b, err, false)
	case cosapi.IsRetryable(err):
		// 5xx, timeouts and connection errors past the attempt budget.
		b.Outcome = Failed
		setError(b, err, true)
	case isPermissionError(err):
		b.Outcome = Failed
		setError(b, err, true)
	case isClientError(err):
		b.Outcome = Failed
		setError(b, err, true)
		return true
	default:
		b.Outcome = Failed
		setError(b, err, true)
	}
	return false
}

// tagsOutcome sets b's outcome when the bucket's tags could not be read. A
// bucket whose tags are unknown is never enabled (it may carry an opt-out):
// it is deferred, unless it does not exist.
func tagsOutcome(b *BucketResult, err error, cut bool) {
	setError(b, err, false)
	switch {
	case cut:
		b.Outcome, b.Reason = Deferred, "its tags could not be read before the time left ran out; the next run picks it up"
	case cosapi.IsNoSuchBucket(err):
		b.Outcome, b.Reason = Skipped, "bucket does not exist: GetBucketTagging answered NoSuchBucket"
	default:
		b.Outcome = Deferred
		b.Reason = "not enabled: its tags could not be read (" + codeOf(err) + "), and it may carry " + config.SkipTag + "'s tag"
		if r := refusalOf(opTags, err); r != nil && !r.credentials {
			b.Reason += ": " + fixFor(opTags, r.code)
		}
	}
}

// queueReason says which of CI's queue answers held a bucket up.
func queueReason(err error) string {
	if codeOf(err) == "QueuePaused" {
		return "CI's queue is paused (QueuePaused): resume it in the Cloud Infinite console"
	}
	return "CI's queue is full (" + codeOf(err) + ")"
}

func isClientError(err error) bool {
	var e *cosapi.Error
	return errors.As(err, &e) && e.Status >= 400 && e.Status < 500
}

// isPermissionError reports a refusal of the account or its permissions
// (as opposed to one bucket's problem): 401/403 answers and CI's role and
// access codes (CI error codes: https://www.tencentcloud.com/document/product/436/46214).
// CI's queue answers (403 QueueSaturated, QueuePaused) are none: they never
// count toward a stop.
func isPermissionError(err error) bool {
	var e *cosapi.Error
	if !errors.As(err, &e) || e.Status == 0 || cosapi.IsQueueBusy(err) {
		return false
	}
	switch e.Code {
	case "AccessDenied", "ResourceAccessDenied", "CIRoleNotExist", "UnauthorizedOperation":
		return true
	}
	return e.Status == 401 || e.Status == 403
}

// fixFor says what to fix for a refusal of op with code.
func fixFor(op, code string) string {
	switch {
	case code == "CIRoleNotExist":
		return "authorize Cloud Infinite's service role (CI console) and retry"
	case op == opTags && (code == "AccessDenied" || code == "UnauthorizedOperation"):
		return "grant the function's execution role cos:GetBucketTagging (needed with " + config.SkipTag + " or " + config.RequireTag + "; the CAM policy in README.md)"
	case code == "AccessDenied" || code == "ResourceAccessDenied" || code == "UnauthorizedOperation":
		return "grant the function's execution role " + camActionsFor(op) + " and cos:GetService (the CAM policy in README.md)"
	case strings.Contains(strings.ToLower(code), "notactivated"):
		return "activate Cloud Infinite for the account"
	default:
		return "check the CAM policy of the function's execution role and that Cloud Infinite is activated"
	}
}

// listingDeferral says whether a failed listing defers its buckets, and
// why; cut says the run's time ran out (cutBy).
func listingDeferral(op string, err error, cut bool) (string, bool) {
	switch {
	case cut && cosapi.IsThrottled(err):
		return "stayed throttled until the time left ran out (" + codeOf(err) + ")", true
	case cut:
		return "was cut by the invocation deadline", true
	case cosapi.IsCredentialError(err):
		return "refused the credentials (" + codeOf(err) + ")", true
	case isPermissionError(err):
		return "was refused (" + codeOf(err) + "): " + fixFor(op, codeOf(err)), true
	}
	return "", false
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

// accountFailure classifies an API 3.0 error: throttling and the deadline
// defer the account, anything else fails it.
func accountFailure(err error, what string) (AccountOutcome, string) {
	if tcapi.IsThrottled(err) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return AccountDeferred, what + " did not finish in time: " + err.Error()
	}
	return AccountFailed, what + " failed: " + err.Error()
}

// throttledOnly is the retry rule of API 3.0 calls the handler sends again
// itself: a throttle waits and goes again, anything else is final.
func throttledOnly(err error) retry.Rule {
	if tcapi.IsThrottled(err) {
		return retry.Rule{Kind: retry.Throttled}
	}
	return retry.Rule{Kind: retry.Final}
}

package cosapi

import (
	"context"
	"errors"
	"strings"
)

// credentialError is implemented by errors that mean the credentials are
// missing (signer.ErrNoCredentials): such a request was never sent, and no
// retry can cure it.
type credentialError interface{ CredentialError() bool }

// isMissingCredential reports an error in err's chain that says so.
func isMissingCredential(err error) bool {
	var c credentialError
	return errors.As(err, &c) && c.CredentialError()
}

// Error codes by meaning. CI documents MediaBucketAlreadyBinded (403) and the
// numeric 1100 BucketAlreadyBinded (CI error tables, docs/sources.md §2.1;
// COS codes §2.2); the reply of POST /picbucket on a bucket
// that already has image processing is not published, so every "already
// bound" spelling counts.
var (
	alreadyEnabledCodes = map[string]bool{
		"MediaBucketAlreadyBinded": true, "BucketAlreadyBinded": true, "PicBucketAlreadyBinded": true,
		"BucketAlreadyBound": true, "1100": true,
	}
	retryableCodes = map[string]bool{
		"SlowDown": true, "InternalError": true, "ServiceUnavailable": true, "RequestTimeout": true,
		"QueueSaturated": true, "1020": true, "1007": true,
	}
	// credentialCodes mean the key itself is refused: every further request
	// with it would fail the same way, so a run stops at the first one.
	credentialCodes = map[string]bool{
		"ExpiredToken": true, "SignatureExpired": true, "InvalidAccessKeyId": true,
		"SecretidNotExist": true, "SignatureDoesNotMatch": true, "InvalidAuthorization": true,
		"MissingAuthorization": true, "RequestTimeTooSkewed": true, "1014": true,
	}
)

// MalformedResponse is the Code of an answer that was no error but whose
// body could not be read.
const MalformedResponse = "MalformedResponse"

// IsUnreadableSuccess reports a 2xx answer whose body could not be read:
// the service did what was asked, but what it said about it is unknown.
// Tencent's POST /ai_bucket pages print such a body (docs/sources.md §10).
func IsUnreadableSuccess(err error) bool {
	e, ok := apiError(err)
	return ok && e.Status >= 200 && e.Status < 300 && e.Code == MalformedResponse
}

// apiError returns err's *Error, if it has one.
func apiError(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// IsAlreadyEnabled reports an answer meaning the bucket already has image processing.
func IsAlreadyEnabled(err error) bool {
	e, ok := apiError(err)
	if !ok || e.Status == 0 {
		return false
	}
	return alreadyEnabledCodes[e.Code] || strings.Contains(strings.ToLower(e.Code), "alreadybind")
}

// IsCredentialError reports that the credentials were missing or refused,
// by the answer's code alone (credentialCodes). The words of a message are
// never enough: an AccessDenied whose message speaks of a token or of
// expiry is a permission refusal like any other AccessDenied, which the
// run judges by its streak and probes before it stops.
func IsCredentialError(err error) bool {
	if isMissingCredential(err) {
		return true
	}
	e, ok := apiError(err)
	if !ok || e.Status == 0 {
		return false
	}
	return credentialCodes[e.Code]
}

// IsQueueBusy reports CI's answer that its queue cannot take the request
// now: 403 QueueSaturated (full) or QueuePaused (paused), listed beside
// AccessDenied in CI's error table (docs/sources.md §2.1). The status
// alone would read as a permission refusal; neither is one.
// QueueSaturated is retried (IsRetryable); QueuePaused waits for whoever
// paused the queue, so it is not.
func IsQueueBusy(err error) bool {
	e, ok := apiError(err)
	return ok && e.Status != 0 && (e.Code == "QueueSaturated" || e.Code == "QueuePaused")
}

// IsRetryable reports a failure that a later attempt may not meet: throttling
// (429, SlowDown), a server error (5xx), a timeout or a connection failure.
// Authentication and permission errors are never retryable.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, ErrHostNotAllowed) ||
		isMissingCredential(err) {
		return false
	}
	e, ok := apiError(err)
	if !ok {
		return false
	}
	if e.Status == 0 {
		return true // no answer: timeout, reset, refused connection
	}
	if credentialCodes[e.Code] || e.Status == 401 || (e.Status == 403 && e.Code != "QueueSaturated") {
		return false
	}
	return e.Status == 429 || e.Status >= 500 || retryableCodes[e.Code]
}

// IsNoSuchBucket reports that the bucket does not exist: COS's 404
// NoSuchBucket (COS error codes,
// https://www.tencentcloud.com/document/product/436/7730; docs/sources.md
// §2.2). CI answers it
// for a bucket it does not know, which right after PutBucket may be one it
// has not seen yet, and right after a listing one deleted since.
func IsNoSuchBucket(err error) bool {
	e, ok := apiError(err)
	return ok && e.Status == 404 && e.Code == "NoSuchBucket"
}

// IsThrottled reports a throttling answer (429 or SlowDown).
func IsThrottled(err error) bool {
	e, ok := apiError(err)
	return ok && e.Status != 0 && (e.Status == 429 || e.Code == "SlowDown" || e.Code == "1020")
}

// IsUnbound reports CI's answer for a bucket that was unbound from Cloud
// Infinite by hand: the POST /picbucket page
// (https://cloud.tencent.com/document/api/460/95749) warns that after a
// manual unbind "you will not be able to continue using this function",
// without naming the code. CI's numeric error table has 1111
// MediaBucketUnBinded ("The bucket is not bound"; tencentyun/intlcloud-documents
// yehe_doc/基础存储服务/数据万象/API 文档/错误码_intl_en.md), the Android SDK's
// tests show AIBucketUnBinded (tencentyun/qcloud-sdk-android AITest.java),
// and third-party code shows PicBucketUnBinded: every code ending in
// UnBinded/Unbinded counts, at any status (none is documented).
func IsUnbound(err error) bool {
	e, ok := apiError(err)
	if !ok || e.Status == 0 {
		return false
	}
	return e.Code == "1111" || strings.HasSuffix(strings.ToLower(e.Code), "unbinded")
}

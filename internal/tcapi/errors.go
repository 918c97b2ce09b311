package tcapi

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
)

// APIError is an error answer of API 3.0 ({"Response":{"Error":{"Code",
// "Message"},"RequestId"}}), or a failure the SDK reports in the same shape
// (codes ClientError.*: ClientError.NetworkError for a transport error,
// ClientError.HttpStatusCodeError for an answer other than HTTP 200,
// ClientError.ParseJsonError for an answer that is not the envelope). It
// wraps the SDK's TencentCloudSDKError; errors.Is/As reach its cause (for
// example context.DeadlineExceeded). Its text never quotes an answer's body
// (an AssumeRole answer holds a key) nor a request's headers.
type APIError struct {
	Service, Action, Code, Message, RequestID string
	status                                    int // the HTTP status, when the SDK saw one
	cause                                     error
}

func (e *APIError) Error() string {
	s := e.Service + " " + e.Action + ": " + e.Code
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.cause != nil && strings.HasPrefix(e.Code, "ClientError.") {
		s += ": " + e.cause.Error()
	}
	if e.RequestID != "" {
		s += " (RequestId " + e.RequestID + ")"
	}
	return s
}

// Unwrap returns the SDK error's cause (a transport error), if any.
func (e *APIError) Unwrap() error { return e.cause }

// HTTPStatus is the HTTP status of the answer, when one arrived (API 3.0
// answers 200 even to errors), else 0.
func (e *APIError) HTTPStatus() int { return e.status }

func newAPIError(a api, se *tcerr.TencentCloudSDKError, status int) *APIError {
	return &APIError{Service: a.service, Action: a.action, Code: printable(se.Code), Message: printable(sanitize(se.Code, se.Message, status)),
		RequestID: printable(se.RequestId), status: status, cause: errors.Unwrap(se)}
}

// printable drops control characters (terminal escapes, carriage returns,
// NULs: an answer must not rewrite the operator's terminal) and bounds the
// text to 1,000 runes.
func printable(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if unicode.IsControl(r) || r == utf8.RuneError {
			continue
		}
		if n++; n > 1000 {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}

// urlInText is an http(s) URL inside an error message.
var urlInText = regexp.MustCompile(`(?i)https?://[^\s"'<>]+`)

// redactURLs replaces the user and query of each URL in msg: an API 3.0
// message may quote a parameter's value, and a URL parameter may carry a
// key in its query (a WeCom robot's webhook in cls CreateAlarmNotice).
func redactURLs(msg string) string {
	return urlInText.ReplaceAllStringFunc(msg, func(s string) string {
		u, err := url.Parse(s)
		if err != nil {
			return "(a URL, redacted)"
		}
		if u.User == nil && u.RawQuery == "" && u.Fragment == "" {
			return s
		}
		u.User, u.RawQuery, u.Fragment = nil, "", ""
		return u.String() + "?(redacted)"
	})
}

// sanitize drops the answer bodies the SDK quotes in its client-side
// messages, and the user and query of any URL a message quotes.
func sanitize(code, msg string, status int) string {
	msg = redactURLs(msg)
	switch code {
	case "ClientError.ParseJsonError":
		if status != 0 && status != 200 {
			return fmt.Sprintf("the answer (HTTP %d) is not the API 3.0 JSON envelope", status)
		}
		return "the answer is not the API 3.0 JSON envelope"
	case "ClientError.HttpStatusCodeError":
		if i := strings.Index(msg, ", with body"); i >= 0 {
			msg = msg[:i]
		}
	}
	return msg
}

// Code returns err's API error code, or "" when err is not an *APIError.
func Code(err error) string {
	var e *APIError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// IsThrottled reports whether err is a frequency limit: RequestLimitExceeded
// and its kin (RequestLimitExceeded.UinLimitExceeded, .IPLimitExceeded,
// .GlobalRegionUinLimitExceeded …), STS's InvalidParameter.OverLimit
// ("超过频率限制"), or an HTTP 429.
func IsThrottled(err error) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	return e.Code == "RequestLimitExceeded" || strings.HasPrefix(e.Code, "RequestLimitExceeded.") ||
		e.Code == "InvalidParameter.OverLimit" || e.status == 429
}

// IsRoleRefused reports whether err (from AssumeRole) says the member's
// role cannot be assumed by this caller: the role does not exist
// (ResourceNotFound.RoleNotFound), the caller may not assume it
// (UnauthorizedOperation, AuthFailure.UnauthorizedOperation), the account is
// unknown or unusable (InvalidParameter.AccountNotAvaliable, spelled so by
// the API), or the role is invalid (InternalError.IllegalRole). Retrying
// does not help; the member is reported and skipped.
func IsRoleRefused(err error) bool {
	switch Code(err) {
	case "ResourceNotFound.RoleNotFound", "UnauthorizedOperation", "AuthFailure.UnauthorizedOperation",
		"InvalidParameter.AccountNotAvaliable", "InternalError.IllegalRole":
		return true
	}
	return false
}

// retryable reports whether another attempt may succeed: throttling, a
// transport error, an HTTP 5xx, or a server-side transient error.
func retryable(err error) bool {
	var e *APIError
	if !errors.As(err, &e) {
		return false
	}
	if IsThrottled(err) || e.status >= 500 {
		return true
	}
	switch e.Code {
	case "ClientError.NetworkError", "ClientError.IOError",
		"InternalError", "InternalError.SystemError", "InternalError.System", "InternalError.UnknownError",
		"ServiceUnavailable", "ResourceUnavailable.ServiceUnavailable":
		return true
	case "ClientError.HttpStatusCodeError":
		// The SDK's message names the status when the transport did not record it.
		return strings.Contains(e.Message, "status code: 5")
	}
	return false
}

// KeyHint says what to do when an API 3.0 answer refuses the key itself
// (the AuthFailure codes of the common error codes), or "" for another
// code. The command-line tools add their own hints for the rest.
func KeyHint(code string) string {
	switch {
	case code == "AuthFailure.SignatureFailure":
		return "the signature does not verify: the SecretKey does not belong to the SecretId (check TENCENTCLOUD_SECRETKEY)"
	case code == "AuthFailure.SecretIdNotFound" || code == "AuthFailure.InvalidSecretId":
		return "the SecretId is unknown or disabled (check TENCENTCLOUD_SECRETID)"
	case code == "AuthFailure.TokenFailure":
		return "a temporary key needs its TENCENTCLOUD_SESSIONTOKEN and a permanent key must have none; an expired temporary key fails this way too"
	case code == "AuthFailure.SignatureExpire":
		return "this machine's clock is more than 5 minutes off, or the temporary key has expired"
	}
	return ""
}

// hintedError is an API error with what to do about it (Hint) on a line of
// its own. errors.As reaches the *APIError, and Code reads its code.
type hintedError struct {
	err  error
	hint string
}

func (e *hintedError) Error() string { return e.err.Error() + "\n  hint: " + e.hint }

func (e *hintedError) Unwrap() error { return e.err }

// withHint adds Hint's advice to an error answer.
func withHint(err error) error {
	var e *APIError
	if errors.As(err, &e) {
		if h := Hint(e.Service, e.Action, e.Code); h != "" {
			return &hintedError{err: err, hint: h}
		}
	}
	return err
}

// Hint says what to do about an error code of an action of the products
// go run ./cmd/wire manages (eb, cls, cloudaudit, scf), or "".
func Hint(service, action, code string) string {
	if h := KeyHint(code); h != "" {
		return h
	}
	switch {
	case code == "RequestLimitExceeded":
		return "throttled: run again in a few seconds"
	case strings.HasPrefix(code, "ClientError.Network") || code == "ClientError.HttpStatusCodeError":
		if service == EventBridgeService {
			return "the API could not be reached: check the network, a proxy (HTTPS_PROXY), and --api-host"
		}
		return "the API could not be reached: check the network and a proxy (HTTPS_PROXY)"
	}
	if service == EventBridgeService {
		return ebHint(code)
	}
	track := service == CloudAuditService && (action == "CreateAuditTrack" || action == "ModifyAuditTrack")
	switch {
	case track && (code == "UnauthorizedOperation" || code == "AuthFailure.UnauthorizedOperation" ||
		strings.HasPrefix(code, "FailedOperation") && !strings.Contains(code, "Cls") && !strings.Contains(code, "Cos")):
		return "CloudAudit refused the tracking set. Delivering every member's logs (TrackForAllMembers=1) is allowed only to the " +
			"organization's management account or CloudAudit's delegated administrator, with enterprise verification done: run `wire apply --org` " +
			"with a key of that account (or make this account CloudAudit's delegated administrator in the Organization console). " +
			"If it is that account, the key's CAM user lacks cloudaudit:CreateAuditTrack, cloudaudit:ModifyAuditTrack (see docs/organization-trail.md)"
	case code == "AuthFailure.UnauthorizedOperation" || strings.HasPrefix(code, "UnauthorizedOperation"):
		return "the key's CAM user lacks a permission for " + service + ":" + action + " (docs/organization-trail.md lists what wire apply --org needs)"
	case code == "ResourceNotFound.Function" || code == "ResourceNotFound.FunctionName" || code == "ResourceNotFound.Namespace":
		return "deploy the function first, and check --function, --namespace and --region (the function's region)"
	case code == "FailedOperation.CheckClsTopicIsExistFailed" || code == "FailedOperation.GetClsTopicFailed":
		return "CloudAudit could not find the CLS topic: it must be in --region of this account; run again in a minute if it was just created"
	case code == "LimitExceeded.OverAmount":
		return "the account's quota of CloudAudit tracking sets is reached: delete one you no longer use, or pass --track-name of an existing one to reuse it"
	case code == "LimitExceeded.Logset" || code == "LimitExceeded.Topic":
		return "the CLS quota of logsets or topics in this region is reached: pass --logset/--topic names of existing ones"
	}
	return ""
}

// ebHint says what to do about an EventBridge error code.
func ebHint(code string) string {
	switch {
	case code == "AuthFailure.UnauthorizedOperation" || strings.HasPrefix(code, "UnauthorizedOperation"):
		return "the key's CAM user lacks EventBridge permissions: grant eb:ListEventBuses, eb:ListRules, eb:GetRule, eb:CreateRule, eb:UpdateRule, eb:ListTargets, eb:CreateTarget (and eb:DeleteTarget, eb:DeleteRule for --delete)"
	case code == "ResourceNotFound.EventBus":
		return "no such event bus in this region: the Tencent Cloud service event bus lives in ap-guangzhou (--region)"
	case code == "ResourceNotFound.Function" || code == "ResourceNotFound.Namespace" || code == "ResourceNotFound.Version":
		return "deploy the function first, and check --function, --namespace, --function-region and --qualifier"
	case strings.HasPrefix(code, "LimitExceeded"):
		return "an EventBridge quota is reached (200 rules on the service bus, 10 targets per rule)"
	}
	return ""
}

// Package auditapi wires the organization's CloudAudit trail to the
// function: a CLS logset and topic in the function's region (cls
// 2020-10-16), a CloudAudit tracking set delivering the COS write events of
// every member account to that topic (cloudaudit 2019-03-19,
// TrackForAllMembers), and the topic's delivery to the function, a CLS
// trigger (cls CreateDeliverCloudFunction, seen through scf 2018-04-16
// ListTriggers). Every call goes through the official SDK's generic request
// support (tencentcloud-sdk-go common: CommonRequest, TC3-HMAC-SHA256
// signing). Read finds what exists, Diff plans the writes, Execute sends
// them; cmd/auditwire is the command line and internal/tcapi/tcemu the
// emulator its tests run against.
package auditapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"

	"github.com/picbucket/picbucket/internal/rules"
	"github.com/picbucket/picbucket/internal/tcapi"
	"github.com/picbucket/picbucket/signer"
)

// The services and versions this package calls; each answers at
// <service>.<root domain> (cls.tencentcloudapi.com …).
const (
	CLS               = "cls"
	CLSVersion        = "2020-10-16"
	CloudAudit        = "cloudaudit"
	CloudAuditVersion = "2019-03-19"
	SCF               = "scf"
	SCFVersion        = "2018-04-16"
	// DefaultRootDomain is the API's root domain; the international site's
	// is intl.tencentcloudapi.com.
	DefaultRootDomain = "tencentcloudapi.com"
)

// Credentials sign the requests: the function's one credentials type,
// whose every formatting verb hides the secrets.
type Credentials = signer.Credentials

// Options configure a Client.
type Options struct {
	// Region is X-TC-Region: the function's region, where the CLS topic is.
	Region string
	// RootDomain is the endpoints' root domain; DefaultRootDomain when empty.
	RootDomain string
	// Endpoint is a test setting: when set, every request goes to it over
	// plain HTTP while the Host header and the signature stay those of
	// production. rules.Endpoint says what is accepted.
	Endpoint *url.URL
	// Credentials sign every request.
	Credentials Credentials
	// Transport sends the signed requests; a clone of http.DefaultTransport
	// when nil.
	Transport http.RoundTripper
	// Timeout bounds each request; 30 s when zero.
	Timeout time.Duration
}

// Client calls the CLS, CloudAudit and SCF APIs with one key.
type Client struct {
	opts Options
	rt   http.RoundTripper
}

// ErrInvalid reports an option or argument refused before anything is sent.
var ErrInvalid = errors.New("auditapi: invalid argument")

// New returns a Client for o.
func New(o Options) (*Client, error) {
	if o.Region == "" {
		return nil, fmt.Errorf("%w: no region", ErrInvalid)
	}
	if o.Credentials.SecretID == "" || o.Credentials.SecretKey == "" {
		return nil, fmt.Errorf("%w: %v: a SecretID and a SecretKey are required", ErrInvalid, o.Credentials)
	}
	if o.RootDomain == "" {
		o.RootDomain = DefaultRootDomain
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	rt := o.Transport
	if rt == nil {
		rt = http.DefaultTransport.(*http.Transport).Clone()
	}
	if o.Endpoint != nil {
		if err := rules.Endpoint(o.Endpoint); err != nil {
			return nil, fmt.Errorf("%w: endpoint %q: %w", ErrInvalid, o.Endpoint.Redacted(), err)
		}
		rt = rules.Redirect{To: o.Endpoint, Next: rt}
	}
	return &Client{opts: o, rt: rt}, nil
}

// APIError is an error answer of the API, or a client-side failure the SDK
// reports in the same shape (codes ClientError.*). Its text never quotes a
// request's headers.
type APIError struct {
	Service, Action, Code, Message, RequestID string
}

func (e *APIError) Error() string {
	s := e.Service + " " + e.Action + ": " + e.Code + ": " + e.Message
	if e.RequestID != "" {
		s += " (RequestId " + e.RequestID + ")"
	}
	if h := Hint(e.Service, e.Action, e.Code); h != "" {
		s += "\n  hint: " + h
	}
	return s
}

// Code returns err's API error code, or "".
func Code(err error) string {
	var e *APIError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// call sends one action and decodes the Response object into out (nil to
// discard it).
func (c *Client) call(ctx context.Context, service, version, action string, params map[string]any, out any) error {
	req := tchttp.NewCommonRequest(service, version, action)
	if params == nil {
		params = map[string]any{}
	}
	if err := req.SetActionParameters(params); err != nil {
		return fmt.Errorf("%s %s: %w", service, action, err)
	}
	req.SetContext(ctx)
	resp := tchttp.NewCommonResponse()
	if err := c.sdk().Send(req, resp); err != nil {
		var se *tcerr.TencentCloudSDKError
		if errors.As(err, &se) {
			msg := se.Message
			if i := strings.Index(msg, ", with body"); i >= 0 {
				msg = msg[:i]
			}
			return &APIError{Service: service, Action: action, Code: se.Code, Message: msg, RequestID: se.RequestId}
		}
		return fmt.Errorf("%s %s: %w", service, action, err)
	}
	var env struct{ Response json.RawMessage }
	if err := json.Unmarshal(resp.GetBody(), &env); err != nil || len(env.Response) == 0 {
		return &APIError{Service: service, Action: action, Code: "ClientError.ParseJsonError", Message: "the answer has no Response object"}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Response, out); err != nil {
		return &APIError{Service: service, Action: action, Code: "ClientError.ParseJsonError", Message: "decoding the answer: " + err.Error()}
	}
	return nil
}

func (c *Client) sdk() *common.Client {
	return tcapi.SDK(c.opts.Credentials, c.opts.Region, tcapi.SDKProfile{RootDomain: c.opts.RootDomain, Timeout: c.opts.Timeout}, c.rt)
}

// Hint says what to do about an error code of an action.
func Hint(service, action, code string) string {
	track := service == CloudAudit && (action == "CreateAuditTrack" || action == "ModifyAuditTrack")
	switch {
	case code == "AuthFailure.SignatureFailure":
		return "the signature does not verify: the SecretKey does not belong to the SecretId (check TENCENTCLOUD_SECRETKEY)"
	case code == "AuthFailure.SecretIdNotFound" || code == "AuthFailure.InvalidSecretId":
		return "the SecretId is unknown or disabled (check TENCENTCLOUD_SECRETID)"
	case code == "AuthFailure.TokenFailure":
		return "a temporary key needs its TENCENTCLOUD_SESSIONTOKEN and a permanent key must have none; an expired temporary key fails this way too"
	case code == "AuthFailure.SignatureExpire":
		return "this machine's clock is more than 5 minutes off, or the temporary key has expired"
	case track && (code == "UnauthorizedOperation" || code == "AuthFailure.UnauthorizedOperation" ||
		strings.HasPrefix(code, "FailedOperation") && !strings.Contains(code, "Cls") && !strings.Contains(code, "Cos")):
		return "CloudAudit refused the tracking set. Delivering every member's logs (TrackForAllMembers=1) is allowed only to the " +
			"organization's management account or CloudAudit's delegated administrator, with enterprise verification done: run auditwire " +
			"with a key of that account (or make this account CloudAudit's delegated administrator in the Organization console). " +
			"If it is that account, the key's CAM user lacks cloudaudit:CreateAuditTrack, cloudaudit:ModifyAuditTrack (see docs/organization-trail.md)"
	case code == "AuthFailure.UnauthorizedOperation" || strings.HasPrefix(code, "UnauthorizedOperation"):
		return "the key's CAM user lacks a permission for " + service + ":" + action + " (docs/organization-trail.md lists what auditwire needs)"
	case code == "ResourceNotFound.Function" || code == "ResourceNotFound.FunctionName" || code == "ResourceNotFound.Namespace":
		return "deploy the function first, and check --function, --namespace and --region (the function's region)"
	case code == "FailedOperation.CheckClsTopicIsExistFailed" || code == "FailedOperation.GetClsTopicFailed":
		return "CloudAudit could not find the CLS topic: it must be in --region of this account; run again in a minute if it was just created"
	case code == "LimitExceeded.OverAmount":
		return "the account's quota of CloudAudit tracking sets is reached: delete one you no longer use, or pass --track-name of an existing one to reuse it"
	case code == "LimitExceeded.Logset" || code == "LimitExceeded.Topic":
		return "the CLS quota of logsets or topics in this region is reached: pass --logset/--topic names of existing ones"
	case code == "RequestLimitExceeded":
		return "throttled: run again in a few seconds"
	case strings.HasPrefix(code, "ClientError.Network") || code == "ClientError.HttpStatusCodeError":
		return "the API could not be reached: check the network and a proxy (HTTPS_PROXY)"
	}
	return ""
}

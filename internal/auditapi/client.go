// Package auditapi wires the organization's CloudAudit trail to the
// function: a CLS logset and topic in the function's region (cls
// 2020-10-16), a CloudAudit tracking set delivering the COS write events of
// every member account to that topic (cloudaudit 2019-03-19,
// TrackForAllMembers), and the topic's delivery to the function, a CLS
// trigger (cls CreateDeliverCloudFunction, seen through scf 2018-04-16
// ListTriggers). Every call goes through tcapi.Client.Call: the official
// SDK's generic request support (tencentcloud-sdk-go common: CommonRequest,
// TC3-HMAC-SHA256 signing), tcapi's retries of throttled and transient
// failures, and its *tcapi.APIError, whose text never quotes an answer's
// body; Hint's advice follows it on a line of its own. Read finds what exists, Diff plans the writes, Execute sends
// them; go run ./cmd/wire trail (and apply --org) is the command line and internal/tcapi/tcemu the
// emulator its tests run against.
package auditapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/picbucket/picbucket/internal/retry"
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
	// is tcapi.IntlRootDomain.
	DefaultRootDomain = tcapi.DefaultRootDomain
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
	// Timeout bounds each request (attempt); tcapi.DefaultTimeout when zero.
	Timeout time.Duration
	// Retry bounds the attempts for throttling, HTTP 5xx answers and
	// transport errors; tcapi.Options.Retry says the default.
	Retry retry.Policy
}

// Client calls the CLS, CloudAudit and SCF APIs with one key, through
// tcapi's sender (tcapi.Client.Call).
type Client struct {
	opts Options
	api  *tcapi.Client
	// write sends Execute's writes once: a create answered with a
	// transient failure may have taken effect, so the caller reads again
	// (Read, Diff) before it sends it again (tcapi.Transient).
	write *tcapi.Client
}

// String shows the options with the key masked (signer.Credentials.String).
func (o Options) String() string {
	return fmt.Sprintf("auditapi.Options{Region:%s RootDomain:%s Endpoint:%s Credentials:%s Timeout:%s}",
		o.Region, o.RootDomain, o.Endpoint.Redacted(), o.Credentials, o.Timeout)
}

// GoString is String.
func (o Options) GoString() string { return o.String() }

// Format implements fmt.Formatter: every verb prints String.
func (o Options) Format(f fmt.State, verb rune) { signer.FormatMasked(f, verb, o.String()) }

// String names the client's key masked and its region; never a secret.
func (c Client) String() string {
	return "auditapi.Client{" + c.opts.Credentials.String() + " Region:" + c.opts.Region + "}"
}

// GoString is String: %#v prints no secret either.
func (c Client) GoString() string { return c.String() }

// Format implements fmt.Formatter: every verb prints String (the key sits
// in unexported fields, which fmt would print raw).
func (c Client) Format(f fmt.State, verb rune) { signer.FormatMasked(f, verb, c.String()) }

// ErrInvalid reports an option or argument refused before anything is sent.
var ErrInvalid = errors.New("auditapi: invalid argument")

// New returns a Client for o. tcapi.New checks the options: a region, a key
// with a SecretID and a SecretKey, and an Endpoint rules.Endpoint accepts.
func New(o Options) (*Client, error) {
	to := tcapi.Options{Region: o.Region, RootDomain: o.RootDomain, Endpoint: o.Endpoint, Timeout: o.Timeout, Transport: o.Transport, Retry: o.Retry}
	api, err := tcapi.New(o.Credentials, to)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	to.Retry = retry.Policy{Attempts: 1}
	write, err := tcapi.New(o.Credentials, to)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	return &Client{opts: o, api: api, write: write}, nil
}

// hinted is an API error with what to do about it (Hint) on a line of its
// own. errors.As reaches the *tcapi.APIError, and tcapi.Code reads its code.
type hinted struct {
	err  error
	hint string
}

func (e *hinted) Error() string { return e.err.Error() + "\n  hint: " + e.hint }

func (e *hinted) Unwrap() error { return e.err }

// call sends one action with tcapi.Client.Call (its retries, its
// *tcapi.APIError) and adds Hint's advice to an error answer.
func (c *Client) call(ctx context.Context, service, version, action string, params map[string]any, out any) error {
	return c.send(ctx, c.api, service, version, action, params, out)
}

// send is call through api (c.api for reads, c.write for Execute's writes).
func (c *Client) send(ctx context.Context, api *tcapi.Client, service, version, action string, params map[string]any, out any) error {
	err := api.Call(ctx, service, version, action, params, out)
	var e *tcapi.APIError
	if errors.As(err, &e) {
		if h := Hint(e.Service, e.Action, e.Code); h != "" {
			return &hinted{err: err, hint: h}
		}
	}
	return err
}

// Hint says what to do about an error code of an action.
func Hint(service, action, code string) string {
	if h := tcapi.KeyHint(code); h != "" {
		return h
	}
	track := service == CloudAudit && (action == "CreateAuditTrack" || action == "ModifyAuditTrack")
	switch {
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

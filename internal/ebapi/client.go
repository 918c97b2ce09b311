// Package ebapi calls the Tencent Cloud EventBridge API (service eb,
// version 2021-04-16) through the official SDK's generic request support
// (tencentcloud-sdk-go common: CommonRequest, CommonResponse, TC3-HMAC-SHA256
// signing) through tcapi.Client.Call, the repository's one API 3.0 sender
// (its retries, and its errors that never quote an answer's body), and wires the function to the Tencent Cloud service event bus:
// one rule matching CloudAudit's COS PutBucket records and one SCF target.
// go run ./cmd/wire eventbridge (and apply) is its command line;
// internal/ebapi/ebemu answers its actions inside internal/tcapi/tcemu.
package ebapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/picbucket/picbucket/internal/retry"
	"github.com/picbucket/picbucket/internal/rules"
	"github.com/picbucket/picbucket/internal/tcapi"
	"github.com/picbucket/picbucket/signer"
)

// The API's coordinates.
const (
	Service     = "eb"
	Version     = "2021-04-16"
	DefaultHost = "eb.tencentcloudapi.com" // the international site's is eb.intl.tencentcloudapi.com
)

// ErrNoCredentials reports that no usable key was found in the environment.
var ErrNoCredentials = errors.New("no credentials")

// Credential variables: the Tencent Cloud CLI/SDK names first, then the
// names the Serverless Framework's .env uses.
var credentialVars = [][3]string{
	{"TENCENTCLOUD_SECRETID", "TENCENTCLOUD_SECRETKEY", "TENCENTCLOUD_SESSIONTOKEN"},
	{"TENCENT_SECRET_ID", "TENCENT_SECRET_KEY", "TENCENT_TOKEN"},
}

// CredentialsFromEnv reads a key from TENCENTCLOUD_SECRETID,
// TENCENTCLOUD_SECRETKEY and TENCENTCLOUD_SESSIONTOKEN, or, when
// TENCENTCLOUD_SECRETID is unset, from TENCENT_SECRET_ID, TENCENT_SECRET_KEY
// and TENCENT_TOKEN. The token is optional (permanent keys have none).
func CredentialsFromEnv(getenv func(string) string) (signer.Credentials, error) {
	for _, v := range credentialVars {
		c := signer.Credentials{SecretID: strings.TrimSpace(getenv(v[0])), SecretKey: strings.TrimSpace(getenv(v[1])), SessionToken: strings.TrimSpace(getenv(v[2]))}
		if c.SecretID == "" {
			continue
		}
		if c.SecretKey == "" {
			return signer.Credentials{}, fmt.Errorf("%w: %s is set but %s is not", ErrNoCredentials, v[0], v[1])
		}
		return c, nil
	}
	return signer.Credentials{}, fmt.Errorf("%w: set TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY (and TENCENTCLOUD_SESSIONTOKEN for a temporary key), "+
		"or TENCENT_SECRET_ID, TENCENT_SECRET_KEY (and TENCENT_TOKEN)", ErrNoCredentials)
}

// Options configure a Client.
type Options struct {
	// Region is X-TC-Region: the region of the event bus.
	Region string
	// Host is the API host; DefaultHost when empty. Only Tencent Cloud's
	// EventBridge hosts are accepted (ValidHost): the requests carry the
	// key's signature and token.
	Host string
	// Endpoint is a test setting: when set (http://HOST:PORT, HOST a
	// loopback or private address: rules.Endpoint), every request goes there
	// over plain HTTP, never through a proxy, while the Host header and the
	// signature stay those of Host, exactly as in production.
	Endpoint *url.URL
	// Credentials sign every request.
	Credentials signer.Credentials
	// Transport sends the signed requests; a clone of http.DefaultTransport
	// when nil. DryRunTransport replaces it for a dry run.
	Transport http.RoundTripper
	// Timeout bounds each request; 30 s when zero.
	Timeout time.Duration
	// ReadOnly, when set, makes the client send only the read actions
	// (IsRead): each write is printed to ReadOnly and answered as a success
	// instead (ReadOnlyTransport). A dry run against the real account.
	ReadOnly io.Writer
	// Retry bounds the attempts of a read (throttling, HTTP 5xx, transport
	// errors); tcapi's default when Attempts is 0. A write is sent once per
	// attempt of Apply's own loop, which reads before it sends a create
	// again (see Apply).
	Retry retry.Policy
}

// hostRE is an EventBridge API 3.0 host: eb.tencentcloudapi.com, the
// international site's eb.intl.tencentcloudapi.com, or a region's
// eb.<region>.tencentcloudapi.com (API 3.0's nearest-access endpoints).
var hostRE = regexp.MustCompile(`^eb\.((intl|[a-z]+(-[a-z]+)+(-\d+)?)\.)?tencentcloudapi\.com$`)

// ValidHost reports whether host is one of Tencent Cloud's EventBridge API
// hosts (hostRE), and returns its root domain (the part after "eb.").
func ValidHost(host string) (root string, ok bool) {
	if !hostRE.MatchString(host) {
		return "", false
	}
	return strings.TrimPrefix(host, Service+"."), true
}

// String shows the options with the key masked (signer.Credentials.String).
func (o Options) String() string {
	return fmt.Sprintf("ebapi.Options{Region:%s Host:%s Endpoint:%s Credentials:%s Timeout:%s}",
		o.Region, o.Host, o.Endpoint.Redacted(), o.Credentials, o.Timeout)
}

// GoString is String.
func (o Options) GoString() string { return o.String() }

// Format implements fmt.Formatter: every verb prints String.
func (o Options) Format(f fmt.State, verb rune) { signer.FormatMasked(f, verb, o.String()) }

// Client calls the EventBridge API.
type Client struct {
	read   *tcapi.Client // retries as Options.Retry says
	write  *tcapi.Client // one attempt: Apply reads before it creates again
	region string        // X-TC-Region
}

// String shows the client with its key masked (tcapi.Client.String).
func (c Client) String() string {
	if c.read == nil {
		return "ebapi.Client{}"
	}
	return "ebapi.Client{" + c.read.String() + " Region:" + c.region + "}"
}

// GoString is String: %#v prints no secret either.
func (c Client) GoString() string { return c.String() }

// Format implements fmt.Formatter: every verb prints String (the key sits
// in unexported fields, which fmt would print raw).
func (c Client) Format(f fmt.State, verb rune) { signer.FormatMasked(f, verb, c.String()) }

// New returns a Client for o. It refuses a host that is not Tencent
// Cloud's EventBridge API (ValidHost) and an Endpoint rules.Endpoint refuses.
func New(o Options) (*Client, error) {
	if o.Region == "" {
		return nil, errors.New("ebapi: no region")
	}
	if o.Host == "" {
		o.Host = DefaultHost
	}
	root, ok := ValidHost(o.Host)
	if !ok {
		return nil, fmt.Errorf("ebapi: API host %q: want eb.tencentcloudapi.com, eb.intl.tencentcloudapi.com or eb.<region>.tencentcloudapi.com", o.Host)
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	rt := o.Transport
	if o.Endpoint != nil {
		if err := rules.Endpoint(o.Endpoint); err != nil {
			return nil, fmt.Errorf("ebapi: endpoint %q: %w", o.Endpoint.Redacted(), err)
		}
		// Next to the transport, so that it drops the proxy (rules.Redirect);
		// the dry run's ReadOnlyTransport goes on top.
		rt = rules.Redirect{To: o.Endpoint, Next: rt}
	} else if rt == nil {
		rt = http.DefaultTransport.(*http.Transport).Clone()
	}
	if o.ReadOnly != nil {
		rt = ReadOnlyTransport(o.ReadOnly, rt)
	}
	opts := tcapi.Options{Region: o.Region, RootDomain: root, Timeout: o.Timeout, Transport: rt, Retry: o.Retry}
	read, err := tcapi.New(o.Credentials, opts)
	if err != nil {
		return nil, fmt.Errorf("ebapi: %w", err)
	}
	opts.Retry = retry.Policy{Attempts: 1}
	write, err := tcapi.New(o.Credentials, opts)
	if err != nil {
		return nil, fmt.Errorf("ebapi: %w", err)
	}
	return &Client{read: read, write: write, region: o.Region}, nil
}

// APIError is an error answer of the API, or a client-side failure the SDK
// reports in the same shape (codes ClientError.*): tcapi's, whose text
// quotes neither the answer's body nor the request's headers.
type APIError = tcapi.APIError

// hinted is an API error with what to do about it on a line of its own.
// errors.As reaches the *APIError.
type hinted struct {
	err  error
	hint string
}

func (e *hinted) Error() string { return e.err.Error() + "\n  hint: " + e.hint }

func (e *hinted) Unwrap() error { return e.err }

// hint says what to do about an error code.
func hint(code string) string {
	if h := tcapi.KeyHint(code); h != "" {
		return h
	}
	switch {
	case code == "AuthFailure.UnauthorizedOperation" || strings.HasPrefix(code, "UnauthorizedOperation"):
		return "the key's CAM user lacks EventBridge permissions: grant eb:ListEventBuses, eb:ListRules, eb:GetRule, eb:CreateRule, eb:UpdateRule, eb:ListTargets, eb:CreateTarget (and eb:DeleteTarget, eb:DeleteRule for --delete)"
	case code == "ResourceNotFound.EventBus":
		return "no such event bus in this region: the Tencent Cloud service event bus lives in ap-guangzhou (--region)"
	case code == "ResourceNotFound.Function" || code == "ResourceNotFound.Namespace" || code == "ResourceNotFound.Version":
		return "deploy the function first, and check --function, --namespace, --function-region and --qualifier"
	case strings.HasPrefix(code, "LimitExceeded"):
		return "an EventBridge quota is reached (200 rules on the service bus, 10 targets per rule)"
	case code == "RequestLimitExceeded":
		return "throttled: run again in a few seconds"
	case strings.HasPrefix(code, "ClientError.Network") || code == "ClientError.HttpStatusCodeError":
		return "the API could not be reached: check the network, a proxy (HTTPS_PROXY), and --api-host"
	}
	return ""
}

// Call sends one action with params (a struct or map marshalled to JSON) and
// decodes the Response object into out (nil to discard it). A read (IsRead)
// is retried as Options.Retry says; a write is sent once.
func (c *Client) Call(ctx context.Context, action string, params, out any) error {
	var m map[string]any
	body, err := json.Marshal(params)
	if err == nil {
		err = json.Unmarshal(body, &m)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	api := c.write
	if IsRead(action) {
		api = c.read
	}
	err = api.Call(ctx, Service, Version, action, m, out)
	var e *APIError
	if errors.As(err, &e) {
		if h := hint(e.Code); h != "" {
			return &hinted{err: err, hint: h}
		}
	}
	return err
}

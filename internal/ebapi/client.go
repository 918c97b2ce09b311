// Package ebapi calls the Tencent Cloud EventBridge API (service eb,
// version 2021-04-16) through the official SDK's generic request support
// (tencentcloud-sdk-go common: CommonRequest, CommonResponse, TC3-HMAC-SHA256
// signing), and wires the function to the Tencent Cloud service event bus:
// one rule matching CloudAudit's COS PutBucket records and one SCF target.
// cmd/ebwire is its command line; internal/ebapi/ebemu its test double.
package ebapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	// Host is the API host; DefaultHost when empty.
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
	sdk    *common.Client
	region string // X-TC-Region
}

// New returns a Client for o.
func New(o Options) (*Client, error) {
	if o.Region == "" {
		return nil, errors.New("ebapi: no region")
	}
	if o.Host == "" {
		o.Host = DefaultHost
	}
	if o.Timeout == 0 {
		o.Timeout = 30 * time.Second
	}
	rt := o.Transport
	if o.Endpoint != nil {
		if err := rules.Endpoint(o.Endpoint); err != nil {
			return nil, fmt.Errorf("ebapi: endpoint %q: %w", o.Endpoint.Redacted(), err)
		}
		// Next to the transport, so that it drops the proxy (rules.Redirect).
		rt = rules.Redirect{To: o.Endpoint, Next: rt}
	} else if rt == nil {
		rt = http.DefaultTransport.(*http.Transport).Clone()
	}
	if o.ReadOnly != nil {
		rt = ReadOnlyTransport(o.ReadOnly, rt)
	}
	sdk := tcapi.SDK(o.Credentials, o.Region, tcapi.SDKProfile{Host: o.Host, Timeout: o.Timeout}, rt)
	return &Client{sdk: sdk, region: o.Region}, nil
}

// APIError is an error answer of the API, or a client-side failure the SDK
// reports in the same shape (codes ClientError.*).
type APIError struct {
	Action, Code, Message, RequestID string
}

func (e *APIError) Error() string {
	s := e.Action + ": " + e.Code + ": " + e.Message
	if e.RequestID != "" {
		s += " (RequestId " + e.RequestID + ")"
	}
	if h := hint(e.Code); h != "" {
		s += "\n  hint: " + h
	}
	return s
}

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
// decodes the Response object into out (nil to discard it).
func (c *Client) Call(ctx context.Context, action string, params, out any) error {
	req := tchttp.NewCommonRequest(Service, Version, action)
	body, err := json.Marshal(params)
	if err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	if err := req.SetActionParameters(body); err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	req.SetContext(ctx)
	resp := tchttp.NewCommonResponse()
	if err := c.sdk.Send(req, resp); err != nil {
		var se *tcerr.TencentCloudSDKError
		if errors.As(err, &se) {
			return &APIError{Action: action, Code: se.Code, Message: se.Message, RequestID: se.RequestId}
		}
		return fmt.Errorf("%s: %w", action, err)
	}
	var env struct{ Response json.RawMessage }
	if err := json.Unmarshal(resp.GetBody(), &env); err != nil || len(env.Response) == 0 {
		return fmt.Errorf("%s: the answer has no Response object", action)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Response, out); err != nil {
		return fmt.Errorf("%s: decoding the answer: %w", action, err)
	}
	return nil
}

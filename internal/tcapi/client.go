package tcapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/picbucket/picbucket/internal/retry"
	"github.com/picbucket/picbucket/internal/rules"
	"github.com/picbucket/picbucket/signer"
)

// Root domains of the API 3.0 endpoints: each service answers at
// <service>.<root domain>. The international site documents
// <service>.intl.tencentcloudapi.com.
const (
	DefaultRootDomain = "tencentcloudapi.com"
	IntlRootDomain    = "intl.tencentcloudapi.com"
)

// EndpointVar names the setting that carries Options.Endpoint; errors about
// the endpoint name it.
const EndpointVar = "PICBUCKET_API_ENDPOINT"

// DefaultTimeout bounds each request when Options.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// ErrInvalid reports an argument or option the package refuses before
// sending anything.
var ErrInvalid = errors.New("tcapi: invalid argument")

// Options configure a Client.
type Options struct {
	// Region is X-TC-Region for the services that need one (sts, scf):
	// the function's region (TENCENTCLOUD_REGION). Required.
	Region string
	// RootDomain is the endpoints' root domain; DefaultRootDomain when empty.
	RootDomain string
	// Endpoint is a test setting (EndpointVar): when set (http://HOST:PORT,
	// HOST a loopback or private address), every request goes there over
	// plain HTTP while the Host header (<service>.<RootDomain>) and the
	// TC3 signature stay exactly those of production, and never through
	// a proxy (rules.Redirect). Anything else is refused: the requests
	// carry the session token in clear text.
	Endpoint *url.URL
	// Timeout bounds each request (attempt); DefaultTimeout when zero. The
	// context's deadline bounds the whole call, retries included.
	Timeout time.Duration
	// Transport sends the signed requests; a clone of http.DefaultTransport
	// when nil.
	Transport http.RoundTripper
	// Retry bounds the attempts for throttling, 5xx answers and transport
	// errors; retry.Default (5 tries, jittered backoff) when Attempts is 0.
	// No wait passes the context's deadline.
	Retry retry.Policy
	// ReadOnly, when set, makes the client send only the read actions
	// (IsRead): each write is printed to ReadOnly and answered as a success
	// instead (ReadOnlyTransport, on top of the Endpoint's redirect). A dry
	// run against the real account.
	ReadOnly io.Writer
}

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

// Client calls API 3.0 with one credential set. It is safe for concurrent
// use. Make one per key: New for the function's own key, With for a key
// AssumeRole issued.
type Client struct {
	cred     signer.Credentials
	opts     Options
	rt       http.RoundTripper
	requests *atomic.Int64
	// passThrottles makes a throttled answer the call's error at once
	// (PassThrottles).
	passThrottles bool
}

// New returns a Client signing with cred (SessionToken is set for a
// temporary key: the SCF execution role's, or one AssumeRole issued). It
// refuses an Endpoint that is not http://HOST:PORT on a loopback or private
// address, a missing Region, and a key without SecretID or SecretKey.
func New(cred signer.Credentials, opts Options) (*Client, error) {
	if opts.Region == "" {
		return nil, fmt.Errorf("%w: no region (Options.Region)", ErrInvalid)
	}
	if cred.SecretID == "" || cred.SecretKey == "" {
		return nil, fmt.Errorf("%w: %v: a SecretID and a SecretKey are required", ErrInvalid, cred)
	}
	if opts.RootDomain == "" {
		opts.RootDomain = DefaultRootDomain
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.Retry.Attempts == 0 {
		opts.Retry = retry.Default
	}
	rt := opts.Transport
	if opts.Endpoint != nil {
		if err := rules.Endpoint(opts.Endpoint); err != nil {
			return nil, fmt.Errorf("%w: %s=%q: %w", ErrInvalid, EndpointVar, opts.Endpoint.Redacted(), err)
		}
		// Never through a proxy; a nil Transport is rules' shared one.
		rt = rules.Redirect{To: opts.Endpoint, Next: rt}
	} else if rt == nil {
		rt = http.DefaultTransport.(*http.Transport).Clone()
	}
	if opts.ReadOnly != nil {
		rt = ReadOnlyTransport(opts.ReadOnly, rt)
	}
	c := &Client{cred: cred, opts: opts, requests: new(atomic.Int64)}
	c.rt = counter{n: c.requests, next: rt}
	return c, nil
}

// String names the client's key masked (signer.Credentials.String) and its
// region and root domain; never a secret.
func (c Client) String() string {
	return "tcapi.Client{" + c.cred.String() + " Region:" + c.opts.Region + " RootDomain:" + c.opts.RootDomain + "}"
}

// GoString is String: %#v prints no secret either.
func (c Client) GoString() string { return c.String() }

// Format implements fmt.Formatter: every verb prints String (the key sits
// in an unexported field, which fmt would print raw).
func (c Client) Format(f fmt.State, verb rune) { signer.FormatMasked(f, verb, c.String()) }

// With returns a Client like c that signs with cred: for a member's key
// from AssumeRole. It shares c's options, transport and request counter.
func (c *Client) With(cred signer.Credentials) *Client {
	d := *c
	d.cred = cred
	return &d
}

// PassThrottles returns a Client like c (same key, options, transport and
// request counter) whose calls return a throttled answer (IsThrottled) as
// their error at once instead of retrying it, for a caller that paces its
// requests and sends a throttled one again itself (internal/pace). Other
// retryable failures are retried as Options.Retry says.
func (c *Client) PassThrottles() *Client {
	d := *c
	d.passThrottles = true
	return &d
}

// Requests is how many HTTP requests (attempts, retries included) this
// client and the clients derived from it with With have sent.
func (c *Client) Requests() int64 { return c.requests.Load() }

// attemptKey carries an *attempt in a request's context: counter records
// the HTTP status there, so that a 5xx answer can be retried.
type attemptKey struct{}

type attempt struct{ status int }

// counter counts the requests and records each answer's HTTP status.
type counter struct {
	n    *atomic.Int64
	next http.RoundTripper
}

func (t counter) RoundTrip(r *http.Request) (*http.Response, error) {
	t.n.Add(1)
	resp, err := t.next.RoundTrip(r)
	if a, ok := r.Context().Value(attemptKey{}).(*attempt); ok && resp != nil {
		a.status = resp.StatusCode
	}
	return resp, err
}

// sdk returns an SDK client for one request. region "" sends no X-TC-Region
// (for the services whose documents say the parameter is not required).
func (c *Client) sdk(region string) *common.Client {
	return SDK(c.cred, region, SDKProfile{RootDomain: c.opts.RootDomain, Timeout: c.opts.Timeout}, c.rt)
}

// SDKProfile is where and how long an SDK client sends.
type SDKProfile struct {
	// RootDomain makes the host <service>.<RootDomain>; Host, when set,
	// names the host itself.
	RootDomain, Host string
	// Timeout bounds each request (whole seconds, rounded up).
	Timeout time.Duration
}

// SDK returns tencentcloud-sdk-go's common client as every API 3.0 call of
// this repository uses it: TC3-HMAC-SHA256 over a POST with a JSON body,
// the key's token as X-TC-Token, HTTPS, answers in English, and never
// another region's endpoint; over rt.
func SDK(cred signer.Credentials, region string, p SDKProfile, rt http.RoundTripper) *common.Client {
	cp := profile.NewClientProfile()
	cp.HttpProfile.RootDomain = p.RootDomain
	cp.HttpProfile.Endpoint = p.Host
	cp.HttpProfile.Scheme = "HTTPS"
	cp.HttpProfile.ReqMethod = http.MethodPost
	cp.HttpProfile.ReqTimeout = int((p.Timeout + time.Second - 1) / time.Second)
	cp.SignMethod = "TC3-HMAC-SHA256"
	cp.Language = "en-US"
	cp.DisableRegionBreaker = true // never fall back to another endpoint
	return common.NewCommonClient(common.NewTokenCredential(cred.SecretID, cred.SecretKey, cred.SessionToken), region, cp).WithHttpTransport(rt)
}

// rawResponse keeps the answer's bytes (tchttp.CommonResponse would decode
// numbers into float64).
type rawResponse struct {
	tchttp.BaseResponse
	raw []byte
}

func (r *rawResponse) UnmarshalJSON(b []byte) error {
	r.raw = append(r.raw[:0], b...)
	return nil
}

// api names one action.
type api struct{ service, version, action string }

// Call sends one action of any API 3.0 service (version its API version,
// such as "2020-10-16") with params in X-TC-Region of the client's region,
// and decodes the Response object into out (nil to discard it). It is the
// one sender of the package's own calls too: throttling, HTTP 5xx answers
// and transport errors are retried as Options.Retry allows (PassThrottles
// applies), and a failure is an *APIError whose text quotes neither the
// answer's body nor the request's headers. A retried write may have been
// acted on before its failure: a caller sending one that is not idempotent
// must find a duplicate on its next read.
func (c *Client) Call(ctx context.Context, service, version, action string, params map[string]any, out any) error {
	return c.call(ctx, api{service, version, action}, c.opts.Region, params, out)
}

// call sends one action with params in X-TC-Region region ("" for none) and
// decodes the Response object into out, retrying as Options.Retry allows.
func (c *Client) call(ctx context.Context, a api, region string, params map[string]any, out any) error {
	_, err := c.opts.Retry.Do(ctx, func(err error) bool {
		return ctx.Err() == nil && retryable(err) && !(c.passThrottles && IsThrottled(err))
	}, func(ctx context.Context) error {
		return c.send(ctx, a, region, params, out)
	})
	return err
}

func (c *Client) send(ctx context.Context, a api, region string, params map[string]any, out any) error {
	req := tchttp.NewCommonRequest(a.service, a.version, a.action)
	if params == nil {
		params = map[string]any{}
	}
	if err := req.SetActionParameters(params); err != nil {
		return fmt.Errorf("%s %s: %w", a.service, a.action, err)
	}
	at := &attempt{}
	req.SetContext(context.WithValue(ctx, attemptKey{}, at))
	resp := &rawResponse{}
	if err := c.sdk(region).Send(req, resp); err != nil {
		var se *tcerr.TencentCloudSDKError
		if errors.As(err, &se) {
			return newAPIError(a, se, at.status)
		}
		return fmt.Errorf("%s %s: %w", a.service, a.action, err)
	}
	var env struct{ Response json.RawMessage }
	if err := json.Unmarshal(resp.raw, &env); err != nil || len(env.Response) == 0 || string(env.Response) == "null" {
		return &APIError{Service: a.service, Action: a.action, Code: "ClientError.ParseJsonError", Message: "the answer has no Response object"}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(env.Response, out); err != nil {
		return &APIError{Service: a.service, Action: a.action, Code: "ClientError.ParseJsonError", Message: "decoding the answer: " + typeError(err)}
	}
	return nil
}

// typeError describes a decoding error without quoting the answer.
func typeError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %s: a JSON %s where %s was expected", te.Field, te.Value, te.Type)
	}
	return "malformed JSON"
}

// List pages through an API 3.0 list action: it calls fetch with offsets
// until it has the total the answers give or a page comes back empty, at
// most maxPages pages.
func List[T any](action string, maxPages int, fetch func(offset int) (items []T, total int, err error)) ([]T, error) {
	var all []T
	for p := 0; p < maxPages; p++ {
		items, total, err := fetch(len(all))
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if len(items) == 0 || len(all) >= total {
			return all, nil
		}
	}
	return nil, fmt.Errorf("%s: more than %d pages", action, maxPages)
}

// once returns a Client like c that sends each call once: for a write whose
// caller reads again after a transient failure (Transient) before it sends
// it again, so that a create that took effect leaves no duplicate.
func (c *Client) once() *Client {
	d := *c
	d.opts.Retry = retry.Policy{Attempts: 1}
	return &d
}

// callHinted is call in the client's region, with Hint's advice added to an
// error answer.
func (c *Client) callHinted(ctx context.Context, a api, params map[string]any, out any) error {
	return withHint(c.call(ctx, a, c.opts.Region, params, out))
}

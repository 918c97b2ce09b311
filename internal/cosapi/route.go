package cosapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/rules"
)

// ErrHostNotAllowed reports a request addressed outside *.myqcloud.com. The
// function never sends one; the check is a last line of defence under every
// request, whatever built its URL.
var ErrHostNotAllowed = errors.New("host not allowed")

// Route is the lowest RoundTripper: it refuses any request whose host is not
// under myqcloud.com and, when Endpoint is set, sends the request to that
// address over plain HTTP, never through a proxy, while the Host header (and
// so the signature) stays the production one (rules.Redirect). Endpoint is a
// test setting (PICBUCKET_ENDPOINT); one that rules.Endpoint refuses (not a
// loopback or private address) refuses every request.
type Route struct {
	// Endpoint, when non-nil, is "http://HOST:PORT" to send every request to.
	Endpoint *url.URL
	// Next sends the request; http.DefaultTransport when nil. With an
	// Endpoint, rules.Redirect says how Next is used: never with a proxy.
	Next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (rt *Route) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}
	if !bucket.AllowedHost(host) || req.URL.Hostname() != host {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("%w: %q is not under %s", ErrHostNotAllowed, host, bucket.Domain)
	}
	if rt.Endpoint != nil {
		if err := rules.Endpoint(rt.Endpoint); err != nil {
			if req.Body != nil {
				req.Body.Close()
			}
			return nil, fmt.Errorf("%w: test endpoint %q: %w", ErrHostNotAllowed, rt.Endpoint.Redacted(), err)
		}
	}
	if rt.Endpoint == nil {
		next := rt.Next
		if next == nil {
			next = http.DefaultTransport
		}
		return next.RoundTrip(req)
	}
	r := req.Clone(req.Context())
	r.Host = host
	return rules.Redirect{To: rt.Endpoint, Next: rt.Next}.RoundTrip(r)
}

package cosapi

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/picbucket/picbucket/internal/bucket"
)

// recorder is a RoundTripper that records the requests Route passes on and
// answers 200 without any I/O.
type recorder struct{ got []*http.Request }

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	r.got = append(r.got, req)
	return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}, Request: req}, nil
}

// dialRecorder is a real http.Transport whose dialer records the address
// Go would connect to and then refuses: it shows where a request that
// passed Route would really go, as net/http interprets it.
type dialRecorder struct {
	mu    sync.Mutex
	addrs []string
	tr    *http.Transport
}

var errBlocked = errors.New("dial blocked by the fuzz test")

func newDialRecorder() *dialRecorder {
	d := &dialRecorder{}
	d.tr = &http.Transport{
		Proxy: nil,
		DialContext: func(_ context.Context, _, addr string) (net.Conn, error) {
			d.mu.Lock()
			d.addrs = append(d.addrs, addr)
			d.mu.Unlock()
			return nil, errBlocked
		},
		DisableKeepAlives: true,
	}
	return d
}

func (d *dialRecorder) take() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	a := d.addrs
	d.addrs = nil
	return a
}

var routeEndpoint = &url.URL{Scheme: "http", Host: "127.0.0.1:9"}

// underDomain reports whether host (no port) is a name under myqcloud.com.
func underDomain(host string) bool {
	return strings.HasSuffix(strings.ToLower(host), "."+bucket.Domain)
}

// FuzzRoute checks the host guard: any request, whatever its URL and Host
// header, is either refused with ErrHostNotAllowed without reaching the
// next RoundTripper, or reaches it addressed to a host under myqcloud.com
// (or, with the test Endpoint set, to the Endpoint with a myqcloud.com Host
// header). A real http.Transport behind Route must dial only such hosts.
func FuzzRoute(f *testing.F) {
	for _, s := range []struct{ rawURL, host string }{
		{"https://service.cos.myqcloud.com/", ""},
		{"https://photos-1250000000.ci.ap-guangzhou.myqcloud.com/picbucket", ""},
		{"https://ci.ap-guangzhou.myqcloud.com/picbucket?pageSize=100", "ci.ap-guangzhou.myqcloud.com"},
		{"https://evil.com/x", ""},
		{"https://myqcloud.com.evil.com/", ""},
		{"http://127.0.0.1:1/", ""},
		{"https://service.cos.myqcloud.com/", "evil.com"},
		{"https://evil.com/", "service.cos.myqcloud.com"},
		{"https://service.cos.myqcloud.com:8443/", ""},
		{"https://service.cos.myqcloud.com:8443/", "service.cos.myqcloud.com"},
		{"https://evil.com#.myqcloud.com/", ""},
		{"https://evil.com?.myqcloud.com/", ""},
		{"https://evil.com\\.myqcloud.com/", ""},
		{"https://user@evil.com/", "x.myqcloud.com"},
		{"https://x.myqcloud.com@evil.com/", ""},
		{"https://[::1]/", "x.myqcloud.com"},
		{"https://[x.myqcloud.com]/", "x.myqcloud.com"},
		{"https://x.myqcloud.com./", "x.myqcloud.com."},
		{"https://xn--80ak6aa92e.myqcloud.com/", ""},
		{"https://%65vil.com/", ""},
		{"//x.myqcloud.com/", ""},
		{"https:evil.com", "x.myqcloud.com"},
		{"https://x.myqcloud.com/", "x.myqcloud.com\r\nHost: evil.com"},
		{"http://].myqcloud.com", ""},
	} {
		f.Add(s.rawURL, s.host, "", false)
		f.Add(s.rawURL, s.host, "", true)
		f.Add("", s.host, s.rawURL, false)
	}
	dr := newDialRecorder()
	f.Fuzz(func(t *testing.T, rawURL, hostHeader, urlHost string, endpoint bool) {
		// Two ways to build the request: parse a URL string, or set URL.Host
		// directly (which no parser checks).
		var req *http.Request
		if rawURL != "" {
			var err error
			if req, err = http.NewRequest("GET", rawURL, nil); err != nil {
				return
			}
		} else {
			req = &http.Request{Method: "GET", URL: &url.URL{Scheme: "https", Host: urlHost, Path: "/"},
				Header: http.Header{}, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}
			req = req.WithContext(context.Background())
		}
		req.Host = hostHeader
		var ep *url.URL
		if endpoint {
			ep = routeEndpoint
		}

		// 1. What Route passes on.
		rec := &recorder{}
		resp, err := (&Route{Endpoint: ep, Next: rec}).RoundTrip(req.Clone(req.Context()))
		if err != nil {
			if !errors.Is(err, ErrHostNotAllowed) {
				t.Fatalf("Route error %v does not wrap ErrHostNotAllowed", err)
			}
			if len(rec.got) != 0 {
				t.Fatalf("refused request reached the next RoundTripper")
			}
		} else {
			resp.Body.Close()
			if len(rec.got) != 1 {
				t.Fatalf("accepted request reached the next RoundTripper %d times", len(rec.got))
			}
			out := rec.got[0]
			header := out.Host
			if header == "" {
				header = out.URL.Host
			}
			if !bucket.AllowedHost(header) || !underDomain(header) {
				t.Errorf("URL %q Host %q: passed on with Host %q", req.URL, hostHeader, header)
			}
			if ep != nil {
				if out.URL.Host != ep.Host || out.URL.Scheme != ep.Scheme {
					t.Errorf("with Endpoint, passed on to %s://%s", out.URL.Scheme, out.URL.Host)
				}
			} else if h := out.URL.Hostname(); !underDomain(h) || h != header {
				t.Errorf("URL %q Host %q: passed on to URL host %q with Host header %q", req.URL, hostHeader, out.URL.Host, header)
			}
		}

		// 2. Where a real transport behind Route would connect.
		dr.take()
		if resp, err := (&Route{Endpoint: ep, Next: dr.tr}).RoundTrip(req.Clone(req.Context())); err == nil {
			resp.Body.Close()
			t.Fatalf("the blocked dialer let a request through")
		}
		for _, addr := range dr.take() {
			host, _, err := net.SplitHostPort(addr)
			if err != nil { // e.g. "].myqcloud.com:80": still a name, then a port
				host = addr[:max(0, strings.LastIndexByte(addr, ':'))]
			}
			if ep != nil && addr == ep.Host {
				continue
			}
			if !underDomain(host) {
				t.Errorf("URL %q Host %q: net/http dialed %q", req.URL, hostHeader, addr)
			}
		}
	})
}

// TestDialRecorderSeesDials keeps FuzzRoute's second oracle honest: an
// allowed request does reach the recording dialer, at the expected address.
func TestDialRecorderSeesDials(t *testing.T) {
	dr := newDialRecorder()
	for _, tc := range []struct {
		ep   *url.URL
		want string
	}{{nil, "photos-1250000000.ci.ap-guangzhou.myqcloud.com:443"}, {routeEndpoint, routeEndpoint.Host}} {
		req, _ := http.NewRequest("POST", "https://photos-1250000000.ci.ap-guangzhou.myqcloud.com/picbucket", nil)
		if _, err := (&Route{Endpoint: tc.ep, Next: dr.tr}).RoundTrip(req); !errors.Is(err, errBlocked) {
			t.Errorf("err = %v, want the blocked dial", err)
		}
		if got := dr.take(); len(got) != 1 || got[0] != tc.want {
			t.Errorf("dialed %q, want [%q]", got, tc.want)
		}
	}
}

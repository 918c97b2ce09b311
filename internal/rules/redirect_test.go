package rules

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// recording is an HTTP server that records the requests it gets as
// "METHOD Host-header Authorization X-TC-Token".
type recording struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []string
}

func newRecording(t *testing.T, status int) *recording {
	r := &recording{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.got = append(r.got, strings.Join([]string{req.Method, req.Host, req.Header.Get("Authorization"), req.Header.Get("X-TC-Token")}, " "))
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recording) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	g := r.got
	r.got = nil
	return g
}

// TestRedirectNeverProxies sends signed requests through Redirect over
// transports configured with a proxy (a recording server on loopback, which
// a Transport's Proxy function sends even loopback traffic to) and wants
// each at the test endpoint, with its production Host header, and none at
// the proxy. It also checks that the proxy-less copy of a transport is made
// once, keeping one connection pool, and that a transport without a proxy
// is used as it is.
func TestRedirectNeverProxies(t *testing.T) {
	endpoint := newRecording(t, http.StatusOK)
	proxy := newRecording(t, http.StatusBadGateway)
	to, _ := url.Parse(endpoint.srv.URL)
	proxyURL, _ := url.Parse(proxy.srv.URL)

	withProxy := &http.Transport{Proxy: http.ProxyURL(proxyURL)}
	byFunc := http.DefaultTransport.(*http.Transport).Clone()
	byFunc.Proxy = func(*http.Request) (*url.URL, error) { return proxyURL, nil }
	for name, next := range map[string]http.RoundTripper{
		"Transport with Proxy":          withProxy,
		"DefaultTransport with a proxy": byFunc,
		"nil (shared, without a proxy)": nil,
		"Transport with Proxy, again":   withProxy,
		"Transport without a proxy":     &http.Transport{},
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, "https://cvm.tencentcloudapi.com/", strings.NewReader("{}"))
			req.Header.Set("Authorization", "TC3-HMAC-SHA256 Credential=AKIDtest/…, Signature=f00d")
			req.Header.Set("X-TC-Token", "session-token")
			resp, err := Redirect{To: to, Next: next}.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if got := proxy.take(); len(got) != 0 {
				t.Errorf("the proxy got %q, want nothing", got)
			}
			want := "POST cvm.tencentcloudapi.com TC3-HMAC-SHA256 Credential=AKIDtest/…, Signature=f00d session-token"
			if got := endpoint.take(); len(got) != 1 || got[0] != want {
				t.Errorf("the endpoint got %q, want [%q]", got, want)
			}
		})
	}
	if d := direct(withProxy); d == http.RoundTripper(withProxy) || d != direct(withProxy) || d.(*http.Transport).Proxy != nil {
		t.Error("a transport with a proxy: want one copy of it, without the proxy, every time")
	}
	if withProxy.Proxy == nil {
		t.Error("Redirect changed the caller's transport")
	}
	plain := &http.Transport{}
	if direct(plain) != http.RoundTripper(plain) {
		t.Error("a transport without a proxy was copied")
	}
}

// TestRedirectRefusesForeignEndpoint: a Redirect built with an endpoint
// that Endpoint refuses sends nothing.
func TestRedirectRefusesForeignEndpoint(t *testing.T) {
	sent := 0
	next := roundTripFunc(func(*http.Request) (*http.Response, error) { sent++; return nil, io.EOF })
	for _, ep := range []string{"http://cos.example.com:80", "http://203.0.113.7:8080", "https://127.0.0.1:9000"} {
		u, _ := url.Parse(ep)
		req, _ := http.NewRequest(http.MethodGet, "https://service.cos.myqcloud.com/", nil)
		if _, err := (Redirect{To: u, Next: next}).RoundTrip(req); err == nil {
			t.Errorf("%s: no error", ep)
		}
	}
	if _, err := (Redirect{Next: next}).RoundTrip(httptest.NewRequest(http.MethodGet, "https://service.cos.myqcloud.com/", nil)); err == nil {
		t.Error("no endpoint: no error")
	}
	if sent != 0 {
		t.Errorf("%d requests sent", sent)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

package main_test

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/picbucket/picbucket/handler"
)

// privateListener listens on port 0 of an address of this host that is
// private (10/8, 172.16/12, 192.168/16, fc00::/7) but not loopback: one that
// rules.Endpoint accepts as a test endpoint and that Go's
// http.ProxyFromEnvironment does not exempt from the proxy, as it does
// loopback. The kernel delivers what is sent to a local address itself: the
// traffic never leaves the host. It skips the test when the host has none.
func privateListener(t *testing.T) net.Listener {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skipf("interface addresses: %v", err)
	}
	for _, a := range addrs {
		n, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(n.IP)
		if ip = ip.Unmap(); !ok || !ip.IsPrivate() || ip.IsLoopback() {
			continue
		}
		ln, err := net.Listen("tcp", netip.AddrPortFrom(ip, 0).String())
		if err == nil {
			return ln
		}
		t.Logf("listen on %s: %v", ip, err)
	}
	t.Skip("this host has no private non-loopback address to serve a test endpoint on")
	return nil
}

// serveLater serves whatever handler is stored in h on ln (the handler is
// made after the function process, which needs the address first).
func serveLater(t *testing.T, ln net.Listener, h *atomic.Value) string {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.Load().(http.Handler).ServeHTTP(w, r)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// TestEndpointNeverThroughProxy runs the function in organization mode with
// both test endpoints (PICBUCKET_ENDPOINT for COS and CI,
// PICBUCKET_API_ENDPOINT for API 3.0) on a private address of this host,
// and HTTP_PROXY and HTTPS_PROXY naming a recording proxy on loopback. The
// requests to a test endpoint go in clear text with the signature and the
// session token, under the production Host header: none may reach the
// proxy, and every one must reach the emulators directly.
func TestEndpointNeverThroughProxy(t *testing.T) {
	cosLn, apiLn := privateListener(t), privateListener(t)
	var cosH, apiH atomic.Value
	cosURL, apiURL := serveLater(t, cosLn, &cosH), serveLater(t, apiLn, &apiH)
	catch := newCatchAll(t)
	f := startOrg(t, "PICBUCKET_ACCOUNTS=org", "PICBUCKET_FANOUT=false", "PICBUCKET_EXCLUDE_ACCOUNTS="+memberNoRol,
		"PICBUCKET_ENDPOINT="+cosURL, "PICBUCKET_API_ENDPOINT="+apiURL,
		"HTTP_PROXY="+catch.srv.URL, "HTTPS_PROXY="+catch.srv.URL, "http_proxy="+catch.srv.URL, "https_proxy="+catch.srv.URL,
		"NO_PROXY=", "no_proxy=")
	cosH.Store(http.Handler(f.emu))
	apiH.Store(http.Handler(f.tc))
	t.Logf("test endpoints %s and %s, proxy %s", cosURL, apiURL, catch.srv.URL)

	res, errMsg := f.invoke(readEvent(t, "timer.json"))
	if got := catch.take(); len(got) != 0 {
		t.Errorf("the proxy got %d requests, want none: %q", len(got), got)
	}
	if errMsg != "" {
		t.Fatalf("timer: %s\n%s", errMsg, f.out)
	}
	if got := accountOutcomes(res)[mgmtUin]; got != handler.AccountReconciled {
		t.Errorf("management account %q, want reconciled", got)
	}
	if len(f.emu.Requests()) == 0 || len(f.tc.Calls()) == 0 {
		t.Fatalf("emulators got %d COS and %d API requests, want some of each", len(f.emu.Requests()), len(f.tc.Calls()))
	}
	for _, r := range f.emu.Requests() {
		if !r.SignatureValid || r.Token == "" || !strings.HasSuffix(r.Host, ".myqcloud.com") {
			t.Errorf("COS request %s to %q: signature valid %v, token %q: want a signed request with a token for a production host",
				r.Action, r.Host, r.SignatureValid, r.Token)
		}
	}
	for _, c := range f.tc.Calls() {
		if c.SecretID == "" || !strings.HasSuffix(c.Host, ".tencentcloudapi.com") {
			t.Errorf("API call %s to %q signed by %q: want a verified signature for a production host", c.Action, c.Host, c.SecretID)
		}
	}
}

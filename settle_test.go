package main_test

// Issue 19, "also settle": answers that must not mislead the function,
// through the SCF runtime protocol, with a proxy in front of the COS/CI
// emulator that rewrites some answers.

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/picbucket/picbucket/handler"
	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/scfrpc"
)

// startBehind starts the function against the emulator through a proxy:
// answer, when it returns true, has answered the request itself.
func startBehind(t *testing.T, answer func(w http.ResponseWriter, r *http.Request) bool, settings ...string) *fixture {
	t.Helper()
	var emu *emulator.Server
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !answer(w, r) {
			emu.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(proxy.Close)
	f := start(t, emulator.Options{}, append(settings, "PICBUCKET_ENDPOINT="+proxy.URL)...)
	emu = f.emu
	return f
}

// TestTagsBehindAProxyPage: GetBucketTagging answered 404 by a page that
// is not COS's XML (a proxy's). The tags were not read: the bucket is
// deferred, never taken for one without tags and enabled.
func TestTagsBehindAProxyPage(t *testing.T) {
	f := startBehind(t, func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.RawQuery != "tagging" {
			return false
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, "<html><head><title>404 Not Found</title></head><body><center><h1>404 Not Found</h1></center><hr><center>nginx</center></body></html>")
		return true
	}, "PICBUCKET_SKIP_TAG=picbucket=off")
	f.emu.AddBucket("photos-"+appID, "ap-guangzhou", false)
	res, msg := f.invoke([]byte(`{"buckets":[{"bucket":"photos-` + appID + `","region":"ap-guangzhou"}]}`))
	if res == nil {
		t.Fatalf("error %q", msg)
	}
	if len(res.Results) != 1 || res.Results[0].Outcome != handler.Deferred || !strings.Contains(res.Results[0].Reason, "tags could not be read") {
		t.Errorf("results %+v: want the bucket deferred, its tags unread", res.Results)
	}
	if f.emu.Enabled("photos-"+appID) || count(f.emu, emulator.ActionCreatePicProcessBucket, "photos-"+appID) != 0 {
		t.Error("a Create for a bucket whose tags could not be read")
	}
}

// TestReturnValueRedacted: CI's listing answers 500 with a message that
// echoes the function's secret key and token. The listing's failure is
// noted in the invocation's return value (SCF's RetMsg), which must carry
// neither secret, as the log lines do not.
func TestReturnValueRedacted(t *testing.T) {
	f := startBehind(t, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodGet || r.URL.Path != "/picbucket" || !strings.HasPrefix(r.Host, "ci.") {
			return false
		}
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintf(w, "<Error><Code>InternalError</Code><Message>backend saw key %s token %s</Message><RequestId>r</RequestId></Error>",
			defaultCreds.key, defaultCreds.token)
		return true
	})
	f.emu.SeedDemo(appID, 2, []string{"ap-guangzhou"}, 0)
	f.n++ // f.logs waits for this request's summary line
	resp, err := f.proc.Invoke(scfrpc.Invocation{Payload: hourly, RequestID: fmt.Sprintf("req-%d", f.n), Timeout: 30 * time.Second,
		Environment: defaultCreds.env(), AppID: appID, Uin: mgmtUin, Region: "ap-guangzhou", Function: "picbucket"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Error != nil {
		t.Fatalf("invocation failed: %s", resp.Error.Message)
	}
	ret := string(resp.Payload)
	if !strings.Contains(ret, "backend saw key") {
		t.Fatalf("the return value does not carry the listing's failure, so this test shows nothing: %s", ret)
	}
	for _, secret := range []string{defaultCreds.key, defaultCreds.token} {
		if strings.Contains(ret, secret) {
			t.Errorf("the return value carries a secret: %s", ret)
		}
		if strings.Contains(f.logs(), secret) {
			t.Errorf("a log line carries a secret")
		}
	}
}

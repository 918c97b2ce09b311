package handler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/retry"
	"github.com/picbucket/picbucket/internal/trigger"
)

const appID = "1250000000"

// newTest returns a Handler wired to a fresh emulator holding n demo buckets
// in two regions, none enabled.
func newTest(t *testing.T, opts emulator.Options, n int, settings map[string]string) (*Handler, *emulator.Server, *bytes.Buffer) {
	t.Helper()
	emu := emulator.New(opts)
	emu.AddCredential(emulator.Credential{SecretID: "AKIDunit", SecretKey: "unit-key", Token: "unit-token", AppID: appID})
	emu.SeedDemo(appID, n, []string{"ap-guangzhou", "ap-shanghai"}, 0)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	vals := map[string]string{
		"TENCENTCLOUD_SECRETID": "AKIDunit", "TENCENTCLOUD_SECRETKEY": "unit-key", "TENCENTCLOUD_SESSIONTOKEN": "unit-token",
		"PICBUCKET_ENDPOINT": srv.URL, "TENCENTCLOUD_APPID": appID,
	}
	for k, v := range settings {
		vals[k] = v
	}
	out := &bytes.Buffer{}
	h := New(out)
	h.Getenv = func(k string) string { return vals[k] }
	h.Retry = retry.Policy{Attempts: 3, Base: time.Millisecond, Max: 2 * time.Millisecond}
	return h, emu, out
}

func ctxWithTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return functioncontext.NewContext(ctx, &functioncontext.FunctionContext{RequestID: "unit-1"})
}

var timer = []byte(`{"Type":"Timer","TriggerName":"t","Time":"2024-01-01T00:00:00Z","Message":""}`)

func TestMaxEnableCaps(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 10, map[string]string{"PICBUCKET_MAX_ENABLE": "4"})
	res, err := h.Handle(ctxWithTimeout(t, 10*time.Second), timer)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Enabled != 4 || res.Summary.Deferred != 6 {
		t.Errorf("summary %+v, want 4 enabled and 6 deferred", res.Summary)
	}
	if got := emu.Stats().ByAction["CreatePicProcessBucket"]; got != 4 {
		t.Errorf("%d Creates, want 4", got)
	}
}

func TestDryRunSendsNoCreate(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 6, map[string]string{"PICBUCKET_DRY_RUN": "true"})
	res, err := h.Handle(ctxWithTimeout(t, 10*time.Second), timer)
	if err != nil {
		t.Fatal(err)
	}
	if !res.DryRun || res.Summary.WouldEnable != 6 || emu.Stats().ByAction["CreatePicProcessBucket"] != 0 {
		t.Errorf("dry run: %+v, Creates %d", res.Summary, emu.Stats().ByAction["CreatePicProcessBucket"])
	}
}

func TestRefusedCredentialsStopTheRun(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 30, map[string]string{"PICBUCKET_CONCURRENCY": "2"})
	emu.Inject(emulator.Fault{Action: "CreatePicProcessBucket", Status: 400, Code: "ExpiredToken", Times: 1000})
	res, err := h.Handle(ctxWithTimeout(t, 10*time.Second), timer)
	if err == nil || !strings.Contains(err.Error(), "ExpiredToken") {
		t.Fatalf("err = %v, want one naming ExpiredToken", err)
	}
	creates := emu.Stats().ByAction["CreatePicProcessBucket"]
	if creates > 2 {
		t.Errorf("%d Creates after the key was refused, want at most one per worker", creates)
	}
	// A refused key is not the buckets' fault: none is failed, all are deferred.
	if res.Summary.Deferred != 30 || res.Summary.Failed != 0 {
		t.Errorf("summary %+v, want every bucket deferred and none failed", res.Summary)
	}
}

func TestFilters(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 10, map[string]string{
		"PICBUCKET_REGIONS": "ap-guangzhou", "PICBUCKET_EXCLUDE": "photos-0[0-3]-*",
	})
	res, err := h.Handle(ctxWithTimeout(t, 10*time.Second), timer)
	if err != nil {
		t.Fatal(err)
	}
	// Guangzhou has 00, 02, 04, 06, 08; 00 and 02 are excluded.
	if res.Summary.Enabled != 3 || res.Summary.Filtered != 7 {
		t.Errorf("summary %+v, want 3 enabled and 7 filtered", res.Summary)
	}
	if emu.Stats().ByAction["DescribePicProcessBuckets"] != 1 {
		t.Errorf("described %d regions, want only ap-guangzhou", emu.Stats().ByAction["DescribePicProcessBuckets"])
	}
}

func TestCacheSkipsRepeatedCOSEvents(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 2, nil)
	ev := []byte(`{"Records":[{"cos":{"cosBucket":{"name":"photos-00","appid":"1250000000","region":"gz"}}}]}`)
	for i := 0; i < 5; i++ {
		res, err := h.Handle(ctxWithTimeout(t, 10*time.Second), ev)
		if err != nil || len(res.Results) != 1 {
			t.Fatalf("invocation %d: %v %+v", i, err, res)
		}
	}
	if got := emu.Stats().ByAction["CreatePicProcessBucket"]; got != 1 {
		t.Errorf("%d Creates for a burst of 5 events on one bucket, want 1", got)
	}
}

func TestInvalidEventSendsNothing(t *testing.T) {
	h, emu, out := newTest(t, emulator.Options{}, 2, nil)
	_, err := h.Handle(ctxWithTimeout(t, 10*time.Second), []byte(`{"buckets":[{"bucket":"x@evil.com","region":"ap-guangzhou"}]}`))
	if !errors.Is(err, trigger.ErrInvalidEvent) {
		t.Errorf("err = %v, want ErrInvalidEvent", err)
	}
	if emu.Stats().Total != 0 {
		t.Errorf("%d requests", emu.Stats().Total)
	}
	if !strings.Contains(out.String(), `"scfRequestId":"unit-1"`) {
		t.Errorf("no log line with the request id: %s", out)
	}
}

func TestInvalidSettingFailsTheInvocationOnly(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 2, map[string]string{"PICBUCKET_CONCURRENCY": "lots"})
	_, err := h.Handle(ctxWithTimeout(t, 10*time.Second), timer)
	if err == nil || !strings.Contains(err.Error(), "PICBUCKET_CONCURRENCY") || emu.Stats().Total != 0 {
		t.Errorf("err = %v, requests %d", err, emu.Stats().Total)
	}
}

// panicky panics on requests to one host and passes the rest on.
type panicky struct {
	host string
	next http.RoundTripper
}

func (p panicky) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Host == p.host {
		panic("boom on " + p.host)
	}
	return p.next.RoundTrip(r)
}

func TestPanicInOneBucketKeepsTheOthers(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 6, nil)
	h.Transport = panicky{host: "photos-03-1250000000.ci.ap-shanghai.myqcloud.com", next: http.DefaultTransport}
	res, err := h.Handle(ctxWithTimeout(t, 10*time.Second), timer)
	if err == nil || !strings.Contains(err.Error(), "photos-03-1250000000") {
		t.Errorf("err = %v, want one naming the bucket that panicked", err)
	}
	if res.Summary.Enabled != 5 || res.Summary.Failed != 1 {
		t.Errorf("summary %+v, want 5 enabled and 1 failed", res.Summary)
	}
	if emu.Stats().ByAction["CreatePicProcessBucket"] != 5 {
		t.Errorf("%d Creates reached the emulator, want 5", emu.Stats().ByAction["CreatePicProcessBucket"])
	}
}

// TestWrongTokenStopsTheRun: the emulator answers a wrong session token
// with 403 AccessDenied whose message names the token. The words are not
// taken for a refused key: the run stops as for any AccessDenied on every
// bucket, once the streak and the probes confirm it.
func TestWrongTokenStopsTheRun(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 20, map[string]string{
		"TENCENTCLOUD_SESSIONTOKEN": "not-the-token", "PICBUCKET_CONCURRENCY": "2",
	})
	var buckets []string
	for i := range 20 {
		region := []string{"ap-guangzhou", "ap-shanghai"}[i%2]
		buckets = append(buckets, fmt.Sprintf(`{"bucket":"photos-%02d-1250000000","region":"%s"}`, i, region))
	}
	res, err := h.Handle(ctxWithTimeout(t, 10*time.Second), []byte(`{"buckets":[`+strings.Join(buckets, ",")+`]}`))
	if err == nil || !strings.Contains(err.Error(), "the account refuses it") || strings.Contains(err.Error(), "credentials refused") {
		t.Fatalf("err = %v, want the run stopped by the streak and the probes, not at the first answer", err)
	}
	if n := emu.Stats().Total; n > 2+refusalStreak+confirmProbes {
		t.Errorf("%d requests with a refused token, want at most the workers' %d, the streak and the probes", n, 2)
	}
	if res.Summary.Deferred < 20-2-refusalStreak-confirmProbes {
		t.Errorf("summary %+v, want the rest deferred", res.Summary)
	}
}

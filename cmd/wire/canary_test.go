package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/tcapi/tcemu"
)

// canaryFixture: the COS/CI emulator with PutBucket and DeleteBucket and
// the API emulator on one address, as cmd/emulator -function serves them;
// a stand-in for the function reacts to each created bucket (enable).
type canaryFixture struct {
	t      *testing.T
	cos    *emulator.Server
	api    *tcemu.Server
	topic  string
	url    string
	env    map[string]string
	yml    string
	enable func(ev emulator.BucketCreated) // the function's stand-in; nil: nothing happens
}

const (
	canaryID, canaryKey, canaryToken = "AKIDCANARY0001", "canary-secret-key-3a1f", "canary-session-token-9b2e"
	canaryAppID                      = "1250000000"
	canaryUin                        = 100000000001
)

func newCanaryFixture(t *testing.T) *canaryFixture {
	t.Helper()
	f := &canaryFixture{t: t, cos: emulator.New(emulator.Options{})}
	f.cos.AddCredential(emulator.Credential{SecretID: canaryID, SecretKey: canaryKey, Token: canaryToken, AppID: canaryAppID})
	f.api = tcemu.New(tcemu.Options{Management: tcemu.Account{Uin: canaryUin, AppID: canaryAppID}})
	f.api.AddKey(tcemu.Key{SecretID: canaryID, SecretKey: canaryKey, Token: canaryToken, Uin: canaryUin, AppID: canaryAppID})
	ls := f.api.AddLogset(tcemu.Logset{Uin: canaryUin, Region: "ap-guangzhou", Name: LogLogset})
	f.topic = f.api.AddTopic(tcemu.Topic{Uin: canaryUin, Region: "ap-guangzhou", Name: LogTopic, LogsetID: ls.ID}).ID
	admin := &emulator.BucketAdmin{Server: f.cos, OnCreate: func(ev emulator.BucketCreated) {
		if f.enable != nil {
			f.enable(ev)
		}
	}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Host, ".tencentcloudapi.com") {
			f.api.ServeHTTP(w, r)
			return
		}
		admin.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	f.env = map[string]string{"TENCENTCLOUD_SECRETID": canaryID, "TENCENTCLOUD_SECRETKEY": canaryKey, "TENCENTCLOUD_SESSIONTOKEN": canaryToken}
	f.yml = filepath.Join("..", "..", "testdata", "wire", "serverless-canary.yml")
	return f
}

func (f *canaryFixture) run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	args = append([]string{"canary", "-f", f.yml, "--endpoint", f.url, "--uin", fmt.Sprint(canaryUin), "--poll", "20ms"}, args...)
	code := run(args, func(k string) string { return f.env[k] }, &out, &errb)
	for _, secret := range []string{canaryKey, canaryToken} {
		if strings.Contains(out.String()+errb.String(), secret) {
			f.t.Errorf("output holds a secret")
		}
	}
	return code, out.String(), errb.String()
}

// functionEnables is the function's stand-in: it enables the bucket after
// a moment and logs its two lines, as the function does.
func (f *canaryFixture) functionEnables(ev emulator.BucketCreated) {
	time.Sleep(50 * time.Millisecond)
	f.cos.AddBucket(ev.Bucket, ev.Region, true)
	now := time.Now()
	f.api.AddLog(f.topic, tcemu.LogLine{Time: now, JSON: `{"level":"info","scfRequestId":"req-1","bucket":"` + ev.Bucket +
		`","region":"` + ev.Region + `","outcome":"enabled","attempts":1,"requestId":"NjVhZmQ0YjRf","message":"bucket"}`})
	f.api.AddLog(f.topic, tcemu.LogLine{Time: now, JSON: `{"level":"info","scfRequestId":"req-1","trigger":"eventbridge","buckets":1,"enabled":1,"message":"summary"}`})
}

func (f *canaryFixture) canaryBuckets() []string {
	var names []string
	for _, b := range f.cos.Buckets() {
		if strings.HasPrefix(b.Name, canaryPrefix) {
			names = append(names, b.Name)
		}
	}
	return names
}

func TestCanaryEnabled(t *testing.T) {
	f := newCanaryFixture(t)
	f.enable = f.functionEnables
	code, out, errs := f.run()
	for _, want := range []string{"canary: creating bucket pbcanary-", "-" + canaryAppID + " in ap-guangzhou", "PutBucket answered 200",
		"s after PutBucket (CI lists it)", "canary: trigger eventbridge, outcome enabled, CI request NjVhZmQ0YjRf", "canary: deleted bucket"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("exit %d; output lacks %q\n%s%s", code, want, out, errs)
		}
	}
	if b := f.canaryBuckets(); len(b) != 0 {
		t.Errorf("canary buckets left: %v", b)
	}
	// --keep keeps it.
	if code, out, errs := f.run("--keep"); code != 0 || len(f.canaryBuckets()) != 1 || !strings.Contains(out, "kept bucket") {
		t.Errorf("--keep: exit %d, buckets %v\n%s%s", code, f.canaryBuckets(), out, errs)
	}
}

// TestCanaryTimeout: nothing enables the bucket; the canary says what it
// did not see, deletes the bucket and exits 1.
func TestCanaryTimeout(t *testing.T) {
	f := newCanaryFixture(t)
	code, out, errs := f.run("--wait", "300ms")
	for _, want := range []string{"canary: not enabled within 300ms", "the function logged no line for the bucket: no invocation reached it",
		"EventBridge rule or CloudAudit's delivery", "canary: deleted bucket"} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("exit %d; output lacks %q\n%s%s", code, want, out, errs)
		}
	}
	if b := f.canaryBuckets(); len(b) != 0 {
		t.Errorf("canary buckets left: %v", b)
	}
}

// TestCanaryInterrupted: a signal (Ctrl-C) stops the canary, which deletes
// its bucket first.
func TestCanaryInterrupted(t *testing.T) {
	canarySignals = []os.Signal{syscall.SIGUSR1}
	defer func() { canarySignals = []os.Signal{os.Interrupt, syscall.SIGTERM} }()
	f := newCanaryFixture(t)
	f.enable = func(emulator.BucketCreated) {
		time.Sleep(100 * time.Millisecond)
		syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	}
	code, out, errs := f.run("--wait", "1m")
	if code != 1 || !strings.Contains(out, "canary: stopped (signal)") || !strings.Contains(out, "canary: deleted bucket") || len(f.canaryBuckets()) != 0 {
		t.Errorf("exit %d, buckets %v\n%s%s", code, f.canaryBuckets(), out, errs)
	}
}

// TestCanaryRefusesWhatCannotWork: a function deployed in dry run, or one
// whose filters leave the canary's bucket alone, gets a clear error and no
// request.
func TestCanaryRefusesWhatCannotWork(t *testing.T) {
	for _, tc := range []struct{ name, from, to, want string }{
		{"dry run", `PICBUCKET_DRY_RUN: "false"`, `PICBUCKET_DRY_RUN: "true"`, "PICBUCKET_DRY_RUN"},
		{"excluded", `PICBUCKET_EXCLUDE: ""`, `PICBUCKET_EXCLUDE: "pbcanary-*"`, "leave pbcanary-"},
		{"require tag", `PICBUCKET_REQUIRE_TAG: ""`, `PICBUCKET_REQUIRE_TAG: "team"`, "PICBUCKET_REQUIRE_TAG"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCanaryFixture(t)
			b, _ := os.ReadFile(f.yml)
			f.yml = filepath.Join(t.TempDir(), "serverless.yml")
			os.WriteFile(f.yml, []byte(strings.Replace(string(b), tc.from, tc.to, 1)), 0o644)
			code, out, errs := f.run()
			if code != 2 || !strings.Contains(errs, tc.want) || len(f.cos.Requests()) != 0 || len(f.canaryBuckets()) != 0 {
				t.Errorf("exit %d, %d COS requests\n%s%s", code, len(f.cos.Requests()), out, errs)
			}
		})
	}
}

// TestCanaryFileMatchesServerless: the canary's serverless.yml is the
// repository's with the function out of dry run, nothing else.
func TestCanaryFileMatchesServerless(t *testing.T) {
	a, err := os.ReadFile(filepath.Join("..", "..", "serverless.yml"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "wire", "serverless-canary.yml"))
	if err != nil {
		t.Fatal(err)
	}
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	diff := 0
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			diff++
			if !strings.Contains(bl[i], `PICBUCKET_DRY_RUN: "false"`) {
				t.Errorf("line %d differs: %q", i+1, bl[i])
			}
		}
	}
	if len(al) != len(bl) || diff != 1 {
		t.Errorf("testdata/wire/serverless-canary.yml: %d lines differ (want 1), lengths %d and %d", diff, len(al), len(bl))
	}
}

// front puts a handler in front of the fixture's address: each request
// goes to h first, which returns false to pass it on.
func (f *canaryFixture) front(h func(w http.ResponseWriter, r *http.Request, next http.Handler) bool) {
	target, _ := url.Parse(f.url)
	next := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !h(w, r, next) {
			next.ServeHTTP(w, r)
		}
	}))
	f.t.Cleanup(srv.Close)
	f.url = srv.URL
}

// TestCanaryTimeoutWhileCIHangs: CI's listing never answers; --wait still
// bounds the canary, which says so and deletes its bucket.
func TestCanaryTimeoutWhileCIHangs(t *testing.T) {
	f := newCanaryFixture(t)
	release := make(chan struct{})
	defer close(release)
	f.front(func(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
		if strings.HasPrefix(r.Host, "ci.") {
			select {
			case <-r.Context().Done():
			case <-release:
			case <-time.After(20 * time.Second):
			}
			return true
		}
		return false
	})
	start := time.Now()
	code, out, errs := f.run("--wait", "300ms")
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("--wait 300ms: the canary took %s", took.Round(time.Second))
	}
	if code != 1 || !strings.Contains(out, "canary: not enabled within 300ms") || !strings.Contains(out, "canary: deleted bucket") || len(f.canaryBuckets()) != 0 {
		t.Errorf("exit %d, buckets %v\n%s%s", code, f.canaryBuckets(), out, errs)
	}
}

// TestCanaryPutBucketAnswered5xx: PutBucket took effect but its answer was
// a 502; the bucket is deleted all the same.
func TestCanaryPutBucketAnswered5xx(t *testing.T) {
	f := newCanaryFixture(t)
	f.front(func(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
		if r.Method == http.MethodPut && strings.HasPrefix(r.Host, canaryPrefix) {
			next.ServeHTTP(httptest.NewRecorder(), r) // it takes effect
			w.WriteHeader(http.StatusBadGateway)
			return true
		}
		return false
	})
	code, out, errs := f.run("--wait", "300ms")
	if code != 1 || len(f.canaryBuckets()) != 0 {
		t.Errorf("exit %d, buckets left %v\n%s%s", code, f.canaryBuckets(), out, errs)
	}
}

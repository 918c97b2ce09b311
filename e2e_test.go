package main_test

// End-to-end tests: the function binary, built as it is deployed, is started
// the way SCF starts it and invoked through net/rpc Function.Invoke
// (scf-go-lib's messages), against the COS/CI emulator, which checks every
// request's signature and session token.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picbucket/picbucket/handler"
	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/scfrpc"
)

const appID = "1250000000"

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "picbucket-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "main")
	if err := scfrpc.Build(".", binary); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// creds is one temporary key.
type creds struct{ id, key, token string }

var defaultCreds = creds{"AKIDe2eTestKey01", "e2e-secret-key-Zq8sW1", "e2e-session-token-Hx93Lp"}

func (c creds) env() map[string]string {
	return map[string]string{
		"TENCENTCLOUD_SECRETID": c.id, "TENCENTCLOUD_SECRETKEY": c.key, "TENCENTCLOUD_SESSIONTOKEN": c.token,
	}
}

// syncBuffer collects the function's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// fixture is an emulator and one running function process.
type fixture struct {
	t    *testing.T
	emu  *emulator.Server
	proc *scfrpc.Process
	out  *syncBuffer
	n    int
	// memoryMB is the MemoryLimitInMb each request carries (0: scfrpc's default).
	memoryMB int32
}

func start(t *testing.T, opts emulator.Options, settings ...string) *fixture {
	t.Helper()
	emu := emulator.New(opts)
	emu.AddCredential(emulator.Credential{SecretID: defaultCreds.id, SecretKey: defaultCreds.key, Token: defaultCreds.token, AppID: appID})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	out := &syncBuffer{}
	env := append([]string{"PATH=" + os.Getenv("PATH"), "PICBUCKET_ENDPOINT=" + srv.URL, "TENCENTCLOUD_APPID=" + appID}, settings...)
	proc, err := scfrpc.Start(binary, env, out, out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proc.Stop)
	return &fixture{t: t, emu: emu, proc: proc, out: out}
}

// invoke sends one event with the given credentials and returns the result
// (nil on an invocation error) and the error message ("" on success).
func (f *fixture) invokeWith(payload []byte, c creds, timeout time.Duration) (*handler.Result, string) {
	f.t.Helper()
	f.n++
	resp, err := f.proc.Invoke(scfrpc.Invocation{
		Payload: payload, RequestID: fmt.Sprintf("req-%d", f.n), Timeout: timeout,
		Environment: c.env(), AppID: appID, Uin: mgmtUin, Region: "ap-guangzhou", Function: "picbucket", MemoryMB: f.memoryMB,
	})
	if err != nil {
		f.t.Fatalf("rpc: %v", err)
	}
	if resp.Error != nil {
		return nil, resp.Error.Message
	}
	var res handler.Result
	if err := json.Unmarshal(resp.Payload, &res); err != nil {
		f.t.Fatalf("result %s: %v", resp.Payload, err)
	}
	return &res, ""
}

// logs waits until the function's output holds the summary line of the
// last invocation (stdout is copied from a pipe, so it can trail the RPC
// answer) and returns all of it.
func (f *fixture) logs() string {
	f.t.Helper()
	want := fmt.Sprintf(`"scfRequestId":"req-%d"`, f.n)
	for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(5 * time.Millisecond) {
		for _, line := range strings.Split(f.out.String(), "\n") {
			if strings.Contains(line, want) && (strings.Contains(line, `"message":"summary"`) ||
				strings.Contains(line, `"message":"invalid event"`) || strings.Contains(line, `"message":"invalid configuration"`)) {
				return f.out.String()
			}
		}
	}
	f.t.Errorf("no closing log line for req-%d in:\n%s", f.n, f.out)
	return f.out.String()
}

func (f *fixture) invoke(payload []byte) (*handler.Result, string) {
	return f.invokeWith(payload, defaultCreds, 30*time.Second)
}

// requests returns the emulator's log as "Action Host" lines, sorted, and
// checks that every request was signed and carried the expected token.
func (f *fixture) requests(c creds) []string {
	f.t.Helper()
	var out []string
	for _, r := range f.emu.Requests() {
		if !r.SignatureValid || r.SecretID != c.id || r.Token != c.token {
			f.t.Errorf("request %s %s%s: signature valid %v, secret id %q, token %q; want a valid signature by %q with its token",
				r.Method, r.Host, r.Path, r.SignatureValid, r.SecretID, r.Token, c.id)
		}
		if !strings.HasSuffix(r.Host, ".myqcloud.com") {
			f.t.Errorf("request to host %q", r.Host)
		}
		out = append(out, r.Action+" "+r.Host)
	}
	sort.Strings(out)
	return out
}

func outcomes(res *handler.Result) map[string]handler.Outcome {
	m := map[string]handler.Outcome{}
	for _, b := range res.Results {
		m[b.Bucket+"@"+b.Region] = b.Outcome
	}
	return m
}

func readEvent(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("events", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func ci(bucket, region string) string {
	return "CreatePicProcessBucket " + bucket + ".ci." + region + ".myqcloud.com"
}
func describe(region string) string {
	return "DescribePicProcessBuckets ci." + region + ".myqcloud.com"
}

const getService = "GetService service.cos.myqcloud.com"

// seedSamples adds the buckets the sample events name, and a few more.
func seedSamples(emu *emulator.Server) {
	for _, b := range []struct {
		name, region string
		on           bool
	}{
		{"photos-1250000000", "ap-guangzhou", false},
		{"archive-1250000000", "ap-guangzhou", true},
		{"old-1250000000", "ap-guangzhou", true},
		{"docs-1250000000", "ap-shanghai", false},
		{"videos-1250000000", "ap-shanghai", false},
		{"logs-1250000000", "ap-shanghai", false},
		{"new-1250000000", "ap-beijing", false},
	} {
		emu.AddBucket(b.name, b.region, b.on)
	}
}

func TestSampleEvents(t *testing.T) {
	tests := []struct {
		file     string
		want     map[string]handler.Outcome
		requests []string
		dryRun   bool
		errWant  string // a part of the invocation's error, when it must fail
	}{
		{"eventbridge-putbucket.json",
			map[string]handler.Outcome{"photos-1250000000@ap-guangzhou": handler.Enabled},
			[]string{ci("photos-1250000000", "ap-guangzhou")}, false, ""},
		{"eventbridge-batch.json",
			map[string]handler.Outcome{
				"videos-1250000000@ap-shanghai":   handler.Enabled,
				"taken-1250000000@ap-guangzhou":   handler.Skipped,
				"archive-1250000000@ap-guangzhou": handler.AlreadyEnabled,
			},
			[]string{ci("archive-1250000000", "ap-guangzhou"), ci("videos-1250000000", "ap-shanghai")}, false, ""},
		{"eventbridge-putbucket-nobucket.json",
			map[string]handler.Outcome{
				"docs-1250000000@ap-shanghai": handler.Enabled, "videos-1250000000@ap-shanghai": handler.Enabled,
				"logs-1250000000@ap-shanghai": handler.Enabled,
			},
			[]string{ci("docs-1250000000", "ap-shanghai"), ci("logs-1250000000", "ap-shanghai"),
				ci("videos-1250000000", "ap-shanghai"), describe("ap-shanghai"), getService}, false, ""},
		{"timer.json",
			map[string]handler.Outcome{
				"photos-1250000000@ap-guangzhou": handler.Enabled, "archive-1250000000@ap-guangzhou": handler.AlreadyEnabled,
				"old-1250000000@ap-guangzhou": handler.AlreadyEnabled, "docs-1250000000@ap-shanghai": handler.Enabled,
				"videos-1250000000@ap-shanghai": handler.Enabled, "logs-1250000000@ap-shanghai": handler.Enabled,
				"new-1250000000@ap-beijing": handler.Enabled,
			},
			[]string{ci("docs-1250000000", "ap-shanghai"), ci("logs-1250000000", "ap-shanghai"),
				ci("new-1250000000", "ap-beijing"), ci("photos-1250000000", "ap-guangzhou"),
				ci("videos-1250000000", "ap-shanghai"),
				describe("ap-beijing"), describe("ap-guangzhou"), describe("ap-shanghai"), getService}, false, ""},
		{"timer-options.json",
			map[string]handler.Outcome{
				"photos-1250000000@ap-guangzhou": handler.WouldEnable, "archive-1250000000@ap-guangzhou": handler.AlreadyEnabled,
				"old-1250000000@ap-guangzhou": handler.AlreadyEnabled,
			},
			[]string{describe("ap-guangzhou"), getService}, true, ""},
		{"cos-records.json",
			map[string]handler.Outcome{"photos-1250000000@ap-guangzhou": handler.Enabled, "logs-1250000000@ap-shanghai": handler.Enabled},
			[]string{ci("logs-1250000000", "ap-shanghai"), ci("photos-1250000000", "ap-guangzhou")}, false, ""},
		{"manual.json",
			map[string]handler.Outcome{"photos-1250000000@ap-guangzhou": handler.Enabled, "docs-1250000000@ap-shanghai": handler.Enabled},
			[]string{ci("docs-1250000000", "ap-shanghai"), ci("photos-1250000000", "ap-guangzhou")}, false, ""},
		{"manual-reconcile.json",
			map[string]handler.Outcome{
				"photos-1250000000@ap-guangzhou": handler.WouldEnable, "archive-1250000000@ap-guangzhou": handler.AlreadyEnabled,
				"old-1250000000@ap-guangzhou": handler.AlreadyEnabled,
			},
			[]string{describe("ap-guangzhou"), getService}, true, ""},
		// Without PICBUCKET_ACCOUNTS the organization timer is a timer (the
		// event chooses no mode: only cmd/local, as a demo, sets
		// PICBUCKET_ACCOUNTS=org for this sample), and a member event is
		// refused before any request.
		{"timer-organization.json",
			map[string]handler.Outcome{
				"photos-1250000000@ap-guangzhou": handler.Enabled, "archive-1250000000@ap-guangzhou": handler.AlreadyEnabled,
				"old-1250000000@ap-guangzhou": handler.AlreadyEnabled, "docs-1250000000@ap-shanghai": handler.Enabled,
				"videos-1250000000@ap-shanghai": handler.Enabled, "logs-1250000000@ap-shanghai": handler.Enabled,
				"new-1250000000@ap-beijing": handler.Enabled,
			},
			[]string{ci("docs-1250000000", "ap-shanghai"), ci("logs-1250000000", "ap-shanghai"),
				ci("new-1250000000", "ap-beijing"), ci("photos-1250000000", "ap-guangzhou"),
				ci("videos-1250000000", "ap-shanghai"),
				describe("ap-beijing"), describe("ap-guangzhou"), describe("ap-shanghai"), getService}, false, ""},
		{"member.json", nil, nil, false, "needs PICBUCKET_ACCOUNTS"},
		// Without PICBUCKET_ACCOUNTS a CLS event enables the own account's
		// buckets; the member's is skipped, the unreadable record too.
		{"cls-audit.json",
			map[string]handler.Outcome{"docs-1250000000@ap-shanghai": handler.Enabled, "docs-1250000011@ap-shanghai": handler.Skipped,
				"@": handler.Skipped},
			[]string{ci("docs-1250000000", "ap-shanghai")}, false, ""},
	}
	files, _ := filepath.Glob("events/*.json")
	if len(files) != len(tests) {
		t.Errorf("events/ has %d files, the table covers %d: cover every sample", len(files), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			f := start(t, emulator.Options{})
			seedSamples(f.emu)
			res, errMsg := f.invoke(readEvent(t, tt.file))
			if tt.errWant != "" {
				if res != nil || !strings.Contains(errMsg, tt.errWant) {
					t.Errorf("result %v, error %q: want the invocation refused with %q", res, errMsg, tt.errWant)
				}
				if n := len(f.emu.Requests()); n != 0 {
					t.Errorf("%d requests for a refused event", n)
				}
				return
			}
			if errMsg != "" {
				t.Fatalf("invocation failed: %s\nlogs:\n%s", errMsg, f.out)
			}
			if got := outcomes(res); !equalMaps(got, tt.want) {
				t.Errorf("outcomes = %v, want %v", got, tt.want)
			}
			if res.DryRun != tt.dryRun {
				t.Errorf("dryRun = %v, want %v", res.DryRun, tt.dryRun)
			}
			if got := f.requests(defaultCreds); !slices.Equal(got, tt.requests) {
				t.Errorf("requests:\n got %q\nwant %q", got, tt.requests)
			}
			if int(res.Requests) != len(tt.requests) {
				t.Errorf("result counts %d requests, the emulator saw %d", res.Requests, len(tt.requests))
			}
			for b, o := range tt.want {
				name := strings.Split(b, "@")[0]
				if on := f.emu.Enabled(name); (o == handler.Enabled || o == handler.AlreadyEnabled) != on {
					t.Errorf("%s: emulator says enabled=%v after outcome %s", b, on, o)
				}
			}
			checkLogs(t, f.logs(), len(res.Results), "req-1")
		})
	}
}

// checkLogs checks that every line is JSON carrying the request id, that
// there is one bucket line per result and one summary line.
func checkLogs(t *testing.T, logs string, results int, requestID string) {
	t.Helper()
	var buckets, summaries int
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("log line is not JSON: %q", line)
			continue
		}
		if m["scfRequestId"] != requestID {
			t.Errorf("log line without scfRequestId %q: %s", requestID, line)
		}
		switch m["message"] {
		case "bucket":
			buckets++
			for _, k := range []string{"bucket", "region", "outcome"} {
				if _, ok := m[k]; !ok {
					t.Errorf("bucket line without %q: %s", k, line)
				}
			}
		case "summary":
			summaries++
		}
	}
	if buckets != results || summaries != 1 {
		t.Errorf("logs have %d bucket lines and %d summary lines, want %d and 1:\n%s", buckets, summaries, results, logs)
	}
}

func equalMaps(a, b map[string]handler.Outcome) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func TestCredentialsChangeBetweenInvocations(t *testing.T) {
	f := start(t, emulator.Options{})
	seedSamples(f.emu)
	second := creds{"AKIDe2eRotated02", "rotated-secret-key-77aa", "rotated-session-token-55bb"}
	f.emu.AddCredential(emulator.Credential{SecretID: second.id, SecretKey: second.key, Token: second.token, AppID: appID})

	if _, errMsg := f.invoke([]byte(`{"buckets":[{"bucket":"photos-1250000000","region":"ap-guangzhou"}]}`)); errMsg != "" {
		t.Fatalf("first invocation: %s", errMsg)
	}
	f.requests(defaultCreds)
	// The first key expires; the same warm process gets the new one.
	f.emu.ExpireCredential(defaultCreds.id)
	f.emu.ResetRequests()
	res, errMsg := f.invokeWith([]byte(`{"buckets":[{"bucket":"docs-1250000000","region":"ap-shanghai"}]}`), second, 30*time.Second)
	if errMsg != "" {
		t.Fatalf("second invocation: %s\n%s", errMsg, f.out)
	}
	if got := outcomes(res)["docs-1250000000@ap-shanghai"]; got != handler.Enabled {
		t.Errorf("outcome %s, want enabled", got)
	}
	if got := f.requests(second); len(got) != 1 {
		t.Errorf("requests %q, want one Create", got)
	}
}

func TestAlreadyEnabled(t *testing.T) {
	for _, ok := range []bool{false, true} {
		t.Run(fmt.Sprintf("AlreadyEnabledOK=%v", ok), func(t *testing.T) {
			f := start(t, emulator.Options{AlreadyEnabledOK: ok})
			seedSamples(f.emu)
			res, errMsg := f.invoke([]byte(`{"buckets":[{"bucket":"archive-1250000000","region":"ap-guangzhou"}]}`))
			if errMsg != "" {
				t.Fatalf("invocation failed: %s", errMsg)
			}
			want := handler.AlreadyEnabled
			if got := outcomes(res)["archive-1250000000@ap-guangzhou"]; got != want {
				t.Errorf("outcome %s, want %s", got, want)
			}
			if !f.emu.Enabled("archive-1250000000") {
				t.Error("bucket no longer enabled")
			}
		})
	}
}

func TestTimerFiftyBuckets(t *testing.T) {
	f := start(t, emulator.Options{})
	regions := []string{"ap-guangzhou", "ap-shanghai"}
	f.emu.SeedDemo(appID, 50, regions, 0.4)
	timer := readEvent(t, "timer.json")

	res, errMsg := f.invoke(timer)
	if errMsg != "" {
		t.Fatalf("invocation failed: %s", errMsg)
	}
	if res.Summary.Enabled != 30 || res.Summary.AlreadyEnabled != 20 {
		t.Errorf("summary %+v, want 30 enabled and 20 already enabled", res.Summary)
	}
	stats := f.emu.Stats()
	if got := stats.ByAction["CreatePicProcessBucket"]; got != 30 {
		t.Errorf("%d Creates, want 30", got)
	}
	if got := stats.ByAction["GetService"]; got != 1 {
		t.Errorf("%d GetService pages, want 1", got)
	}
	if got := stats.ByAction["DescribePicProcessBuckets"]; got != len(regions) {
		t.Errorf("%d Describe pages, want %d", got, len(regions))
	}
	f.requests(defaultCreds)

	f.emu.ResetRequests()
	res, errMsg = f.invoke(timer)
	if errMsg != "" {
		t.Fatalf("second invocation failed: %s", errMsg)
	}
	if res.Summary.AlreadyEnabled != 50 || res.Summary.Enabled != 0 {
		t.Errorf("second run summary %+v, want 50 already enabled", res.Summary)
	}
	for _, r := range f.emu.Requests() {
		if r.Action == "CreatePicProcessBucket" {
			t.Errorf("second run sent a Create to %s", r.Host)
		}
	}
}

func TestRetries(t *testing.T) {
	f := start(t, emulator.Options{})
	seedSamples(f.emu)
	f.emu.Inject(emulator.Fault{Action: "CreatePicProcessBucket", Bucket: "photos-1250000000", Status: 503, Code: "ServiceUnavailable", Times: 1})
	f.emu.Inject(emulator.Fault{Action: "CreatePicProcessBucket", Bucket: "photos-1250000000", Status: 429, Code: "SlowDown", Times: 1})
	f.emu.Inject(emulator.Fault{Action: "CreatePicProcessBucket", Bucket: "docs-1250000000", Status: 500, Code: "InternalError", Times: 1000})

	res, errMsg := f.invoke(readEvent(t, "manual.json"))
	if errMsg == "" || !strings.Contains(errMsg, "docs-1250000000") || !strings.Contains(errMsg, "InternalError") {
		t.Errorf("invocation error %q, want one naming docs-1250000000 and InternalError", errMsg)
	}
	if res != nil {
		t.Fatalf("an invocation that returns an error has no payload; got %+v", res)
	}
	var photos, docs map[string]any
	for _, line := range strings.Split(f.logs(), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) != nil || m["message"] != "bucket" {
			continue
		}
		switch m["bucket"] {
		case "photos-1250000000":
			photos = m
		case "docs-1250000000":
			docs = m
		}
	}
	if photos["outcome"] != "enabled" || photos["attempts"] != float64(3) {
		t.Errorf("photos: %v, want enabled after 3 attempts", photos)
	}
	if docs["outcome"] != "failed" || docs["attempts"] != float64(5) || docs["code"] != "InternalError" {
		t.Errorf("docs: %v, want failed after 5 attempts with code InternalError", docs)
	}
	if !f.emu.Enabled("photos-1250000000") || f.emu.Enabled("docs-1250000000") {
		t.Error("emulator state does not match the outcomes")
	}
	if got := f.emu.Stats().ByAction["CreatePicProcessBucket"]; got != 8 {
		t.Errorf("%d Creates, want 3 + 5", got)
	}
}

func TestInvalidEvents(t *testing.T) {
	f := start(t, emulator.Options{})
	seedSamples(f.emu)
	cases := []struct{ name, payload, wantInError string }{
		{"not JSON", `photos please`, "invalid event"},
		{"truncated", `{"buckets":[{"bucket":"photos-1250000000"`, "invalid event"},
		{"empty object", `{}`, "invalid event"},
		{"array", `[1,2]`, "invalid event"},
		{"unknown shape", `{"hello":"world"}`, "hello"},
		{"slash", `{"buckets":[{"bucket":"photos/../x-1250000000","region":"ap-guangzhou"}]}`, "bucket"},
		{"at", `{"buckets":[{"bucket":"photos@evil.com","region":"ap-guangzhou"}]}`, "bucket"},
		{"dot", `{"buckets":[{"bucket":"evil.com-1250000000","region":"ap-guangzhou"}]}`, "bucket"},
		{"uppercase", `{"buckets":[{"bucket":"Photos-1250000000","region":"ap-guangzhou"}]}`, "bucket"},
		{"evil region", `{"buckets":[{"bucket":"photos-1250000000","region":"ap-guangzhou.evil.com"}]}`, "region"},
		{"region with port", `{"buckets":[{"bucket":"photos-1250000000","region":"ap-guangzhou:443"}]}`, "region"},
		{"localhost", `{"buckets":[{"bucket":"photos-1250000000","region":"localhost"}]}`, "region"},
		{"number for bucket", `{"buckets":[{"bucket":12,"region":"ap-guangzhou"}]}`, "bucket"},
		{"cos record evil region", `{"Records":[{"cos":{"cosBucket":{"name":"photos","appid":"1250000000","region":"gz.evil.com"}}}]}`, "region"},
		{"timer garbage message", `{"Type":"Timer","TriggerName":"t","Time":"2024-01-01T00:00:00Z","Message":"{not json"}`, "Message"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f.emu.ResetRequests()
			res, errMsg := f.invoke([]byte(c.payload))
			if errMsg == "" || res != nil {
				t.Fatalf("accepted: %+v", res)
			}
			if !strings.Contains(errMsg, c.wantInError) {
				t.Errorf("error %q does not mention %q", errMsg, c.wantInError)
			}
			if n := len(f.emu.Requests()); n != 0 {
				t.Errorf("%d requests sent for an invalid event", n)
			}
		})
	}
	// The same process still works.
	f.emu.ResetRequests()
	res, errMsg := f.invoke(readEvent(t, "manual.json"))
	if errMsg != "" || res.Summary.Enabled != 2 {
		t.Fatalf("valid event after invalid ones: %q %+v", errMsg, res)
	}
}

func TestMissingCredentials(t *testing.T) {
	f := start(t, emulator.Options{})
	seedSamples(f.emu)
	res, errMsg := f.invokeWith(readEvent(t, "timer.json"), creds{}, 30*time.Second)
	if res != nil || !strings.Contains(errMsg, "TENCENTCLOUD_SECRETID") || !strings.Contains(errMsg, "role") {
		t.Errorf("got %+v, %q; want an error naming TENCENTCLOUD_SECRETID and the execution role", res, errMsg)
	}
	if n := len(f.emu.Requests()); n != 0 {
		t.Errorf("%d requests without credentials", n)
	}
}

func TestNoSecretsInLogs(t *testing.T) {
	f := start(t, emulator.Options{}, "LOG_LEVEL=debug")
	seedSamples(f.emu)
	f.emu.Inject(emulator.Fault{Action: "CreatePicProcessBucket", Bucket: "docs-1250000000", Status: 500, Code: "InternalError", Times: 1000})
	var errs []string
	for _, ev := range []string{"timer.json", "manual.json", "eventbridge-batch.json", "cos-records.json"} {
		_, e := f.invoke(readEvent(t, ev))
		errs = append(errs, e)
	}
	// Events that carry the function's own secrets where the function
	// writes them: a bucket name the event names (echoed in the invalid
	// event's error and its log line, and in the debug line of the event),
	// a timer's message. Without the redactor these reach the output.
	for _, ev := range []string{
		`{"buckets":[{"bucket":"` + defaultCreds.key + `","region":"ap-guangzhou"}]}`,
		`{"buckets":[{"bucket":"photos-1250000000","region":"` + defaultCreds.token + `"}]}`,
		`{"Type":"Timer","TriggerName":"t","Time":"2024-01-01T00:00:00Z","Message":"` + defaultCreds.key + `"}`,
	} {
		_, e := f.invoke([]byte(ev))
		if e == "" {
			t.Errorf("%s: accepted", ev)
		}
		errs = append(errs, e)
	}
	// A refused key: the error path must not leak it either.
	f.emu.ExpireCredential(defaultCreds.id)
	_, e := f.invoke(readEvent(t, "manual.json"))
	errs = append(errs, e)
	all := f.logs() + strings.Join(errs, "\n")
	if !strings.Contains(all, `"level":"debug"`) {
		t.Fatal("no debug lines: LOG_LEVEL=debug not in force")
	}
	if n := strings.Count(all, "[redacted]"); n < 3 {
		t.Errorf("%d redactions: the secrets the events carry did not reach the output, so the test proves nothing", n)
	}
	// The word "Authorization" may appear as a (masked) event field name;
	// the header's value would show its q-* parameters.
	for _, secret := range []string{defaultCreds.key, defaultCreds.token, "q-signature", "q-sign-algorithm", "q-key-time"} {
		if strings.Contains(all, secret) {
			t.Errorf("output contains %q", secret)
		}
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/picbucket/picbucket/internal/scfrpc"
)

func TestEnvFlag(t *testing.T) {
	for _, c := range []struct {
		args    []string
		want    []string // the collected entries
		errWant string   // a part of the error, when the command line is wrong
	}{
		{[]string{"-env", "PICBUCKET_REGIONS=ap-guangzhou,ap-shanghai", "e.json"}, []string{"PICBUCKET_REGIONS=ap-guangzhou,ap-shanghai"}, ""},
		{[]string{"-env", "A=1", "-env", "B=x=y", "-env", "_C=", "e.json"}, []string{"A=1", "B=x=y", "_C="}, ""},
		{[]string{"-env=LOG_LEVEL=debug", "e.json"}, []string{"LOG_LEVEL=debug"}, ""},
		{[]string{"e.json"}, nil, ""},
		{[]string{"-env", "NOEQUALS", "e.json"}, nil, `"NOEQUALS" is not KEY=VALUE`},
		{[]string{"-env", "=v", "e.json"}, nil, `"=v" has an empty key`},
		{[]string{"-env", "1A=b", "e.json"}, nil, `key "1A" is not a variable name`},
		{[]string{"-env", "A-B=c", "e.json"}, nil, `key "A-B"`},
		{[]string{"-env", "A B=c", "e.json"}, nil, `key "A B"`},
		{[]string{"-env", "OK=1", "-env", "BAD", "e.json"}, nil, `"BAD"`},
	} {
		o, err := parse(c.args, io.Discard)
		if c.errWant != "" {
			if err == nil || !strings.Contains(err.Error(), c.errWant) || !strings.Contains(err.Error(), "-env") {
				t.Errorf("%q: error %v, want one naming -env and %s", c.args, err, c.errWant)
			}
			continue
		}
		if err != nil || !slices.Equal(o.env, c.want) || o.event != "e.json" {
			t.Errorf("%q: env %q, event %q, %v; want %q", c.args, o.env, o.event, err, c.want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "want one EVENT.json, got 0"},
		{[]string{"a.json", "b.json"}, "got 2"},
		{[]string{"-env", "x", "a.json"}, `invalid value "x" for flag -env`},
		{[]string{"-bogus", "a.json"}, "-bogus"},
		{[]string{"-timeout", "0s", "a.json"}, "-timeout"},
	} {
		var out, errb bytes.Buffer
		code := run(c.args, &out, &errb)
		lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
		if code != 2 || out.Len() != 0 || !strings.Contains(errb.String(), c.want) || len(lines) != 2 || !strings.Contains(lines[1], "-h") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", c.args, code, out.String(), errb.String())
		}
	}
	var out, errb bytes.Buffer
	code := run([]string{"-h"}, &out, &errb)
	first, _, _ := strings.Cut(out.String(), "\n")
	if code != 0 || first != command.What || errb.Len() != 0 {
		t.Errorf("-h: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	// The help explains the organization output and the exit statuses.
	for _, want := range []string{"usage: go run ./cmd/local [flags] EVENT.json", "-env", `"deliveries"`, organizationTimer, "Exit status: 0", "3 when the first succeeded and a delivered one\nfailed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("-h lacks %q:\n%s", want, out.String())
		}
	}
}

// TestOrganizationDemo: the events this runner runs in organization mode
// are the member events and the organization timer sample, and no other
// sample in events/.
func TestOrganizationDemo(t *testing.T) {
	for _, c := range []struct {
		event string
		want  string // a part of the reason; "" for none
	}{
		{`{"account":{"uin":"100000000011"}}`, "member event"},
		{`{"account":null}`, "member event"},
		{`{"Type":"Timer","TriggerName":"reconcile-organization","Time":"2024-05-20T11:00:00Z","Message":""}`, "organization timer"},
		{`{"Type":"Timer","TriggerName":"reconcile-hourly","Time":"2024-05-20T11:00:00Z","Message":""}`, ""},
		{`{"Type":"Manual","TriggerName":"reconcile-organization"}`, ""},
		{`{"Type":"Timer","TriggerName":["reconcile-organization"]}`, ""},
		{`{"Type":"Timer"}`, ""},
		{`[1]`, ""},
		{`not json`, ""},
	} {
		got := organizationDemo([]byte(c.event))
		if (c.want == "") != (got == "") || !strings.Contains(got, c.want) {
			t.Errorf("%s: %q, want %q", c.event, got, c.want)
		}
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no events/*.json: %v", err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(f)
		want := name == orgSample || name == "cls-audit.json" || memberSample[name] != ""
		if got := organizationDemo(b); (got != "") != want {
			t.Errorf("%s: organizationDemo %q, want organization mode %v", name, got, want)
		}
	}
}

// The binaries the end-to-end tests run, built once.
var (
	buildOnce           sync.Once
	localBin, fnBin     string
	buildErr            error
	repoRoot, buildsDir string
)

// binaries builds cmd/local and the function into a directory that lives
// as long as the test binary (t.TempDir is per test).
func binaries(t *testing.T) (local, fn, root string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs binaries")
	}
	buildOnce.Do(func() {
		if repoRoot, buildErr = filepath.Abs(filepath.Join("..", "..")); buildErr != nil {
			return
		}
		if buildsDir, buildErr = os.MkdirTemp("", "picbucket-local-test"); buildErr != nil {
			return
		}
		localBin, fnBin = filepath.Join(buildsDir, "local"), filepath.Join(buildsDir, "main")
		cmd := exec.Command("go", "build", "-o", localBin, "./cmd/local")
		cmd.Dir = repoRoot
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = errors.New("go build ./cmd/local: " + err.Error() + "\n" + string(b))
			return
		}
		buildErr = scfrpc.Build(repoRoot, fnBin)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return localBin, fnBin, repoRoot
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildsDir != "" {
		os.RemoveAll(buildsDir)
	}
	os.Exit(code)
}

type result struct {
	Trigger string `json:"trigger"`
	DryRun  bool   `json:"dryRun"`
	Results []struct {
		Account, Bucket, Region, Outcome, Reason string
	} `json:"results"`
	Summary  map[string]int `json:"summary"`
	Accounts []struct {
		Uin, AppID, Outcome, Error, InvocationID string
	} `json:"accounts"`
}

// runLocalExit runs the built command from the repository root, as
// `go run ./cmd/local ARGS…` would, and returns its stdout, stderr and
// exit status, which it checks against want.
func runLocalExit(t *testing.T, want int, args ...string) ([]byte, string) {
	t.Helper()
	local, fn, root := binaries(t)
	cmd := exec.Command(local, append([]string{"-binary", fn}, args...)...)
	cmd.Dir = root
	cmd.Env = withoutAccounts()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var exit *exec.ExitError
	code := 0
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("local %q: %v", args, err)
	}
	if code != want {
		t.Fatalf("local %q: exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", args, code, want, out.String(), errb.String())
	}
	return out.Bytes(), errb.String()
}

// withoutAccounts is this process's environment without PICBUCKET_ACCOUNTS,
// which would decide for the runner.
func withoutAccounts() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PICBUCKET_ACCOUNTS=") {
			env = append(env, kv)
		}
	}
	return env
}

// runLocalOut runs the command as runLocalExit does and fails the test
// unless it exits 0.
func runLocalOut(t *testing.T, args ...string) ([]byte, string) {
	t.Helper()
	return runLocalExit(t, 0, args...)
}

// checkTable checks the end of stderr: after the function's log lines, a
// table with a row per result, then the summary line.
func checkTable(t *testing.T, logs string, rows int, withAccount bool) {
	t.Helper()
	head := strings.Index(logs, "\nBUCKET ")
	if withAccount {
		head = strings.Index(logs, "\nACCOUNT ")
	}
	summary := strings.LastIndex(logs, "\nsummary: enabled ")
	if head < 0 || summary < head || strings.LastIndex(logs, `{"level":`) > head {
		t.Errorf("stderr lacks the table and summary after the log lines (table at %d, summary at %d, last log line at %d):\n%s",
			head, summary, strings.LastIndex(logs, `{"level":`), logs)
		return
	}
	lines := strings.Split(strings.TrimSpace(logs[head:summary]), "\n")
	got := 0
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "account ") {
			got++
		}
		if strings.HasSuffix(l, " ") || utf8.RuneCountInString(l) > 200 && !strings.HasPrefix(l, "account ") {
			t.Errorf("table line %q: trailing space or too long", l)
		}
	}
	if got != rows {
		t.Errorf("table has %d bucket rows, want %d:\n%s", got, rows, logs[head:])
	}
}

// decodeOne decodes stdout into v: exactly one JSON value.
func decodeOne(t *testing.T, args []string, out []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(out))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("local %q: stdout is not a JSON document: %v\n%s", args, err, out)
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		t.Fatalf("local %q: stdout holds more than one JSON document (%v): %s", args, err, extra)
	}
}

// runLocal runs the command and decodes its stdout: exactly one result.
func runLocal(t *testing.T, args ...string) (result, string) {
	t.Helper()
	out, logs := runLocalOut(t, args...)
	var res result
	decodeOne(t, args, out, &res)
	return res, logs
}

// otherPoint lists the samples whose point is an outcome other than
// enabling a bucket: for them any of enabled, would_enable,
// already_enabled or skipped will do.
var otherPoint = map[string]bool{
	"eventbridge-putbucket-nobucket.json": true, // names no bucket: the function reconciles
}

// orgSample is the organization timer sample.
const orgSample = "timer-organization.json"

// memberSample lists the member events in events/ and the account each names.
var memberSample = map[string]string{"member.json": "100000000011"}

// memberAppID is the APPID of each member of the demo organization.
var memberAppID = map[string]string{}

func init() {
	for _, m := range demoMembers {
		memberAppID[fmt.Sprint(m.uin)] = m.appID
	}
}

// TestEverySample runs every file in events/ through the local runner, as
// README shows: go run ./cmd/local events/FILE.
func TestEverySample(t *testing.T) {
	_, _, root := binaries(t)
	files, err := filepath.Glob(filepath.Join(root, "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no events/*.json: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		if name == orgSample {
			continue // TestOrganizationTimer runs it
		}
		t.Run(name, func(t *testing.T) {
			out, logs := runLocalOut(t, "events/"+name)
			var res result
			decodeOne(t, []string{name}, out, &res)
			checkTable(t, logs, len(res.Results), memberSample[name] != "" || name == "cls-audit.json")
			if bytes.Contains(out, []byte(`": ""`)) || bytes.Contains(out, []byte(`"attempts": 0`)) {
				t.Errorf("the result repeats an empty field:\n%s", out)
			}
			s := res.Summary
			ok := s["enabled"] > 0
			want := "enabled"
			switch {
			case otherPoint[name]:
				ok = s["enabled"]+s["would_enable"]+s["already_enabled"]+s["skipped"] > 0
				want = "enabled, would_enable, already_enabled or skipped"
			case res.DryRun:
				ok = s["would_enable"] > 0
				want = "would_enable"
			}
			if !ok || s["failed"] > 0 {
				t.Errorf("summary %v: want a bucket %s and none failed\nresults %+v\nstderr:\n%s", s, want, res.Results, logs)
			}
			if uin := memberSample[name]; uin != "" {
				// The runner set PICBUCKET_ACCOUNTS=org for it: the member's
				// buckets, each with its account.
				if res.Trigger != "member" || len(res.Accounts) != 1 || res.Accounts[0].Uin != uin || res.Accounts[0].Outcome != "reconciled" {
					t.Errorf("trigger %q accounts %+v: want member %s reconciled", res.Trigger, res.Accounts, uin)
				}
				for _, r := range res.Results {
					if r.Account != uin || !strings.HasSuffix(r.Bucket, "-"+memberAppID[uin]) {
						t.Errorf("result %+v: want a bucket of account %s", r, uin)
					}
				}
			} else if name == "cls-audit.json" {
				// The runner set PICBUCKET_ACCOUNTS=org for it: the member's
				// bucket enabled with the member's key, ours with ours.
				want := map[string]string{"docs-1250000011": "100000000011 enabled", "docs-1250000000": "100000000001 enabled"}
				got := map[string]string{}
				for _, r := range res.Results {
					if r.Bucket != "" {
						got[r.Bucket] = r.Account + " " + r.Outcome
					}
				}
				if res.Trigger != "cls" || len(res.Accounts) != 2 || !maps.Equal(got, want) {
					t.Errorf("trigger %q accounts %+v results %v: want %v", res.Trigger, res.Accounts, got, want)
				}
			} else if len(res.Accounts) != 0 || res.Trigger == "member" {
				t.Errorf("trigger %q accounts %+v: an organization run without PICBUCKET_ACCOUNTS", res.Trigger, res.Accounts)
			}
		})
	}
}

// TestEnvAndStreams: repeated -env settings reach the function whole
// (commas included), and the function's log lines go to stderr.
func TestEnvAndStreams(t *testing.T) {
	res, logs := runLocal(t, "-env", "PICBUCKET_REGIONS=ap-guangzhou", "-env", "PICBUCKET_EXCLUDE=photos-0*,taken-*",
		"-env", "LOG_LEVEL=debug", "events/timer.json")
	var got []string
	for _, r := range res.Results {
		got = append(got, r.Bucket+"@"+r.Region+":"+r.Outcome)
	}
	want := []string{"archive-1250000000@ap-guangzhou:enabled", "bucketname-1250000000@ap-guangzhou:enabled", "photos-1250000000@ap-guangzhou:enabled"}
	if !slices.Equal(got, want) {
		t.Errorf("results %v, want %v", got, want)
	}
	// The function's JSON log lines (debug included) are on stderr.
	for _, want := range []string{`"message":"summary"`, `"level":"debug"`, "emulator saw"} {
		if !strings.Contains(logs, want) {
			t.Errorf("stderr lacks %s:\n%s", want, logs)
		}
	}
}

// orgOutput is stdout when the function sent asynchronous invocations.
type orgOutput struct {
	Result     *result `json:"result"`
	Error      string  `json:"error"`
	Deliveries []struct {
		RequestID string  `json:"requestId"`
		Account   string  `json:"account"`
		Result    *result `json:"result"`
		Error     string  `json:"error"`
	} `json:"deliveries"`
	Undelivered int `json:"undelivered"`
}

// TestOrganizationTimer runs the organization timer sample with
// -refusing-member: the runner sets PICBUCKET_ACCOUNTS=org for it, and says
// so; the management account is reconciled, every member fanned out, and
// the runner delivers each member invocation: two members reconciled, their
// buckets enabled, and the one whose role refuses AssumeRole failed with
// an error naming the trust policy, which makes the exit status 3. Without
// the flag, as README shows it, the sample succeeds (exit 0). Given
// PICBUCKET_ACCOUNTS empty, the same sample is a timer of one account.
func TestOrganizationTimer(t *testing.T) {
	plain, plainLogs := runLocalExit(t, 0, "events/"+orgSample)
	var plainDoc orgOutput
	decodeOne(t, []string{orgSample}, plain, &plainDoc)
	if len(plainDoc.Deliveries) != 2 || strings.Contains(plainLogs, "100000000013") {
		t.Errorf("without -refusing-member: %d deliveries, want the 2 members; stderr:\n%s", len(plainDoc.Deliveries), plainLogs)
	}
	for _, d := range plainDoc.Deliveries {
		if d.Error != "" || d.Result == nil {
			t.Errorf("without -refusing-member: delivery to %s failed: %s", d.Account, d.Error)
		}
	}

	args := []string{"-refusing-member", "events/" + orgSample}
	out, logs := runLocalExit(t, exitDeliveryFailed, args...)
	if !strings.Contains(logs, "local: the organization timer") || !strings.Contains(logs, "this runner sets PICBUCKET_ACCOUNTS=org") {
		t.Errorf("stderr does not say the runner chose organization mode:\n%s", logs)
	}
	if !strings.Contains(logs, "account 100000000013: its invocation ") || !strings.Contains(logs, "(over the first invocation and 3 delivered, 1 of them failed)") {
		t.Errorf("stderr lacks the failed delivery or the summary:\n%s", logs)
	}
	var doc orgOutput
	decodeOne(t, args, out, &doc)
	if doc.Result == nil || doc.Error != "" || doc.Undelivered != 0 {
		t.Fatalf("result %+v, error %q, undelivered %d: want the timer's result\nstdout:\n%s\nstderr:\n%s", doc.Result, doc.Error, doc.Undelivered, out, logs)
	}
	res := doc.Result
	invocationIDs := map[string]string{}
	var fanned []string
	for _, a := range res.Accounts {
		switch {
		case a.Uin == mgmtUin:
			if a.Outcome != "reconciled" || a.AppID != demoAppID {
				t.Errorf("management account %+v: want reconciled, APPID %s", a, demoAppID)
			}
		case a.Outcome == "fanned_out" && a.InvocationID != "":
			fanned = append(fanned, a.Uin)
			invocationIDs[a.Uin] = a.InvocationID
		default:
			t.Errorf("account %+v: want fanned_out with an invocation id", a)
		}
	}
	slices.Sort(fanned)
	if want := []string{"100000000011", "100000000012", "100000000013"}; !slices.Equal(fanned, want) {
		t.Errorf("fanned out %v, want %v", fanned, want)
	}
	if res.Trigger != "timer" || res.Summary["enabled"] == 0 || res.Summary["failed"] != 0 {
		t.Errorf("timer trigger %q summary %v: want the management account's buckets enabled", res.Trigger, res.Summary)
	}
	for _, r := range res.Results {
		if r.Account != mgmtUin || !strings.HasSuffix(r.Bucket, "-"+demoAppID) {
			t.Errorf("the timer's own result %+v: want a bucket of the management account", r)
		}
	}

	if len(doc.Deliveries) != 3 {
		t.Fatalf("%d deliveries, want 3 (one per member):\n%s", len(doc.Deliveries), out)
	}
	rows := len(res.Results)
	for _, d := range doc.Deliveries {
		if d.Result != nil {
			rows += len(d.Result.Results)
		}
		if id := invocationIDs[d.Account]; id == "" || d.RequestID != id {
			t.Errorf("delivery for %q has request id %q; the timer's accounts say %q", d.Account, d.RequestID, id)
		}
		if d.Account == "100000000013" {
			if d.Result != nil || !strings.Contains(d.Error, "ResourceNotFound.RoleNotFound") || !strings.Contains(d.Error, "trust policy") {
				t.Errorf("refusing member: result %+v, error %q: want no result and an error naming the code and the trust policy", d.Result, d.Error)
			}
			continue
		}
		m := d.Result
		if m == nil || d.Error != "" {
			t.Errorf("member %s: error %q", d.Account, d.Error)
			continue
		}
		if m.Trigger != "member" || len(m.Accounts) != 1 || m.Accounts[0].Uin != d.Account || m.Accounts[0].Outcome != "reconciled" ||
			m.Accounts[0].AppID != memberAppID[d.Account] {
			t.Errorf("member %s: trigger %q accounts %+v: want it reconciled with APPID %s", d.Account, m.Trigger, m.Accounts, memberAppID[d.Account])
		}
		var buckets []string
		for _, r := range m.Results {
			if r.Account != d.Account || !strings.HasSuffix(r.Bucket, "-"+memberAppID[d.Account]) {
				t.Errorf("member %s: result %+v is not one of its buckets", d.Account, r)
			}
			if r.Outcome == "enabled" || r.Outcome == "already_enabled" {
				buckets = append(buckets, r.Bucket)
			}
		}
		var want []string
		for _, dm := range demoMembers {
			if fmt.Sprint(dm.uin) == d.Account {
				for _, b := range dm.buckets {
					want = append(want, b.Name)
				}
			}
		}
		slices.Sort(buckets)
		slices.Sort(want)
		if !slices.Equal(buckets, want) || m.Summary["enabled"] == 0 {
			t.Errorf("member %s: buckets enabled or already %v (summary %v), want all of %v", d.Account, buckets, m.Summary, want)
		}
	}
	checkTable(t, logs, rows, true)
	for _, s := range []string{demoSecretKey, demoToken, "TC3-HMAC-SHA256 Credential", "q-signature"} {
		if strings.Contains(string(out), s) || strings.Contains(logs, s) {
			t.Errorf("%q reached the output", s)
		}
	}

	// -env decides over the runner: an empty PICBUCKET_ACCOUNTS makes the
	// sample a timer of the function's own account.
	one, logs := runLocal(t, "-env", "PICBUCKET_ACCOUNTS=", "events/"+orgSample)
	if strings.Contains(logs, "this runner sets PICBUCKET_ACCOUNTS") || one.Trigger != "timer" || len(one.Accounts) != 0 || one.Summary["enabled"] == 0 {
		t.Errorf("with PICBUCKET_ACCOUNTS empty: trigger %q accounts %+v summary %v, want one account's timer\n%s", one.Trigger, one.Accounts, one.Summary, logs)
	}
}

// TestDemoOptOut: the demo seeds a bucket its owner tagged picbucket=off
// and the runner sets PICBUCKET_SKIP_TAG for it, so the plain timer sample
// shows that bucket skipped, the reason naming the tag; -env
// PICBUCKET_SKIP_TAG= turns the setting off and the bucket is enabled.
func TestDemoOptOut(t *testing.T) {
	res, logs := runLocal(t, "events/timer.json")
	const optedOut = "photos-05-1250000000"
	found := false
	for _, r := range res.Results {
		if r.Bucket == optedOut {
			found = true
			if r.Outcome != "skipped" || !strings.Contains(r.Reason, "picbucket=off") {
				t.Errorf("%s: %s %q, want skipped naming the tag", optedOut, r.Outcome, r.Reason)
			}
		}
	}
	if !found || !strings.Contains(logs, "this runner sets PICBUCKET_SKIP_TAG=picbucket=off") {
		t.Errorf("no result for %s, or the runner did not say it sets the tag setting:\n%s", optedOut, logs)
	}
	res, _ = runLocal(t, "-env", "PICBUCKET_SKIP_TAG=", "events/timer.json")
	for _, r := range res.Results {
		if r.Bucket == optedOut && r.Outcome != "enabled" {
			t.Errorf("without the setting %s is %s, want enabled", optedOut, r.Outcome)
		}
	}
}

// TestOperatorKeysStayOut runs the command with an operator's keys in its
// environment (Tencent Cloud's variables, the .env names, and other
// credentials a shell holds) and a setting, through a -binary wrapper that
// records the function process's environment. The process must get the
// setting and the demo key, and none of the operator's values; nothing the
// command prints may hold them; and -env refuses a credential.
func TestOperatorKeysStayOut(t *testing.T) {
	_, fn, root := binaries(t)
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skipf("no sh for the wrapper: %v", err)
	}
	dir := t.TempDir()
	dump := filepath.Join(dir, "environ")
	wrapper := filepath.Join(dir, "fn")
	script := "#!" + sh + "\nenv > '" + dump + "'\nexec '" + fn + "' \"$@\"\n"
	if err := os.WriteFile(wrapper, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	operator := map[string]string{
		"TENCENTCLOUD_SECRETID":     "AKIDoperatorOwnKey00001",
		"TENCENTCLOUD_SECRETKEY":    "operator-secret-key-Qz81",
		"TENCENTCLOUD_SESSIONTOKEN": "operator-session-token-Lm27",
		"TENCENT_SECRET_ID":         "AKIDoperatorDotEnv00002",
		"TENCENT_SECRET_KEY":        "operator-dotenv-key-Wx55",
		"TENCENT_TOKEN":             "operator-dotenv-token-Pk09",
		"AWS_SECRET_ACCESS_KEY":     "operator-aws-key-Hj44",
		"GITHUB_TOKEN":              "operator-github-token-Ty63",
		"PICBUCKET_SECRET_NOTE":     "operator-named-setting-Vb12",
	}
	env := append(withoutAccounts(), "PICBUCKET_REGIONS=ap-guangzhou")
	for k, v := range operator {
		env = append(env, k+"="+v)
	}
	cmd := exec.Command(local(t), "-binary", wrapper, "events/timer.json")
	cmd.Dir = root
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("local: %v\n%s", err, out)
	}
	got, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range operator {
		if strings.Contains(string(got), v) {
			t.Errorf("the function process got the operator's %s", k)
		}
		if strings.Contains(string(out), v) {
			t.Errorf("the command printed the operator's %s", k)
		}
	}
	lines := strings.Split(string(got), "\n")
	for _, want := range []string{"TENCENTCLOUD_SECRETID=" + demoSecretID, "TENCENTCLOUD_SECRETKEY=" + demoSecretKey,
		"TENCENTCLOUD_SESSIONTOKEN=" + demoToken, "PICBUCKET_REGIONS=ap-guangzhou", scfrpc.LoopbackVar + "=1"} {
		if !slices.Contains(lines, want) {
			t.Errorf("the function process lacks %s", want)
		}
	}
	// The run went as with the demo key alone: the regions setting reached it.
	if !strings.Contains(string(out), `"outcome":"enabled"`) || strings.Contains(string(out), "ap-shanghai") {
		t.Errorf("want buckets of ap-guangzhou enabled and none of ap-shanghai:\n%s", out)
	}

	// -env refuses a credential, without printing its value.
	_, err = parse([]string{"-env", "TENCENTCLOUD_SECRETKEY=operator-secret-key-Qz81", "e.json"}, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "TENCENTCLOUD_SECRETKEY") || strings.Contains(err.Error(), "Qz81") {
		t.Errorf("-env TENCENTCLOUD_SECRETKEY=…: %v, want an error naming the variable and not its value", err)
	}
}

// local returns the built command.
func local(t *testing.T) string {
	l, _, _ := binaries(t)
	return l
}

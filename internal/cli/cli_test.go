package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/picbucket/picbucket/handler"
	"github.com/picbucket/picbucket/internal/cli"
	"github.com/picbucket/picbucket/internal/emulator"
)

// fake records the invocation.
type fake struct {
	payload  []byte
	deadline time.Time
	reqID    string
	out      []byte
	err      error
}

func (f *fake) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	f.payload = payload
	f.deadline, _ = ctx.Deadline()
	if fc, ok := functioncontext.FromContext(ctx); ok {
		f.reqID = fc.RequestID
	}
	return f.out, f.err
}

func run(t *testing.T, h cli.Invoker, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Run(args, strings.NewReader(stdin), &out, &errb, h)
	return code, out.String(), errb.String()
}

func TestWanted(t *testing.T) {
	if !cli.Wanted(func(string) string { return "" }) {
		t.Error("no _LAMBDA_SERVER_PORT: want the command line")
	}
	if cli.Wanted(func(k string) string {
		if k == "_LAMBDA_SERVER_PORT" {
			return "28902"
		}
		return ""
	}) {
		t.Error("started by SCF: want the runtime")
	}
}

func TestEvents(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "ev.json")
	os.WriteFile(file, []byte(`{"Type":"Timer","Message":""}`), 0o644)

	cases := []struct {
		args  []string
		stdin string
		want  string // JSON the payload must equal
	}{
		{[]string{"-event", file}, "", `{"Type":"Timer","Message":""}`},
		{[]string{"-event", "-"}, `{"reconcile":{}}`, `{"reconcile":{}}`},
		{[]string{"reconcile"}, "", `{"reconcile":{}}`},
		{[]string{"reconcile", "-regions", "ap-guangzhou, ap-shanghai", "-include", "photos-*", "-exclude", "tmp-*", "-dry-run"}, "",
			`{"dryRun":true,"reconcile":{"regions":["ap-guangzhou","ap-shanghai"],"include":["photos-*"],"exclude":["tmp-*"]}}`},
		{[]string{"enable", "-region", "ap-guangzhou", "a-1250000000", "b-1250000000"}, "",
			`{"buckets":[{"bucket":"a-1250000000","region":"ap-guangzhou"},{"bucket":"b-1250000000","region":"ap-guangzhou"}]}`},
		{[]string{"enable", "-dry-run", "-region", "ap-shanghai", "a-1250000000"}, "",
			`{"dryRun":true,"buckets":[{"bucket":"a-1250000000","region":"ap-shanghai"}]}`},
	}
	for _, c := range cases {
		f := &fake{out: []byte(`{"ok":true}`)}
		start := time.Now()
		code, out, errs := run(t, f, c.stdin, c.args...)
		if code != cli.ExitOK || out != "{\"ok\":true}\n" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", c.args, code, out, errs)
			continue
		}
		var got, want any
		json.Unmarshal(f.payload, &got)
		json.Unmarshal([]byte(c.want), &want)
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		if string(gb) != string(wb) {
			t.Errorf("%v: payload %s, want %s", c.args, f.payload, c.want)
		}
		if d := f.deadline.Sub(start); d < cli.DefaultTimeout-time.Minute || d > cli.DefaultTimeout+time.Second {
			t.Errorf("%v: deadline in %s, want about %s", c.args, d, cli.DefaultTimeout)
		}
		if !strings.HasPrefix(f.reqID, "cli-") {
			t.Errorf("request id %q", f.reqID)
		}
	}
}

func TestTimeoutFlag(t *testing.T) {
	f := &fake{out: []byte(`{}`)}
	start := time.Now()
	if code, _, errs := run(t, f, "", "reconcile", "-timeout", "7s"); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if d := f.deadline.Sub(start); d < 6*time.Second || d > 8*time.Second {
		t.Errorf("deadline in %s, want 7s", d)
	}
}

func TestInvocationErrorExitsOne(t *testing.T) {
	f := &fake{err: errors.New("picbucket: 1 of 3 buckets failed; first: x")}
	code, out, errs := run(t, f, "", "reconcile")
	if code != cli.ExitError || out != "" || !strings.Contains(errs, "1 of 3 buckets failed") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"-event"},
		{"-event", "/no/such/file.json"},
		{"-event", "x.json", "-dry-run"},
		{"-event", "x.json", "extra"},
		{"reconcile", "extra"},
		{"reconcile", "-timeout", "0s"},
		{"enable", "a-1250000000"},
		{"enable", "-region", "ap-guangzhou"},
		{"-bogus"},
	} {
		f := &fake{}
		code, out, errs := run(t, f, "", args...)
		if code != cli.ExitUsage || out != "" || !strings.Contains(errs, "usage:") || f.payload != nil {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	for _, args := range [][]string{{"-h"}, {"help"}, {"reconcile", "-help"}} {
		if code, out, _ := run(t, &fake{}, "", args...); code != cli.ExitOK || !strings.Contains(out, "usage:") {
			t.Errorf("%q: exit %d, stdout %q", args, code, out)
		}
	}
}

// TestWithHandler runs the real handler against the COS/CI emulator, with
// the credentials and settings in the environment as on a laptop.
func TestWithHandler(t *testing.T) {
	const appID = "1250000000"
	emu := emulator.New(emulator.Options{})
	emu.AddCredential(emulator.Credential{SecretID: "AKIDcliTest", SecretKey: "cli-secret-key", AppID: appID})
	emu.SeedDemo(appID, 3, []string{"ap-guangzhou"}, 0)
	srv := httptest.NewServer(emu)
	defer srv.Close()
	env := map[string]string{
		"TENCENTCLOUD_SECRETID": "AKIDcliTest", "TENCENTCLOUD_SECRETKEY": "cli-secret-key", // a permanent key: no token
		"PICBUCKET_ENDPOINT": srv.URL,
	}
	var logs bytes.Buffer
	h := &handler.Handler{Getenv: func(k string) string { return env[k] }, Out: &logs}

	code, out, errs := run(t, h, "", "reconcile", "-dry-run", "-timeout", "20s")
	if code != cli.ExitOK {
		t.Fatalf("exit %d\nstdout %s\nstderr %s\nlogs %s", code, out, errs, logs.String())
	}
	var res struct {
		DryRun  bool
		Summary map[string]int
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || !res.DryRun || res.Summary["would_enable"] != 3 {
		t.Errorf("result %s (%v)", out, err)
	}
	if !strings.Contains(logs.String(), `"message":"summary"`) || strings.Contains(logs.String(), "cli-secret-key") {
		t.Errorf("logs:\n%s", logs.String())
	}

	code, out, _ = run(t, h, "", "enable", "-region", "ap-guangzhou", "photos-00-"+appID)
	if code != cli.ExitOK || !strings.Contains(out, `"outcome":"enabled"`) || !emu.Enabled("photos-00-"+appID) {
		t.Errorf("enable: exit %d, %s", code, out)
	}

	// A bad key: the invocation fails and the exit status says so.
	env["TENCENTCLOUD_SECRETKEY"] = "wrong"
	code, out, errs = run(t, h, "", "reconcile")
	if code != cli.ExitError || out != "" || !strings.Contains(errs, "invocation failed") {
		t.Errorf("bad key: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	"github.com/picbucket/picbucket/signer"
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
	for _, c := range []struct {
		args []string
		want string // the reason, on the first line
	}{
		{nil, "nothing to do: give -event FILE, reconcile, or enable"},
		{[]string{"-event"}, "flag needs an argument: -event"},
		{[]string{"-event", "/no/such/file.json"}, "reading the event"},
		{[]string{"-event", "x.json", "-dry-run"}, "-dry-run does not apply to -event"},
		{[]string{"-event", "x.json", "extra"}, `unexpected argument "extra"`},
		{[]string{"reconcile", "extra"}, "reconcile takes no arguments"},
		{[]string{"reconcile", "-dry-run", "extra"}, "reconcile takes no arguments"},
		{[]string{"reconcile", "-timeout", "0s"}, "-timeout 0s: want a positive duration"},
		{[]string{"reconcile", "-timeout", "soon"}, `invalid value "soon" for flag -timeout`},
		{[]string{"enable", "a-1250000000"}, "enable needs -region and at least one bucket"},
		{[]string{"enable", "-region", "ap-guangzhou"}, "enable needs -region and at least one bucket"},
		{[]string{"enable", "a-1250000000", "-region"}, "flag needs an argument: -region"},
		{[]string{"-bogus"}, "unknown flag -bogus"},
		// Unknown flags close to a known one name it.
		{[]string{"reconcile", "--region", "ap-guangzhou"}, "unknown flag -region; did you mean -regions?"},
		{[]string{"reconcile", "-dryrun"}, "unknown flag -dryrun; did you mean -dry-run?"},
		{[]string{"reconcile", "-exlude", "tmp-*"}, "unknown flag -exlude; did you mean -exclude?"},
		{[]string{"enable", "-regions", "ap-guangzhou", "a-1250000000"}, "unknown flag -regions; did you mean -region?"},
		{[]string{"enable", "a-1250000000", "-timout", "5s", "-region", "ap-guangzhou"}, "unknown flag -timout; did you mean -timeout?"},
		{[]string{"-evnt", "x.json"}, "unknown flag -evnt; did you mean -event?"},
		{[]string{"-Event", "x.json"}, "unknown flag -Event; did you mean -event?"},
		// A flag of another form says where it belongs.
		{[]string{"enable", "-include", "x", "a-1250000000"}, "unknown flag -include here; it is a flag of main reconcile"},
		{[]string{"reconcile", "-zzz"}, "unknown flag -zzz"},
	} {
		f := &fake{}
		code, out, errs := run(t, f, "", c.args...)
		lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
		if code != cli.ExitUsage || out != "" || f.payload != nil || len(lines) != 2 ||
			!strings.HasPrefix(lines[0], "picbucket: "+c.want) || lines[1] != "run 'main -h' for usage" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want the reason %q and a pointer to -h", c.args, code, out, errs, c.want)
		}
	}
	for _, args := range [][]string{{"-h"}, {"help"}, {"reconcile", "-help"}, {"enable", "a-1250000000", "-h"}} {
		if code, out, _ := run(t, &fake{}, "", args...); code != cli.ExitOK || !strings.Contains(out, "usage:") {
			t.Errorf("%q: exit %d, stdout %q", args, code, out)
		}
	}
}

// TestFlagsAfterArguments: flags may follow the bucket names.
func TestFlagsAfterArguments(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"enable", "b-1250000000", "-region", "ap-shanghai"},
			`{"buckets":[{"bucket":"b-1250000000","region":"ap-shanghai"}]}`},
		{[]string{"enable", "-region", "ap-shanghai", "b-1250000000", "-dry-run"},
			`{"dryRun":true,"buckets":[{"bucket":"b-1250000000","region":"ap-shanghai"}]}`},
		{[]string{"enable", "a-1250000000", "-dry-run", "b-1250000000", "--region=ap-guangzhou", "c-1250000000"},
			`{"dryRun":true,"buckets":[{"bucket":"a-1250000000","region":"ap-guangzhou"},{"bucket":"b-1250000000","region":"ap-guangzhou"},{"bucket":"c-1250000000","region":"ap-guangzhou"}]}`},
		{[]string{"enable", "-region", "ap-guangzhou", "--", "a-1250000000", "-dry-run"},
			`{"buckets":[{"bucket":"a-1250000000","region":"ap-guangzhou"},{"bucket":"-dry-run","region":"ap-guangzhou"}]}`},
		{[]string{"reconcile", "-regions", "ap-guangzhou", "-dry-run"},
			`{"dryRun":true,"reconcile":{"regions":["ap-guangzhou"]}}`},
	} {
		f := &fake{out: []byte(`{}`)}
		if code, _, errs := run(t, f, "", c.args...); code != cli.ExitOK {
			t.Errorf("%q: exit %d: %s", c.args, code, errs)
			continue
		}
		var got, want any
		json.Unmarshal(f.payload, &got)
		json.Unmarshal([]byte(c.want), &want)
		if gb, wb := mustJSON(got), mustJSON(want); gb != wb {
			t.Errorf("%q: payload %s, want %s", c.args, gb, wb)
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestNoCredentials: outside SCF, missing credentials name the variables to
// export, not the function's advice (an execution role).
func TestNoCredentials(t *testing.T) {
	const appID = "1250000000"
	wrapped := fmt.Errorf("picbucket: %w: TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY not set; give the function an execution role "+
		"(serverless.yml inputs.role) so that SCF provides them", signer.ErrNoCredentials)
	for _, c := range []struct {
		name  string
		h     cli.Invoker
		cause string
	}{
		{"handler, nothing set", &handler.Handler{Getenv: envMap(map[string]string{"TENCENTCLOUD_APPID": appID}), Out: io.Discard},
			"no credentials: TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY not set"},
		{"handler, no key", &handler.Handler{Getenv: envMap(map[string]string{"TENCENTCLOUD_SECRETID": "AKIDx"}), Out: io.Discard},
			"no credentials: TENCENTCLOUD_SECRETKEY not set"},
		{"handler, white space", &handler.Handler{Getenv: envMap(map[string]string{"TENCENTCLOUD_SECRETID": "AKIDx ", "TENCENTCLOUD_SECRETKEY": "k"}), Out: io.Discard},
			"no credentials: TENCENTCLOUD_SECRETID has leading or trailing white space"},
		{"another invoker's wrapped error", &fake{err: wrapped},
			"no credentials: TENCENTCLOUD_SECRETID and TENCENTCLOUD_SECRETKEY not set"},
	} {
		for _, args := range [][]string{{"reconcile"}, {"enable", "-dry-run", "-region", "ap-guangzhou", "a-" + appID}} {
			code, out, errs := run(t, c.h, "", args...)
			if code != cli.ExitError || out != "" {
				t.Errorf("%s %q: exit %d, stdout %q", c.name, args, code, out)
			}
			if !strings.HasPrefix(errs, "picbucket: "+c.cause+"\n") {
				t.Errorf("%s %q: stderr does not start with the cause %q:\n%s", c.name, args, c.cause, errs)
			}
			for _, want := range []string{"export TENCENTCLOUD_SECRETID=", "export TENCENTCLOUD_SECRETKEY=", "export TENCENTCLOUD_SESSIONTOKEN=", "export TENCENTCLOUD_APPID="} {
				if !strings.Contains(errs, want) {
					t.Errorf("%s %q: stderr lacks %q:\n%s", c.name, args, want, errs)
				}
			}
			if strings.Contains(errs, "execution role") || strings.Contains(errs, "serverless.yml") || strings.Contains(errs, "AKIDx") {
				t.Errorf("%s %q: stderr gives the function's advice or a value:\n%s", c.name, args, errs)
			}
		}
	}
}

func envMap(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

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

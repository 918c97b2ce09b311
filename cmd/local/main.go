// Command local runs the function on this machine exactly as SCF would: it
// builds the binary, starts it with _LAMBDA_SERVER_PORT, and sends one event
// through net/rpc Function.Invoke, with the credentials in the request's
// Environment. By default the requests go to an embedded COS/CI emulator
// seeded with demo buckets (photos-00-1250000000 …) and with every bucket the
// samples in events/ name (emulator.SampleBuckets: photos-1250000000,
// docs-1250000000, …, none enabled), so no cloud account is needed and every
// sample runs as it would on an account holding those buckets.
//
// Beside it runs an embedded API 3.0 emulator (internal/tcapi/tcemu:
// organization, sts, cam, scf) holding an Organization the demo account
// manages (UIN 100000000001, APPID 1250000000): members 100000000011 (APPID
// 1250000011) and 100000000012 (APPID 1250000012), each with buckets in
// ap-guangzhou and ap-shanghai, some enabled, and 100000000013, whose role
// refuses AssumeRole (ResourceNotFound.RoleNotFound). Each key AssumeRole
// issues is valid for its member's buckets in the COS/CI emulator. The
// function gets PICBUCKET_API_ENDPOINT, SCF_FUNCTIONNAME=picbucket,
// SCF_NAMESPACE=default, SCF_FUNCTIONVERSION=$LATEST and TENCENTCLOUD_UIN
// (the demo account's); organization runs are off until PICBUCKET_ACCOUNTS is
// set, except that a member event (an event whose top-level object has the
// key "account") gets PICBUCKET_ACCOUNTS=org unless -env or this command's
// own environment sets PICBUCKET_ACCOUNTS.
//
// With fan-out (an organization timer: PICBUCKET_ACCOUNTS set and
// PICBUCKET_FANOUT not false) this command plays SCF: every asynchronous
// invocation the function sends (an scf Invoke the API emulator accepted;
// its ClientContext is the event) is delivered to the function as an
// invocation of its own, at once, on an instance of its own (another
// process of the binary while the others are busy), the invocations those
// send included, at most 100 in one run.
//
// Output. stdout gets exactly one JSON document, indented:
//
//   - when the function sent no asynchronous invocation (every run but an
//     organization timer with fan-out): the invocation's result, as the
//     function returned it; nothing when the invocation failed;
//   - when it sent some: {"result": R, "deliveries": [D, …]} where R is the
//     first invocation's result (null when it failed, and then "error"
//     holds its error) and each D, in the order the Invokes were accepted,
//     is {"requestId": the FunctionRequestId the Invoke answered (the
//     sender's accounts[].invocationId), "account": the event's account.uin,
//     "result": the delivered invocation's result or null, "error": its
//     error or ""}; "undelivered" counts the invocations past 100, when any.
//
// Everything else (the function's log lines, which SCF would send to CLS,
// and this command's own lines) goes to stderr. The exit status is 0 when
// the first invocation succeeded, whatever the deliveries: a delivered
// invocation that fails (the member whose role refuses AssumeRole does, as
// it would on SCF) is shown in its delivery and does not change it; 1 when
// the first invocation failed; 2 on a usage error.
//
//	go run ./cmd/local events/timer.json
//	go run ./cmd/local events/timer.json | jq .summary
//	go run ./cmd/local -dry-run -buckets 20 events/manual-reconcile.json
//	go run ./cmd/local -env PICBUCKET_REGIONS=ap-guangzhou,ap-shanghai -env LOG_LEVEL=debug events/timer.json
//	go run ./cmd/local events/member.json | jq .accounts
//	go run ./cmd/local -env PICBUCKET_ACCOUNTS=org events/timer-organization.json | jq '.result.accounts, [.deliveries[] | {account, error, summary: .result.summary}]'
//
// -env KEY=VALUE sets one setting of the function and may be repeated; the
// value is taken whole, commas included.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/picbucket/picbucket/internal/config"
	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/scfrpc"
	"github.com/picbucket/picbucket/internal/tcapi/tcemu"
)

// Demo credentials the embedded emulator accepts; they are valid nowhere else.
const (
	demoSecretID  = "AKIDLOCALDEMO"
	demoSecretKey = "local-demo-secret-key"
	demoToken     = "local-demo-session-token"
	demoAppID     = emulator.SampleAppID
)

// envKeyRE is what an environment variable name may be.
var envKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// envFlag collects repeated -env KEY=VALUE settings. The value is taken
// whole: PICBUCKET_REGIONS=ap-guangzhou,ap-shanghai is one setting.
type envFlag []string

func (e *envFlag) String() string { return strings.Join(*e, " ") }

func (e *envFlag) Set(s string) error {
	key, _, ok := strings.Cut(s, "=")
	switch {
	case !ok:
		return fmt.Errorf("%q is not KEY=VALUE", s)
	case key == "":
		return fmt.Errorf("%q has an empty key", s)
	case !envKeyRE.MatchString(key):
		return fmt.Errorf("%q: key %q is not a variable name ([A-Za-z_][A-Za-z0-9_]*)", s, key)
	}
	*e = append(*e, s)
	return nil
}

// has reports whether a setting of key was given.
func (e envFlag) has(key string) bool {
	for _, s := range e {
		if k, _, _ := strings.Cut(s, "="); k == key {
			return true
		}
	}
	return false
}

// options are the command line.
type options struct {
	event        string
	buckets      int
	regions      []string
	enabledShare float64
	dryRun       bool
	timeout      time.Duration
	logLevel     string
	binary       string
	env          envFlag
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command: it returns 0 when the (first) invocation succeeded,
// 1 when it failed, 2 on a usage error. Only the result JSON goes to stdout.
func run(args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "local: %v\nrun 'go run ./cmd/local -h' for usage\n", err)
		return 2
	}
	if err := invoke(o, stdout, stderr); err != nil {
		fmt.Fprintln(stderr, "local:", err)
		return 1
	}
	return 0
}

func parse(args []string, stderr io.Writer) (options, error) {
	var o options
	var regions string
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.IntVar(&o.buckets, "buckets", 6, "demo buckets in the embedded emulator (besides the sample buckets)")
	fs.StringVar(&regions, "regions", "ap-guangzhou,ap-shanghai", "regions of the demo buckets")
	fs.Float64Var(&o.enabledShare, "enabled", 0.34, "share of demo buckets already enabled")
	fs.BoolVar(&o.dryRun, "dry-run", false, "set PICBUCKET_DRY_RUN=true")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "the invocation's time limit")
	fs.StringVar(&o.logLevel, "log-level", "info", "LOG_LEVEL for the function")
	fs.StringVar(&o.binary, "binary", "", "a function binary already built (default: build it)")
	fs.Var(&o.env, "env", "a setting for the function, KEY=VALUE (repeat -env for more; the value may contain commas)")
	usage := func() {
		fmt.Fprintf(stderr, "usage: go run ./cmd/local [flags] EVENT.json\n\n"+
			"Runs the function once on EVENT.json as SCF would, against an embedded COS/CI emulator and an\n"+
			"API 3.0 emulator holding an Organization, delivering the asynchronous invocations it sends.\n"+
			"The result JSON goes to stdout, the log lines to stderr.\n\nflags:\n")
		fs.SetOutput(stderr)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage()
		}
		return o, err
	}
	if fs.NArg() != 1 {
		return o, fmt.Errorf("want one EVENT.json, got %d arguments", fs.NArg())
	}
	o.event = fs.Arg(0)
	for _, r := range strings.Split(regions, ",") {
		if r = strings.TrimSpace(r); r != "" {
			o.regions = append(o.regions, r)
		}
	}
	if o.buckets < 0 || o.timeout <= 0 {
		return o, errors.New("-buckets must not be negative and -timeout must be positive")
	}
	return o, nil
}

func invoke(o options, stdout, stderr io.Writer) error {
	stderr = &lockedWriter{w: stderr} // the function's output and ours share it
	payload, err := os.ReadFile(o.event)
	if err != nil {
		return err
	}

	emu := emulator.New(emulator.Options{})
	emu.AddCredential(emulator.Credential{SecretID: demoSecretID, SecretKey: demoSecretKey, Token: demoToken, AppID: demoAppID})
	seeded := emu.SeedDemo(demoAppID, o.buckets, o.regions, o.enabledShare)
	samples := emu.SeedSamples()
	endpoint, stopCOS, err := serve(emu)
	if err != nil {
		return err
	}
	defer stopCOS()
	fmt.Fprintf(stderr, "emulator: %s with %d demo buckets (%d already enabled) and the %d buckets the samples in events/ name (not enabled)\n",
		endpoint, len(seeded), countEnabled(seeded), len(samples))
	tc := newOrganization(emu)
	apiEndpoint, stopAPI, err := serve(tc)
	if err != nil {
		return err
	}
	defer stopAPI()
	fmt.Fprintf(stderr, "API 3.0 emulator: %s with organization %s (the demo account, APPID %s) and members %s\n",
		apiEndpoint, mgmtUin, demoAppID, describeMembers())

	binary := o.binary
	if binary == "" {
		dir, err := os.MkdirTemp("", "picbucket-local")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "main")
		root, err := moduleRoot()
		if err != nil {
			return err
		}
		if err := scfrpc.Build(root, binary); err != nil {
			return err
		}
	}
	// Settings go in the process environment, as serverless.yml would set
	// them (and SCF its SCF_* variables); the credentials arrive with the
	// invocation, as SCF sends them. -env comes last, so it wins.
	env := append(os.Environ(), "PICBUCKET_ENDPOINT="+endpoint, "PICBUCKET_API_ENDPOINT="+apiEndpoint, "LOG_LEVEL="+o.logLevel,
		"TENCENTCLOUD_APPID="+demoAppID, "TENCENTCLOUD_UIN="+mgmtUin,
		"SCF_FUNCTIONNAME="+functionName, "SCF_NAMESPACE=default", "SCF_FUNCTIONVERSION=$LATEST")
	if o.dryRun {
		env = append(env, "PICBUCKET_DRY_RUN=true")
	}
	if isMemberEvent(payload) && !o.env.has(config.Accounts) {
		if _, set := os.LookupEnv(config.Accounts); !set {
			env = append(env, config.Accounts+"="+config.AccountsOrg)
			fmt.Fprintf(stderr, "local: a member event: setting %s=%s (give -env %s=… to choose)\n", config.Accounts, config.AccountsOrg, config.Accounts)
		}
	}
	env = append(env, o.env...)
	// The function logs to its stdout (SCF sends it to CLS): here that is
	// stderr, so that stdout carries the result alone. Every invocation,
	// the first and each one it sends, runs on an instance of its own
	// while another is busy, as on SCF.
	pool := scfrpc.NewPool(binary, env, stderr, stderr, maxInstances)
	pool.OnStart = func(p *scfrpc.Process) {
		fmt.Fprintf(stderr, "function: pid %d ready in %s\n", p.Pid(), p.Ready.Sub(p.Started).Round(time.Microsecond))
	}
	defer pool.Stop()
	d := newDispatcher(pool, tc, o.timeout, stderr)
	tc.OnInvoke = func(tcemu.Invocation) { d.poll() }

	fmt.Fprintf(stderr, "local: invoking with %s\n", o.event)
	resp, _, err := pool.Invoke(scfrpc.Invocation{
		Payload:     payload,
		RequestID:   fmt.Sprintf("local-%d", time.Now().UnixNano()),
		Timeout:     o.timeout,
		Environment: demoEnvironment(),
		AppID:       demoAppID,
		Uin:         mgmtUin,
		Region:      region,
		Function:    functionName,
	})
	if err != nil {
		return err
	}
	deliveries, undelivered := d.wait()
	stats := emu.Stats()
	fmt.Fprintf(stderr, "emulator saw %d requests: %v\n", stats.Total, stats.ByAction)
	if calls := tc.Calls(); len(calls) > 0 {
		by := map[string]int{}
		for _, c := range calls {
			by[c.Action]++
		}
		fmt.Fprintf(stderr, "API 3.0 emulator saw %d requests: %v\n", len(calls), by)
	}
	var firstErr error
	if resp.Error != nil {
		firstErr = fmt.Errorf("invocation failed: %s", resp.Error.Message)
	} else if !json.Valid(resp.Payload) {
		return fmt.Errorf("result is not JSON: %q", resp.Payload)
	}
	if len(deliveries) == 0 && undelivered == 0 {
		if firstErr != nil {
			return firstErr
		}
		return writeJSON(stdout, resp.Payload)
	}
	doc := output{Result: resp.Payload, Deliveries: deliveries, Undelivered: undelivered}
	if firstErr != nil {
		doc.Result, doc.Error = nil, resp.Error.Message
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	if err := writeJSON(stdout, b); err != nil {
		return err
	}
	failed := 0
	for _, dl := range deliveries {
		if dl.Error != "" {
			failed++
		}
	}
	fmt.Fprintf(stderr, "local: delivered %d asynchronous invocations (%d failed)", len(deliveries), failed)
	if undelivered > 0 {
		fmt.Fprintf(stderr, "; %d more not delivered (at most %d are)", undelivered, maxDeliveries)
	}
	fmt.Fprintln(stderr)
	return firstErr
}

// writeJSON writes one JSON value, indented, and a newline.
func writeJSON(w io.Writer, b []byte) error {
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, b, "", "  "); err != nil {
		return fmt.Errorf("result is not JSON: %w", err)
	}
	pretty.WriteByte('\n')
	_, err := w.Write(pretty.Bytes())
	return err
}

// serve answers h on a loopback port.
func serve(h http.Handler) (endpoint string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	return "http://" + l.Addr().String(), func() { srv.Close() }, nil
}

// demoEnvironment is the Environment of every invocation: the demo key, as
// SCF sends the execution role's key.
func demoEnvironment() map[string]string {
	return map[string]string{
		"TENCENTCLOUD_SECRETID":     demoSecretID,
		"TENCENTCLOUD_SECRETKEY":    demoSecretKey,
		"TENCENTCLOUD_SESSIONTOKEN": demoToken,
	}
}

// isMemberEvent reports whether the event's top-level object has the key
// "account": a member event.
func isMemberEvent(payload []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(payload, &top) != nil {
		return false
	}
	_, ok := top["account"]
	return ok
}

// lockedWriter serializes writes from the function's output copier and
// this command.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func countEnabled(bs []emulator.BucketState) int {
	n := 0
	for _, b := range bs {
		if b.Enabled {
			n++
		}
	}
	return n
}

// moduleRoot finds the module to build the function from: the directory
// holding go.mod at or above the working directory or, outside the
// checkout, the module's directory in the go command's workspace (GOWORK),
// as when `go run <checkout>/cmd/local` runs in another directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			break
		}
		d = parent
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Path != "" {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", info.Main.Path).Output()
		if root := strings.TrimSpace(string(out)); err == nil && root != "" {
			return root, nil
		}
	}
	return "", fmt.Errorf("no go.mod above the working directory: run it from the repository")
}

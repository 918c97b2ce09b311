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
// ap-guangzhou and ap-shanghai, some enabled, and, with -refusing-member,
// 100000000013, whose role refuses AssumeRole (ResourceNotFound.RoleNotFound).
// Each key AssumeRole
// issues is valid for its member's buckets in the COS/CI emulator. The
// function gets PICBUCKET_API_ENDPOINT, SCF_FUNCTIONNAME=picbucket,
// SCF_NAMESPACE=default, SCF_FUNCTIONVERSION=$LATEST and TENCENTCLOUD_UIN
// (the demo account's). Organization runs are off until PICBUCKET_ACCOUNTS
// is set, except that this command sets PICBUCKET_ACCOUNTS=org, and says so
// on stderr, for a member event (an event whose top-level object has the
// key "account"), for a CLS trigger event (top-level key "clslogs": CloudAudit
// records of any account) and for the organization timer sample
// (events/timer-organization.json: a Timer event whose TriggerName is
// "reconcile-organization"), unless -env or this command's own environment
// sets PICBUCKET_ACCOUNTS. That is the runner choosing its demo settings:
// the function itself takes its mode from its settings alone, never from
// the event.
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
//     function returned it (empty fields are left out); nothing when the
//     invocation failed;
//   - when it sent some: {"result": R, "deliveries": [D, …]} where R is the
//     first invocation's result (absent when it failed, and then "error"
//     holds its error) and each D, in the order the Invokes were accepted,
//     is {"requestId": the FunctionRequestId the Invoke answered (the
//     sender's accounts[].invocationId), "account": the event's account.uin,
//     "result": the delivered invocation's result} or, when it failed,
//     "error" instead of "result"; "undelivered" counts the invocations past
//     100, when any.
//
// Everything else goes to stderr: the function's log lines (which SCF would
// send to CLS) and this command's own lines, then a table of every bucket
// of every invocation (account, bucket, region, outcome, the reason or
// error clipped), the accounts and deliveries that failed, and the summary
// summed over the invocations. The exit status is 0 when every invocation
// succeeded; 1 when the first invocation failed; 3 when it succeeded and a
// delivered invocation failed (with -refusing-member, the demo member whose
// role refuses AssumeRole does, as it would on SCF); 2 on a usage error. -h prints all
// this.
//
//	go run ./cmd/local events/timer.json
//	go run ./cmd/local events/timer.json | jq .summary
//	go run ./cmd/local -dry-run -buckets 20 events/manual-reconcile.json
//	go run ./cmd/local -env PICBUCKET_REGIONS=ap-guangzhou,ap-shanghai -env LOG_LEVEL=debug events/timer.json
//	go run ./cmd/local events/member.json | jq .accounts
//	go run ./cmd/local events/cls-audit.json | jq '.accounts, .results'  # a CLS trigger event: each record in its account
//	go run ./cmd/local events/timer-organization.json | jq '.result.accounts, [.deliveries[] | {account, error, summary: .result.summary}]'
//
// -env KEY=VALUE sets one setting of the function and may be repeated; the
// value is taken whole, commas included. A credential is not a setting: the
// function process gets the demo key, and of this command's environment only
// the settings and what any process needs (PATH, HOME, …), never the
// operator's keys. It listens on loopback only (internal/scfrpc.Serve).
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
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/picbucket/picbucket/internal/config"
	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/scfrpc"
	"github.com/picbucket/picbucket/internal/tcapi/tcemu"
	"github.com/picbucket/picbucket/internal/usage"
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
	refusing     bool // the demo organization has a member whose role refuses AssumeRole
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is the command: it returns 0 when the (first) invocation succeeded,
// 1 when it failed, 2 on a usage error. Only the result JSON goes to stdout.
func run(args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stdout)
	if err != nil {
		return command.Fail(stderr, err)
	}
	failed, err := invoke(o, stdout, stderr)
	switch {
	case err != nil && failed > 0:
		fmt.Fprintf(stderr, "local: %v; and %d delivered invocations failed\n", err, failed)
		return exitFailed
	case err != nil:
		fmt.Fprintln(stderr, "local:", err)
		return exitFailed
	case failed > 0:
		fmt.Fprintf(stderr, "local: exit status %d: delivered invocations failed: %d\n", exitDeliveryFailed, failed)
		return exitDeliveryFailed
	}
	return exitOK
}

// Exit statuses.
const (
	exitOK             = 0 // every invocation succeeded
	exitFailed         = 1 // the first invocation failed, or this command did
	exitUsage          = usage.ExitUsage
	exitDeliveryFailed = 3 // the first succeeded, an invocation it sent failed
)

// command is this command, for its -h.
var command = usage.Command{
	Name: "go run ./cmd/local",
	What: "local runs the function once on EVENT.json as SCF would, against embedded COS/CI and API 3.0 emulators: no cloud account needed.",
	Args: "EVENT.json",
	More: fmt.Sprintf(`The emulators hold the demo account (APPID %[1]s, UIN %[2]s) with demo buckets and every
bucket the samples in events/ name, and an Organization it manages: members 100000000011 and
100000000012 with buckets, and with -refusing-member 100000000013, whose role refuses AssumeRole.

Organization mode: a member event (top-level "account"), a CLS trigger event (top-level
"clslogs", events/cls-audit.json) and a Timer event whose TriggerName is %[3]q
(events/timer-organization.json)
get %[4]s=%[5]s from this command, which says so on stderr, unless -env or
the environment sets %[4]s. This is the runner choosing its demo settings;
on SCF only the function's own settings choose the mode.

Output. stderr: the function's log lines, then a table of every bucket (account, bucket,
region, outcome, reason or error, clipped) and the summary. stdout: one JSON document, the
result as the function returned it, empty fields left out. When the function sends
asynchronous invocations (an organization timer with fan-out), this command delivers each
to the function, as SCF would, and stdout is instead
  {"result": FIRST, "deliveries": [{"requestId": ID, "account": UIN, "result": R}, …]}
with a delivery that failed holding "error" instead of "result"; ID is the sender's
accounts[].invocationId. At most %[6]d are delivered; "undelivered" counts the rest.

Exit status: %[7]d when every invocation succeeded; %[8]d when the first failed (stdout is
then empty, or holds the deliveries); %[9]d when the first succeeded and a delivered one
failed (with -refusing-member, the demo's member 100000000013 does, as on SCF); %[10]d on a usage error.

Examples:
  go run ./cmd/local events/timer.json | jq .summary
  go run ./cmd/local -dry-run -buckets 20 events/manual-reconcile.json
  go run ./cmd/local -env PICBUCKET_REGIONS=ap-guangzhou,ap-shanghai events/timer.json
  go run ./cmd/local events/timer-organization.json | jq '.result.accounts'`,
		demoAppID, mgmtUin, organizationTimer, config.Accounts, config.AccountsOrg, maxDeliveries,
		exitOK, exitFailed, exitDeliveryFailed, exitUsage),
}

// parse reads the command line; -h writes the help to stdout and returns
// flag.ErrHelp.
func parse(args []string, stdout io.Writer) (options, error) {
	var o options
	var regions string
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.IntVar(&o.buckets, "buckets", 6, "demo buckets in the embedded emulator (besides the sample buckets)")
	fs.StringVar(&regions, "regions", "ap-guangzhou,ap-shanghai", "regions of the demo buckets")
	fs.Float64Var(&o.enabledShare, "enabled", 0.34, "share of demo buckets already enabled")
	fs.BoolVar(&o.dryRun, "dry-run", false, "set PICBUCKET_DRY_RUN=true")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Second, "the invocation's time limit")
	fs.StringVar(&o.logLevel, "log-level", "info", "LOG_LEVEL for the function")
	fs.StringVar(&o.binary, "binary", "", "a function binary already built (default: build it)")
	fs.BoolVar(&o.refusing, "refusing-member", false, "add to the demo organization member 100000000013, whose role refuses AssumeRole (its delivered invocation fails: exit status 3)")
	fs.Var(&o.env, "env", "a setting for the function, KEY=VALUE (repeat -env for more; the value may contain commas)")
	if err := command.Parse(fs, args, stdout); err != nil {
		return o, err
	}
	if fs.NArg() != 1 {
		return o, fmt.Errorf("want one EVENT.json, got %d arguments", fs.NArg())
	}
	o.event = fs.Arg(0)
	for _, kv := range o.env {
		// Checked here, not in Set, whose error the flag package prints
		// with the value.
		if key, _, _ := strings.Cut(kv, "="); credentialVar(key) {
			return o, fmt.Errorf("-env %s: a credential is not a setting: the function's key is the demo key the emulators accept", key)
		}
	}
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

// invoke runs the function on the event, delivers the invocations it
// sends, and writes the result JSON to stdout and the table to stderr. It
// returns how many delivered invocations failed; its error is the first
// invocation's, or this command's own.
func invoke(o options, stdout, stderr io.Writer) (int, error) {
	stderr = &lockedWriter{w: stderr} // the function's output and ours share it
	payload, err := os.ReadFile(o.event)
	if err != nil {
		return 0, err
	}

	emu := emulator.New(emulator.Options{})
	emu.AddCredential(emulator.Credential{SecretID: demoSecretID, SecretKey: demoSecretKey, Token: demoToken, AppID: demoAppID})
	seeded := emu.SeedDemo(demoAppID, o.buckets, o.regions, o.enabledShare)
	samples := emu.SeedSamples()
	optedOut := tagOptOut(emu, seeded)
	endpoint, stopCOS, err := serve(emu)
	if err != nil {
		return 0, err
	}
	defer stopCOS()
	fmt.Fprintf(stderr, "emulator: %s with %d demo buckets (%d already enabled) and the %d buckets the samples in events/ name (not enabled)\n",
		endpoint, len(seeded), countEnabled(seeded), len(samples))
	tc := newOrganization(emu, o.refusing)
	apiEndpoint, stopAPI, err := serve(tc)
	if err != nil {
		return 0, err
	}
	defer stopAPI()
	fmt.Fprintf(stderr, "API 3.0 emulator: %s with organization %s (the demo account, APPID %s) and members %s\n",
		apiEndpoint, mgmtUin, demoAppID, describeMembers(o.refusing))

	binary := o.binary
	if binary == "" {
		dir, err := os.MkdirTemp("", "picbucket-local")
		if err != nil {
			return 0, err
		}
		defer os.RemoveAll(dir)
		binary = filepath.Join(dir, "main")
		root, err := moduleRoot()
		if err != nil {
			return 0, err
		}
		fmt.Fprintln(stderr, "local: building the function (the first build takes a while; later ones are cached)")
		if err := scfrpc.Build(root, binary); err != nil {
			return 0, err
		}
	}
	// Settings go in the process environment, as serverless.yml would set
	// them (and SCF its SCF_* variables); the credentials arrive with the
	// invocation, as SCF sends them. Of this command's own environment the
	// function gets only its settings and what a process needs
	// (functionEnv), never the operator's keys: its key is the demo key.
	// -env comes last, so it wins.
	env := append(functionEnv(os.Environ()), "PICBUCKET_ENDPOINT="+endpoint, "PICBUCKET_API_ENDPOINT="+apiEndpoint, "LOG_LEVEL="+o.logLevel,
		"TENCENTCLOUD_APPID="+demoAppID, "TENCENTCLOUD_UIN="+mgmtUin,
		"SCF_FUNCTIONNAME="+functionName, "SCF_NAMESPACE=default", "SCF_FUNCTIONVERSION=$LATEST")
	if o.dryRun {
		env = append(env, "PICBUCKET_DRY_RUN=true")
	}
	if why := organizationDemo(payload); why != "" && !o.env.has(config.Accounts) {
		if _, set := os.LookupEnv(config.Accounts); !set {
			env = append(env, config.Accounts+"="+config.AccountsOrg)
			fmt.Fprintf(stderr, "local: %s: this runner sets %s=%s for its demo organization (the event chooses nothing; give -env %s=… to choose)\n",
				why, config.Accounts, config.AccountsOrg, config.Accounts)
		}
	}
	if optedOut != "" && !o.env.has(config.SkipTag) {
		if _, set := os.LookupEnv(config.SkipTag); !set {
			env = append(env, config.SkipTag+"="+demoOptOutTag)
			fmt.Fprintf(stderr, "local: %s is tagged %s by its owner; this runner sets %s=%s, so the function leaves it alone (give -env %s= to turn it off)\n",
				optedOut, demoOptOutTag, config.SkipTag, demoOptOutTag, config.SkipTag)
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
		return 0, err
	}
	deliveries, undelivered := d.wait()
	// Stopping the instances waits for their output: every log line is
	// on stderr before the table.
	pool.Stop()
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
		return 0, fmt.Errorf("result is not JSON: %q", resp.Payload)
	}
	if len(deliveries) == 0 && undelivered == 0 {
		if firstErr != nil {
			return 0, firstErr
		}
		printTable(stderr, resp.Payload, nil)
		return 0, writeJSON(stdout, resp.Payload)
	}
	doc := output{Result: resp.Payload, Deliveries: deliveries, Undelivered: undelivered}
	if firstErr != nil {
		doc.Result, doc.Error = nil, resp.Error.Message
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return 0, err
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
	printTable(stderr, doc.Result, deliveries)
	return failed, writeJSON(stdout, b)
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

// passedVars are the variables of this command's environment that the
// function process gets besides the settings (functionEnv): what any
// process needs, and the Go runtime's own settings.
var passedVars = map[string]bool{
	"PATH": true, "HOME": true, "TMPDIR": true, "TZ": true, "LANG": true, "LC_ALL": true,
	"GODEBUG": true, "GOGC": true, "GOMEMLIMIT": true, "GOMAXPROCS": true, "GOTRACEBACK": true,
}

// functionEnv returns the environment the function process starts with:
// of environ (this command's own), only the function's settings (a
// config.Names variable, or any PICBUCKET_ one, so that the function can
// name a misspelt one) and passedVars; then the demo key. Everything else
// stays out, the operator's keys above all (TENCENTCLOUD_SECRETID,
// TENCENT_SECRET_ID, …, and any other credential a shell may hold): the
// function could sign with them, and it serves anyone who can reach its port
// an invocation that sets any variable.
func functionEnv(environ []string) []string {
	var env []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if credentialVar(k) {
			continue
		}
		if passedVars[k] || strings.HasPrefix(k, "PICBUCKET_") || slices.Contains(config.Names, k) {
			env = append(env, kv)
		}
	}
	for k, v := range demoEnvironment() {
		env = append(env, k+"="+v)
	}
	return env
}

// credentialVar reports whether an environment variable's name says it
// holds a credential: a Tencent Cloud key's (TENCENTCLOUD_SECRETID,
// TENCENTCLOUD_SECRETKEY, TENCENTCLOUD_SESSIONTOKEN, and the .env names
// TENCENT_SECRET_ID, TENCENT_SECRET_KEY, TENCENT_TOKEN) or any name with
// SECRET, TOKEN, PASSWORD, CREDENTIAL or ACCESS_KEY in it.
func credentialVar(name string) bool {
	n := strings.ToUpper(name)
	for _, w := range []string{"SECRET", "TOKEN", "PASSWORD", "PASSWD", "CREDENTIAL", "ACCESS_KEY", "ACCESSKEY", "PRIVATE_KEY"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
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

// organizationTimer is the TriggerName of the organization timer sample,
// events/timer-organization.json.
const organizationTimer = "reconcile-organization"

// organizationDemo says why this runner runs the event in organization
// mode (PICBUCKET_ACCOUNTS=org), or "" when it does not: a member event
// (its top-level object has the key "account"), a CLS trigger event (the
// key "clslogs") or the organization timer
// sample (a Timer event whose TriggerName is organizationTimer). Only the
// local runner reads this; the function takes its mode from its settings.
func organizationDemo(payload []byte) string {
	var top map[string]json.RawMessage
	if json.Unmarshal(payload, &top) != nil {
		return ""
	}
	if _, ok := top["account"]; ok {
		return "a member event"
	}
	var typ, name string
	if json.Unmarshal(top["Type"], &typ) == nil && json.Unmarshal(top["TriggerName"], &name) == nil &&
		typ == "Timer" && name == organizationTimer {
		return fmt.Sprintf("the organization timer (TriggerName %q)", organizationTimer)
	}
	if _, ok := top["clslogs"]; ok {
		return "a CLS trigger event (CloudAudit records of any account)"
	}
	return ""
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

// demoOptOutTag is the tag of the demo bucket whose owner opted out.
const demoOptOutTag = "picbucket=off"

// tagOptOut tags the last demo bucket that is not enabled with
// demoOptOutTag, as a bucket owner opting out would, and returns its name
// ("" when every demo bucket is enabled).
func tagOptOut(emu *emulator.Server, seeded []emulator.BucketState) string {
	for i := len(seeded) - 1; i >= 0; i-- {
		if !seeded[i].Enabled {
			emu.SetTags(seeded[i].Name, map[string]string{"picbucket": "off", "owner": "media-team"})
			return seeded[i].Name
		}
	}
	return ""
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

// Command local runs the function on this machine exactly as SCF would: it
// builds the binary, starts it with _LAMBDA_SERVER_PORT, and sends one event
// through net/rpc Function.Invoke, with the credentials in the request's
// Environment. By default the requests go to an embedded COS/CI emulator
// seeded with demo buckets (photos-00-1250000000 …) and with every bucket the
// samples in events/ name (emulator.SampleBuckets: photos-1250000000,
// docs-1250000000, …, none enabled), so no cloud account is needed and every
// sample runs as it would on an account holding those buckets.
//
// The result JSON goes to stdout; everything else (the function's log lines,
// which SCF would send to CLS, and this command's own lines) goes to stderr:
//
//	go run ./cmd/local events/timer.json
//	go run ./cmd/local events/timer.json | jq .summary
//	go run ./cmd/local -dry-run -buckets 20 events/manual-reconcile.json
//	go run ./cmd/local -env PICBUCKET_REGIONS=ap-guangzhou,ap-shanghai -env LOG_LEVEL=debug events/timer.json
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
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/scfrpc"
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

// run is the command: it returns 0 when the invocation succeeded, 1 when it
// failed, 2 on a usage error. Only the result JSON goes to stdout.
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
			"Runs the function once on EVENT.json as SCF would, against an embedded COS/CI emulator.\n"+
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
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	defer srv.Close()
	endpoint := "http://" + l.Addr().String()
	fmt.Fprintf(stderr, "emulator: %s with %d demo buckets (%d already enabled) and the %d buckets the samples in events/ name (not enabled)\n",
		endpoint, len(seeded), countEnabled(seeded), len(samples))

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
	// them; the credentials arrive with the invocation, as SCF sends them.
	// -env comes last, so it wins.
	env := append(os.Environ(), "PICBUCKET_ENDPOINT="+endpoint, "LOG_LEVEL="+o.logLevel, "TENCENTCLOUD_APPID="+demoAppID)
	if o.dryRun {
		env = append(env, "PICBUCKET_DRY_RUN=true")
	}
	env = append(env, o.env...)
	// The function logs to its stdout (SCF sends it to CLS): here that is
	// stderr, so that stdout carries the result alone.
	proc, err := scfrpc.Start(binary, env, stderr, stderr)
	if err != nil {
		return err
	}
	defer proc.Stop()
	fmt.Fprintf(stderr, "function: pid %d ready in %s; invoking with %s\n", proc.Pid(), proc.Ready.Sub(proc.Started).Round(time.Microsecond), o.event)

	resp, err := proc.Invoke(scfrpc.Invocation{
		Payload:   payload,
		RequestID: fmt.Sprintf("local-%d", time.Now().UnixNano()),
		Timeout:   o.timeout,
		Environment: map[string]string{
			"TENCENTCLOUD_SECRETID":     demoSecretID,
			"TENCENTCLOUD_SECRETKEY":    demoSecretKey,
			"TENCENTCLOUD_SESSIONTOKEN": demoToken,
		},
		AppID:    demoAppID,
		Region:   "ap-guangzhou",
		Function: "picbucket",
	})
	if err != nil {
		return err
	}
	stats := emu.Stats()
	fmt.Fprintf(stderr, "emulator saw %d requests: %v\n", stats.Total, stats.ByAction)
	if resp.Error != nil {
		return fmt.Errorf("invocation failed: %s", resp.Error.Message)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, resp.Payload, "", "  "); err != nil {
		return fmt.Errorf("result is not JSON: %w", err)
	}
	pretty.WriteByte('\n')
	_, err = stdout.Write(pretty.Bytes())
	return err
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

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory: run it from the repository")
		}
		dir = parent
	}
}

// Command local runs the function on this machine exactly as SCF would: it
// builds the binary, starts it with _LAMBDA_SERVER_PORT, and sends one event
// through net/rpc Function.Invoke, with the credentials in the request's
// Environment. By default the requests go to an embedded COS/CI emulator
// seeded with demo buckets, so no cloud account is needed.
//
//	go run ./cmd/local events/timer.json
//	go run ./cmd/local -dry-run -buckets 20 events/manual-reconcile.json
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/scfrpc"
)

// Demo credentials the embedded emulator accepts; they are valid nowhere else.
const (
	demoSecretID  = "AKIDLOCALDEMO"
	demoSecretKey = "local-demo-secret-key"
	demoToken     = "local-demo-session-token"
	demoAppID     = "1250000000"
)

func main() {
	var (
		buckets  = flag.Int("buckets", 6, "demo buckets in the embedded emulator")
		regions  = flag.String("regions", "ap-guangzhou,ap-shanghai", "regions of the demo buckets")
		enabled  = flag.Float64("enabled", 0.34, "share of demo buckets already enabled")
		dryRun   = flag.Bool("dry-run", false, "set PICBUCKET_DRY_RUN=true")
		timeout  = flag.Duration("timeout", 30*time.Second, "the invocation's time limit")
		logLevel = flag.String("log-level", "info", "LOG_LEVEL for the function")
		binary   = flag.String("binary", "", "a function binary already built (default: build it)")
		setting  = flag.String("env", "", "extra settings for the function, KEY=VALUE,KEY=VALUE")
	)
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./cmd/local [flags] EVENT.json\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(flag.Arg(0), *buckets, strings.Split(*regions, ","), *enabled, *dryRun, *timeout, *logLevel, *binary, *setting); err != nil {
		fmt.Fprintln(os.Stderr, "local:", err)
		os.Exit(1)
	}
}

func run(eventPath string, n int, regions []string, enabledShare float64, dryRun bool, timeout time.Duration, logLevel, binary, extra string) error {
	payload, err := os.ReadFile(eventPath)
	if err != nil {
		return err
	}

	emu := emulator.New(emulator.Options{})
	emu.AddCredential(emulator.Credential{SecretID: demoSecretID, SecretKey: demoSecretKey, Token: demoToken, AppID: demoAppID})
	seeded := emu.SeedDemo(demoAppID, n, regions, enabledShare)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: emu}
	go srv.Serve(l)
	defer srv.Close()
	endpoint := "http://" + l.Addr().String()
	fmt.Fprintf(os.Stderr, "emulator: %s with %d demo buckets (%d already enabled)\n", endpoint, len(seeded), countEnabled(seeded))

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
	env := append(os.Environ(), "PICBUCKET_ENDPOINT="+endpoint, "LOG_LEVEL="+logLevel, "TENCENTCLOUD_APPID="+demoAppID)
	if dryRun {
		env = append(env, "PICBUCKET_DRY_RUN=true")
	}
	for _, kv := range strings.Split(extra, ",") {
		if kv = strings.TrimSpace(kv); kv != "" {
			env = append(env, kv)
		}
	}
	proc, err := scfrpc.Start(binary, env, os.Stdout, os.Stderr)
	if err != nil {
		return err
	}
	defer proc.Stop()
	fmt.Fprintf(os.Stderr, "function: pid %d ready in %s; invoking with %s\n", proc.Pid(), proc.Ready.Sub(proc.Started).Round(time.Microsecond), eventPath)

	resp, err := proc.Invoke(scfrpc.Invocation{
		Payload:   payload,
		RequestID: fmt.Sprintf("local-%d", time.Now().UnixNano()),
		Timeout:   timeout,
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
	fmt.Fprintf(os.Stderr, "emulator saw %d requests: %v\n", stats.Total, stats.ByAction)
	if resp.Error != nil {
		return fmt.Errorf("invocation failed: %s", resp.Error.Message)
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, resp.Payload, "", "  "); err != nil {
		return fmt.Errorf("result is not JSON: %w", err)
	}
	fmt.Println(pretty.String())
	return nil
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

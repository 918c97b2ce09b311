// Command emulator serves the local COS/CI emulator (internal/emulator) with
// a demo account and demo buckets, for running the picbucket function
// against it by hand, and on the same address the API 3.0 emulator
// (internal/tcapi/tcemu) for go run ./cmd/wire; with -function it runs the
// function and delivers each created bucket to it (function.go).
//
//	go run ./cmd/emulator -buckets 10 -latency 50ms -error-rate 0.05
//
// Clients connect over plain HTTP to -addr while sending the production Host
// header (*.myqcloud.com). It serves until SIGINT or SIGTERM.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/usage"
)

type config struct {
	addr             string
	buckets          int
	regions          []string
	enabled          float64
	appID            string
	secretID         string
	secretKey        string
	token            string
	latency          time.Duration
	errorRate        float64
	qps              float64
	limiter          string
	alreadyEnabledOK bool
	quiet            bool
	function         string // function.go: the function binary to deliver created buckets to
	uin              int64  // the demo account's UIN
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stdout)
	if err != nil {
		os.Exit(command.Fail(os.Stderr, err))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "emulator:", err)
		os.Exit(1)
	}
}

// command is this command, for its -h.
var command = usage.Command{
	Name: "go run ./cmd/emulator",
	What: "emulator serves the COS/CI emulator with a demo account and demo buckets, to run the function against by hand.",
	More: `Clients connect over plain HTTP to -addr while sending the production Host header
(*.myqcloud.com): give the function PICBUCKET_ENDPOINT=http://ADDR. The same address serves
COS PutBucket and DeleteBucket, and the API 3.0 calls of go run ./cmd/wire (*.tencentcloudapi.com:
cam, cls, scf, eb, cloudaudit) for the demo account. It serves until SIGINT or SIGTERM.`,
}

// parseFlags reads the command line; -h writes the help to stdout and
// returns flag.ErrHelp.
func parseFlags(args []string, stdout io.Writer) (config, error) {
	var cfg config
	var regions string
	fs := flag.NewFlagSet("emulator", flag.ContinueOnError)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:9000", "listen address")
	fs.IntVar(&cfg.buckets, "buckets", 6, "number of demo buckets")
	fs.StringVar(&regions, "regions", "ap-guangzhou,ap-shanghai", "comma-separated regions the demo buckets are spread over")
	fs.Float64Var(&cfg.enabled, "enabled", 0.33, "fraction of demo buckets with picbucket already enabled (0..1)")
	fs.StringVar(&cfg.appID, "appid", "1250000000", "APPID of the demo account")
	fs.StringVar(&cfg.secretID, "secret-id", "AKIDLOCALDEMO", "demo SecretId")
	fs.StringVar(&cfg.secretKey, "secret-key", "local-demo-secret-key", "demo SecretKey")
	fs.StringVar(&cfg.token, "token", "local-demo-session-token", "demo session token (empty: a permanent key)")
	fs.DurationVar(&cfg.latency, "latency", 0, "delay added to every request")
	fs.Float64Var(&cfg.errorRate, "error-rate", 0, "share of requests answered with a random 500/503 (0..1)")
	fs.Float64Var(&cfg.qps, "qps", 0, "per-account request rate cap (0: unlimited)")
	fs.StringVar(&cfg.limiter, "limiter", emulator.LimiterToken, "how -qps is counted: token (a bucket of 100 ms worth) or window (accepted requests in the last second)")
	fs.BoolVar(&cfg.alreadyEnabledOK, "already-enabled-ok", false, "answer 200 instead of 403 MediaBucketAlreadyBinded when enabling an enabled bucket")
	fs.BoolVar(&cfg.quiet, "quiet", false, "do not log each request")
	fs.StringVar(&cfg.function, "function", "", "the function binary (go build -o main .) to run, delivering each created bucket (PutBucket) to it in the EventBridge form")
	fs.Int64Var(&cfg.uin, "uin", 100000000001, "UIN of the demo account")
	if err := command.Parse(fs, args, stdout); err != nil {
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, r := range strings.Split(regions, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		if err := bucket.ValidateRegion(r); err != nil {
			return config{}, fmt.Errorf("-regions: %w", err)
		}
		cfg.regions = append(cfg.regions, r)
	}
	switch {
	case len(cfg.regions) == 0:
		return config{}, errors.New("-regions: no region given")
	case cfg.buckets < 0:
		return config{}, errors.New("-buckets must not be negative")
	case cfg.enabled < 0 || cfg.enabled > 1:
		return config{}, errors.New("-enabled must be within [0, 1]")
	case cfg.errorRate < 0 || cfg.errorRate > 1:
		return config{}, errors.New("-error-rate must be within [0, 1]")
	case cfg.qps < 0:
		return config{}, errors.New("-qps must not be negative")
	case cfg.limiter != emulator.LimiterToken && cfg.limiter != emulator.LimiterWindow:
		return config{}, fmt.Errorf("-limiter %q: want %s or %s", cfg.limiter, emulator.LimiterToken, emulator.LimiterWindow)
	case cfg.latency < 0:
		return config{}, errors.New("-latency must not be negative")
	case cfg.secretID == "" || cfg.secretKey == "":
		return config{}, errors.New("-secret-id and -secret-key must not be empty")
	}
	if err := bucket.ValidateName("x-" + cfg.appID); err != nil {
		return config{}, fmt.Errorf("-appid %q is not numeric", cfg.appID)
	}
	return cfg, nil
}

func run(ctx context.Context, cfg config) error {
	opts := emulator.Options{
		Latency:          cfg.latency,
		ErrorRate:        cfg.errorRate,
		QPS:              cfg.qps,
		Limiter:          cfg.limiter,
		AlreadyEnabledOK: cfg.alreadyEnabledOK,
	}
	if !cfg.quiet {
		opts.OnRequest = logRequest
	}
	emu := emulator.New(opts)
	emu.AddCredential(emulator.Credential{
		SecretID:  cfg.secretID,
		SecretKey: cfg.secretKey,
		Token:     cfg.token,
		AppID:     cfg.appID,
	})
	buckets := emu.SeedDemo(cfg.appID, cfg.buckets, cfg.regions, cfg.enabled)

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	addr := ln.Addr().String()

	fmt.Fprintf(os.Stderr, "COS/CI emulator listening on http://%s (send the production Host header, *.myqcloud.com)\n", addr)
	fmt.Fprintf(os.Stderr, "account APPID %s; DEMO credentials (local use only):\n", cfg.appID)
	fmt.Fprintf(os.Stderr, "  TENCENTCLOUD_SECRETID=%s\n", cfg.secretID)
	fmt.Fprintf(os.Stderr, "  TENCENTCLOUD_SECRETKEY=%s\n", cfg.secretKey)
	if cfg.token != "" {
		fmt.Fprintf(os.Stderr, "  TENCENTCLOUD_SESSIONTOKEN=%s\n", cfg.token)
	}
	fmt.Fprintf(os.Stderr, "buckets (%d):\n", len(buckets))
	for _, b := range buckets {
		state := "disabled"
		if b.Enabled {
			state = "enabled"
		}
		fmt.Fprintf(os.Stderr, "  %-30s %-16s %s\n", b.Name, b.Region, state)
	}
	fmt.Fprintf(os.Stderr, "PICBUCKET_ENDPOINT=http://%s\n", addr)

	// API 3.0 (cam, cls, scf, eb, cloudaudit: internal/tcapi/tcemu) on the
	// same address, and with -function the bucket-creation path
	// (function.go).
	acct := newLocalAccount(cfg)
	admin := &emulator.BucketAdmin{Server: emu}
	if cfg.function != "" {
		if err := acct.startFunction(cfg.function, addr); err != nil {
			return err
		}
		defer acct.fn.Stop()
		admin.OnCreate = acct.deliver
	}
	handler := routeByHost(admin, acct.api)
	fmt.Fprintf(os.Stderr, "API 3.0 emulator on the same address (*.tencentcloudapi.com): account UIN %d, the Tencent Cloud service event bus in %s, the function's log topic %s\n",
		cfg.uin, functionRegion, acct.topicID)
	if cfg.function != "" {
		fmt.Fprintf(os.Stderr, "function %s running; each PutBucket is delivered to it in the EventBridge form\n", cfg.function)
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(os.Stderr, "shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// logRequest prints one line per request; it never sees secret keys.
func logRequest(r emulator.Request) {
	target := r.Path
	if r.RawQuery != "" {
		target += "?" + r.RawQuery
	}
	outcome := fmt.Sprint(r.Status)
	if r.Status == 0 {
		outcome = "dropped"
	}
	if r.Code != "" {
		outcome += " " + r.Code
	}
	fmt.Fprintf(os.Stderr, "%s %-26s %s %s%s ak=%s -> %s\n",
		r.Time.Format("15:04:05.000"), r.Action, r.Method, r.Host, target, r.SecretID, outcome)
}

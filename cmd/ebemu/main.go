// Command ebemu serves the EventBridge API emulator (internal/ebapi/ebemu)
// alone: an account with the Tencent Cloud service event bus in
// ap-guangzhou and a demo key, for running `go run ./cmd/wire eventbridge` against it by hand. It
// verifies every request's TC3-HMAC-SHA256 signature and keeps the rules and
// targets in memory until it stops (SIGINT or SIGTERM).
//
//	go run ./cmd/ebemu
//	go run ./cmd/ebemu -old-rule    # with the rule an earlier wire eventbridge made (no MiniProgramCall, target $DEFAULT)
//
// It prints its address and the demo credentials; then, in another shell:
//
//	export TENCENTCLOUD_SECRETID=AKIDEBEMUDEMO TENCENTCLOUD_SECRETKEY=ebemu-demo-secret-key TENCENTCLOUD_SESSIONTOKEN=ebemu-demo-session-token
//	go run ./cmd/wire eventbridge --endpoint http://127.0.0.1:9100 --uin 100012345678 --dry-run
//	go run ./cmd/wire eventbridge --endpoint http://127.0.0.1:9100 --uin 100012345678
//	go run ./cmd/wire eventbridge --endpoint http://127.0.0.1:9100 --uin 100012345678 --delete
//
// Clients connect over plain HTTP to -addr while signing for the production
// host (eb.tencentcloudapi.com), which is what wire eventbridge's --endpoint does.
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
	"syscall"
	"time"

	"github.com/picbucket/picbucket/internal/ebapi"
	"github.com/picbucket/picbucket/internal/ebapi/ebemu"
	"github.com/picbucket/picbucket/internal/usage"
)

// Demo values; the credentials are valid nowhere else.
const (
	demoSecretID  = "AKIDEBEMUDEMO"
	demoSecretKey = "ebemu-demo-secret-key"
	demoToken     = "ebemu-demo-session-token"
	demoUIN       = "100012345678"
	demoBusID     = "eb-svc00001"
	// oldPattern is the pattern wire eventbridge set before it matched MiniProgramCall.
	oldPattern = `{"source":["cos.cloud.tencent"],"type":["cos:CloudEvent:ApiCall","cos:CloudEvent:ConsoleCall"],"data":{"eventName":["PutBucket"]}}`
)

type config struct {
	addr, region, busID      string
	secretID, secretKey, tok string
	uin                      string
	oldRule, quiet           bool
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stdout)
	if err != nil {
		os.Exit(command.Fail(os.Stderr, err))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stderr, nil); err != nil {
		fmt.Fprintln(os.Stderr, "ebemu:", err)
		os.Exit(1)
	}
}

// command is this command, for its -h.
var command = usage.Command{
	Name: "go run ./cmd/ebemu",
	What: "ebemu serves the EventBridge API emulator with a service event bus and a demo key, to run wire eventbridge against by hand.",
	More: `It prints its address and the demo credentials; wire eventbridge reaches it with
--endpoint http://ADDR. It checks every request's TC3-HMAC-SHA256 signature and keeps
rules and targets in memory until SIGINT or SIGTERM.`,
}

// parseFlags reads the command line; -h writes the help to stdout and
// returns flag.ErrHelp.
func parseFlags(args []string, stdout io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("ebemu", flag.ContinueOnError)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:9100", "listen address")
	fs.StringVar(&cfg.region, "region", ebapi.ServiceBusRegion, "region of the service event bus")
	fs.StringVar(&cfg.busID, "bus-id", demoBusID, "id of the service event bus")
	fs.StringVar(&cfg.secretID, "secret-id", demoSecretID, "demo SecretId")
	fs.StringVar(&cfg.secretKey, "secret-key", demoSecretKey, "demo SecretKey")
	fs.StringVar(&cfg.tok, "token", demoToken, "demo session token (empty: a permanent key)")
	fs.StringVar(&cfg.uin, "uin", demoUIN, "account UIN of the -old-rule target")
	fs.BoolVar(&cfg.oldRule, "old-rule", false, "start with the rule and target an earlier wire eventbridge made (pattern without MiniProgramCall, target qualifier $DEFAULT)")
	fs.BoolVar(&cfg.quiet, "quiet", false, "do not log each request")
	if err := command.Parse(fs, args, stdout); err != nil {
		return config{}, err
	}
	switch {
	case fs.NArg() > 0:
		return config{}, fmt.Errorf("unexpected arguments %q", fs.Args())
	case !ebapi.ValidRegion(cfg.region):
		return config{}, fmt.Errorf("-region %q: want a region id such as ap-guangzhou", cfg.region)
	case cfg.secretID == "" || cfg.secretKey == "":
		return config{}, errors.New("-secret-id and -secret-key must not be empty")
	case cfg.busID == "":
		return config{}, errors.New("-bus-id must not be empty")
	}
	if _, err := ebapi.SCFResource(cfg.region, cfg.uin, ebapi.DefaultNamespace, ebapi.DefaultFunction, "$DEFAULT"); err != nil {
		return config{}, fmt.Errorf("-uin: %v", err)
	}
	return cfg, nil
}

// newEmulator returns the emulator cfg describes.
func newEmulator(cfg config) *ebemu.Server {
	emu := ebemu.New()
	emu.AddCredential(ebemu.Credential{SecretID: cfg.secretID, SecretKey: cfg.secretKey, Token: cfg.tok})
	emu.AddBus(ebemu.Bus{ID: cfg.busID, Name: "default", Type: ebapi.ServiceBusType, Region: cfg.region,
		Description: "Tencent Cloud service event bus (emulated)"})
	if cfg.oldRule {
		now := time.Now()
		emu.SetRule(ebemu.Rule{ID: "rule-old00001", Name: ebapi.DefaultRuleName, BusID: cfg.busID,
			Description: ebapi.DefaultDescription, Pattern: oldPattern, Enable: true, Added: now, Modified: now})
		res, _ := ebapi.SCFResource(cfg.region, cfg.uin, ebapi.DefaultNamespace, ebapi.DefaultFunction, "$DEFAULT")
		emu.AddTarget(ebemu.Target{ID: "target-old00001", RuleID: "rule-old00001", BusID: cfg.busID, Type: "scf", Resource: res})
	}
	return emu
}

// run serves until ctx ends. It prints the address and the credentials to
// out, then one line per request unless cfg.quiet; ready, when set, gets
// the address once the listener is up.
func run(ctx context.Context, cfg config, out io.Writer, ready func(addr string)) error {
	emu := newEmulator(cfg)
	if !cfg.quiet {
		emu.OnCall = func(c ebemu.Call) {
			outcome := "ok"
			if c.ErrorCode != "" {
				outcome = c.ErrorCode
			}
			fmt.Fprintf(out, "%s %-15s region %s -> %s\n", time.Now().Format("15:04:05.000"), c.Action, c.Region, outcome)
		}
	}
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	addr := ln.Addr().String()
	fmt.Fprintf(out, "EventBridge API emulator listening on http://%s (requests signed for %s, version %s)\n", addr, ebapi.DefaultHost, ebapi.Version)
	fmt.Fprintf(out, "service event bus %s in %s", cfg.busID, cfg.region)
	if cfg.oldRule {
		fmt.Fprintf(out, "; rule %s (rule-old00001) without MiniProgramCall, target qualifier $DEFAULT", ebapi.DefaultRuleName)
	}
	fmt.Fprintf(out, "\nDEMO credentials (local use only):\n  export TENCENTCLOUD_SECRETID=%s TENCENTCLOUD_SECRETKEY=%s", cfg.secretID, cfg.secretKey)
	if cfg.tok != "" {
		fmt.Fprintf(out, " TENCENTCLOUD_SESSIONTOKEN=%s", cfg.tok)
	}
	fmt.Fprintf(out, "\nthen:\n  go run ./cmd/wire eventbridge --endpoint http://%s --uin %s --dry-run\n", addr, cfg.uin)
	if cfg.region != ebapi.ServiceBusRegion {
		fmt.Fprintf(out, "  (add --region %s)\n", cfg.region)
	}

	srv := &http.Server{Handler: emu, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	if ready != nil {
		ready(addr)
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	fmt.Fprintln(out, "shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// Package cli runs one invocation of the function from a terminal: the same
// binary that SCF starts can be run on a laptop against the real account,
// with the user's own key in the environment.
//
// SCF's Go runtime always starts the binary with _LAMBDA_SERVER_PORT set
// (scf-go-lib listens on it); without it, scf-go-lib would listen on a random
// port and wait forever. So main.go runs the command line when the variable
// is unset:
//
//	if cli.Wanted(os.Getenv) {
//		os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, handler.New(os.Stderr)))
//	}
//
// The result JSON goes to stdout and the log lines to stderr, so the result
// can be piped (./main reconcile --dry-run | jq .summary).
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/picbucket/picbucket/internal/config"
)

// ServerPortVar is the variable SCF's Go runtime sets to the port the
// function must serve on.
const ServerPortVar = "_LAMBDA_SERVER_PORT"

// DefaultTimeout is the invocation's time limit when --timeout is not given:
// the function's timeout in serverless.yml.
const DefaultTimeout = 300 * time.Second

// Exit statuses.
const (
	ExitOK    = 0 // the invocation succeeded
	ExitError = 1 // the invocation returned an error
	ExitUsage = 2 // the command line was wrong
)

// Wanted reports whether the process was started outside SCF, by a person:
// SCF always sets _LAMBDA_SERVER_PORT.
func Wanted(getenv func(string) string) bool {
	return getenv(ServerPortVar) == ""
}

// Invoker is the function: handler.Handler satisfies it (it is scf-go-lib's
// cloudfunction.Handler).
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

const usageText = `usage:
  main -event FILE|-  [-timeout D]          invoke with the event in FILE (- reads stdin)
  main reconcile [-regions R,…] [-include G,…] [-exclude G,…] [-dry-run] [-timeout D]
                                            reconcile every bucket (or the regions given)
  main enable -region R [-dry-run] [-timeout D] BUCKET…
                                            enable the named buckets (name-APPID) of region R

Outside SCF (no %s), the binary runs one invocation and exits:
the result JSON on stdout, the log lines on stderr; exit status 1 when the
invocation fails, 2 on a usage error. Credentials and settings come from the
environment: TENCENTCLOUD_SECRETID, TENCENTCLOUD_SECRETKEY and, for a
temporary key, TENCENTCLOUD_SESSIONTOKEN; PICBUCKET_* as in README.md
(PICBUCKET_DRY_RUN=true makes any event a dry run).
`

// Run parses args, builds the event, invokes h once with a deadline of
// -timeout, prints the result JSON to stdout and returns the exit status.
// Log lines are whatever h writes (handler.New(os.Stderr) writes them to
// stderr). Ctrl-C cancels the invocation.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer, h Invoker) int {
	payload, timeout, err := parse(args, stdin)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprintf(stdout, usageText, ServerPortVar)
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "picbucket: %v\n\n"+usageText, err, ServerPortVar)
		return ExitUsage
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	deadline, _ := ctx.Deadline()
	ctx = functioncontext.NewContext(ctx, &functioncontext.FunctionContext{
		RequestID:     fmt.Sprintf("cli-%d", time.Now().UnixNano()),
		FunctionName:  "picbucket",
		TimeLimitInMs: int32(time.Until(deadline).Milliseconds()),
	})

	out, err := h.Invoke(ctx, payload)
	if err != nil {
		fmt.Fprintf(stderr, "picbucket: invocation failed: %v\n", err)
		if len(out) > 0 {
			fmt.Fprintf(stdout, "%s\n", out)
		}
		return ExitError
	}
	fmt.Fprintf(stdout, "%s\n", out)
	return ExitOK
}

// parse turns the command line into an event payload and a time limit.
func parse(args []string, stdin io.Reader) ([]byte, time.Duration, error) {
	if len(args) > 0 && (args[0] == "reconcile" || args[0] == "enable") {
		return parseCommand(args[0], args[1:])
	}
	if len(args) > 0 && args[0] == "help" {
		return nil, 0, flag.ErrHelp
	}
	fs := newFlags("main")
	event := fs.String("event", "", "event file, or - for stdin")
	timeout := fs.Duration("timeout", DefaultTimeout, "the invocation's time limit")
	dryRun := fs.Bool("dry-run", false, "")
	if err := fs.Parse(args); err != nil {
		return nil, 0, err
	}
	if fs.NArg() > 0 {
		return nil, 0, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if *event == "" {
		return nil, 0, errors.New("nothing to do: give -event FILE, reconcile, or enable")
	}
	if *dryRun {
		return nil, 0, errors.New("-dry-run does not apply to -event: set PICBUCKET_DRY_RUN=true, or use reconcile or enable")
	}
	if *timeout <= 0 {
		return nil, 0, fmt.Errorf("-timeout %s: want a positive duration", *timeout)
	}
	var payload []byte
	var err error
	if *event == "-" {
		payload, err = io.ReadAll(io.LimitReader(stdin, 16<<20))
	} else {
		payload, err = os.ReadFile(*event)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading the event: %w", err)
	}
	return payload, *timeout, nil
}

func parseCommand(name string, args []string) ([]byte, time.Duration, error) {
	fs := newFlags("main " + name)
	timeout := fs.Duration("timeout", DefaultTimeout, "the invocation's time limit")
	dryRun := fs.Bool("dry-run", false, "report would_enable and send no Create")
	var regions, include, exclude, region *string
	if name == "reconcile" {
		regions = fs.String("regions", "", "comma list of regions (default: all)")
		include = fs.String("include", "", "comma list of glob patterns a bucket name must match")
		exclude = fs.String("exclude", "", "comma list of glob patterns of buckets to leave alone")
	} else {
		region = fs.String("region", "", "region of the buckets, such as ap-guangzhou")
	}
	if err := fs.Parse(args); err != nil {
		return nil, 0, err
	}
	if *timeout <= 0 {
		return nil, 0, fmt.Errorf("-timeout %s: want a positive duration", *timeout)
	}
	ev := map[string]any{}
	if *dryRun {
		ev["dryRun"] = true
	}
	if name == "reconcile" {
		if fs.NArg() > 0 {
			return nil, 0, fmt.Errorf("reconcile takes no arguments, got %q", fs.Args())
		}
		rec := map[string]any{}
		for key, v := range map[string]*string{"regions": regions, "include": include, "exclude": exclude} {
			if l := config.List(*v); len(l) > 0 {
				rec[key] = l
			}
		}
		ev["reconcile"] = rec
	} else {
		if *region == "" || fs.NArg() == 0 {
			return nil, 0, errors.New("enable needs -region and at least one bucket")
		}
		var buckets []map[string]string
		for _, b := range fs.Args() {
			buckets = append(buckets, map[string]string{"bucket": b, "region": *region})
		}
		ev["buckets"] = buckets
	}
	payload, err := json.Marshal(ev)
	return payload, *timeout, err
}

// newFlags returns a flag set that reports errors to Run, not to the process.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

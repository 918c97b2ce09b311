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
	"strings"
	"time"

	"github.com/tencentyun/scf-go-lib/functioncontext"

	"github.com/picbucket/picbucket/handler"
	"github.com/picbucket/picbucket/internal/config"
	"github.com/picbucket/picbucket/internal/spell"
	"github.com/picbucket/picbucket/internal/usage"
	"github.com/picbucket/picbucket/signer"
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

// command is the binary's command line, for its -h.
var command = usage.Command{
	Name: "main",
	What: "main is the picbucket function: on SCF it serves invocations; run from a terminal, it runs one and exits.",
	Synopsis: `  main -event FILE|-  [-timeout D]          invoke with the event in FILE (- reads stdin)
  main reconcile [-regions R,…] [-include G,…] [-exclude G,…] [-dry-run] [-timeout D]
                                            reconcile every bucket (or the regions given)
  main enable -region R [-dry-run] [-timeout D] BUCKET…
                                            enable the named buckets (name-APPID) of region R`,
	More: `Flags may come before or after the bucket names.

Outside SCF (no ` + ServerPortVar + `), the binary runs one invocation and exits:
the result JSON on stdout, the log lines on stderr; exit status 1 when the
invocation fails, 2 on a usage error. Credentials and settings come from the
environment: TENCENTCLOUD_SECRETID, TENCENTCLOUD_SECRETKEY and, for a
temporary key, TENCENTCLOUD_SESSIONTOKEN; TENCENTCLOUD_APPID (your account's
APPID); PICBUCKET_* as in README.md (PICBUCKET_DRY_RUN=true makes any event a
dry run).`,
}

// helpFlags are the flags of every form of the command line, for -h.
func helpFlags() []*flag.FlagSet {
	reconcile, _ := commandFlags("reconcile")
	enable, _ := commandFlags("enable")
	event, _ := eventFlags()
	return []*flag.FlagSet{reconcile, enable, event}
}

// Run parses args, builds the event, invokes h once with a deadline of
// -timeout, prints the result JSON to stdout and returns the exit status.
// Log lines are whatever h writes (handler.New(os.Stderr) writes them to
// stderr). Ctrl-C cancels the invocation.
//
// A usage error prints one line saying what is wrong and one pointing to
// -h. When h is a *handler.Handler, Run first checks that its environment
// holds a key, and says which variables to export if not; the function's own
// advice (give it an execution role) is for SCF, not for a terminal.
func Run(args []string, stdin io.Reader, stdout, stderr io.Writer, h Invoker) int {
	payload, timeout, err := parse(args, stdin)
	if errors.Is(err, flag.ErrHelp) {
		command.Help(stdout, helpFlags()...)
		return ExitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "picbucket: %v\nrun 'main -h' for usage\n", err)
		return ExitUsage
	}
	if getenv := envOf(h); getenv != nil {
		if _, err := (signer.Env{Getenv: getenv}).Credentials(); err != nil {
			fmt.Fprint(stderr, noCredentials(err))
			return ExitError
		}
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
		if errors.Is(err, signer.ErrNoCredentials) {
			fmt.Fprint(stderr, noCredentials(err))
		} else {
			fmt.Fprintf(stderr, "picbucket: invocation failed: %v\n", err)
		}
		if len(out) > 0 {
			fmt.Fprintf(stdout, "%s\n", out)
		}
		return ExitError
	}
	fmt.Fprintf(stdout, "%s\n", out)
	return ExitOK
}

// envOf returns the environment h reads its credentials from, or nil when h
// is not the function's handler.
func envOf(h Invoker) func(string) string {
	hh, ok := h.(*handler.Handler)
	if !ok {
		return nil
	}
	if hh.Getenv != nil {
		return hh.Getenv
	}
	return os.Getenv
}

// noCredentials turns signer's no-credentials error, whose advice is for a
// function on SCF, into advice for a terminal: the variables to export.
func noCredentials(err error) string {
	// signer says what is missing, then "; give the function an execution
	// role …": keep the first part only.
	cause, _, _ := strings.Cut(err.Error(), ";")
	cause = strings.TrimPrefix(cause, "picbucket: ")
	var b strings.Builder
	fmt.Fprintf(&b, "picbucket: %s\nOutside SCF the binary signs with your own key; export it and run again:\n", cause)
	for _, l := range [][2]string{
		{signer.EnvSecretID + "=<SecretId>", ""},
		{signer.EnvSecretKey + "=<SecretKey>", ""},
		{signer.EnvSessionToken + "=<token>", "# only for a temporary key"},
		{"TENCENTCLOUD_APPID=<APPID>", "# your account's APPID (the -APPID of bucket names)"},
	} {
		fmt.Fprintf(&b, "  %s\n", strings.TrimSpace(fmt.Sprintf("export %-34s %s", l[0], l[1])))
	}
	return b.String()
}

// parse turns the command line into an event payload and a time limit.
func parse(args []string, stdin io.Reader) ([]byte, time.Duration, error) {
	if len(args) > 0 && (args[0] == "reconcile" || args[0] == "enable") {
		return parseCommand(args[0], args[1:])
	}
	if len(args) > 0 && args[0] == "help" {
		return nil, 0, flag.ErrHelp
	}
	fs, f := eventFlags()
	event, timeout, dryRun := f.event, f.timeout, f.dryRun
	rest, err := parseFlags(fs, args)
	if err != nil {
		return nil, 0, err
	}
	if len(rest) > 0 {
		return nil, 0, fmt.Errorf("unexpected argument %q", rest[0])
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

// eventForm holds the flags of main -event.
type eventForm struct {
	event   *string
	timeout *time.Duration
	dryRun  *bool // refused: the event says whether it is a dry run
}

// eventFlags declares the flags of main -event.
func eventFlags() (*flag.FlagSet, eventForm) {
	fs := newFlags("main")
	return fs, eventForm{
		event:   fs.String("event", "", "event file, or - for stdin"),
		timeout: fs.Duration("timeout", DefaultTimeout, "the invocation's time limit"),
		dryRun:  fs.Bool("dry-run", false, ""),
	}
}

// commandForm holds the flags of main reconcile and main enable; those of
// the other command are nil.
type commandForm struct {
	timeout                           *time.Duration
	dryRun                            *bool
	regions, include, exclude, region *string
}

// commandFlags declares the flags of main NAME, NAME being reconcile or
// enable.
func commandFlags(name string) (*flag.FlagSet, commandForm) {
	fs := newFlags("main " + name)
	f := commandForm{
		timeout: fs.Duration("timeout", DefaultTimeout, "the invocation's time limit"),
		dryRun:  fs.Bool("dry-run", false, "reconcile, enable: report would_enable and send no Create"),
	}
	if name == "reconcile" {
		f.regions = fs.String("regions", "", "reconcile: comma list of regions (default: all)")
		f.include = fs.String("include", "", "reconcile: comma list of glob patterns a bucket name must match")
		f.exclude = fs.String("exclude", "", "reconcile: comma list of glob patterns of buckets to leave alone")
	} else {
		f.region = fs.String("region", "", "enable: region of the buckets, such as ap-guangzhou")
	}
	return fs, f
}

func parseCommand(name string, args []string) ([]byte, time.Duration, error) {
	fs, f := commandFlags(name)
	timeout, dryRun := f.timeout, f.dryRun
	regions, include, exclude, region := f.regions, f.include, f.exclude, f.region
	rest, err := parseFlags(fs, args)
	if err != nil {
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
		if len(rest) > 0 {
			return nil, 0, fmt.Errorf("reconcile takes no arguments, got %q", rest)
		}
		rec := map[string]any{}
		for key, v := range map[string]*string{"regions": regions, "include": include, "exclude": exclude} {
			if l := config.List(*v); len(l) > 0 {
				rec[key] = l
			}
		}
		ev["reconcile"] = rec
	} else {
		if *region == "" || len(rest) == 0 {
			return nil, 0, errors.New("enable needs -region and at least one bucket")
		}
		var buckets []map[string]string
		for _, b := range rest {
			buckets = append(buckets, map[string]string{"bucket": b, "region": *region})
		}
		ev["buckets"] = buckets
	}
	payload, err := json.Marshal(ev)
	return payload, *timeout, err
}

// parseFlags parses args with flags and positional arguments interleaved
// (enable b1 -region R b2 -dry-run), and returns the positional ones in
// order. After "--" everything is positional. An unknown flag close to a
// known one names it.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, suggest(fs, err)
		}
		left := fs.Args()
		if len(left) == 0 {
			return rest, nil
		}
		if consumed := len(args) - len(left); consumed > 0 && args[consumed-1] == "--" {
			return append(rest, left...), nil
		}
		rest = append(rest, left[0])
		args = left[1:]
	}
}

// allFlags are the flags of every form of the command line, to point a user
// who gave one to the wrong form at the right one.
var allFlags = map[string]string{
	"event": "main -event FILE", "regions": "main reconcile", "include": "main reconcile",
	"exclude": "main reconcile", "region": "main enable",
}

// suggest rewrites the flag package's "flag provided but not defined: -x"
// as "unknown flag -x; did you mean -y?" when fs has a flag y close to x.
func suggest(fs *flag.FlagSet, err error) error {
	const undefined = "flag provided but not defined: -"
	name, ok := strings.CutPrefix(err.Error(), undefined)
	if !ok {
		return err
	}
	best, bestDist := "", 0
	fs.VisitAll(func(f *flag.Flag) {
		if d := spell.Distance(strings.ToLower(name), f.Name); best == "" || d < bestDist {
			best, bestDist = f.Name, d
		}
	})
	if best != "" && bestDist <= max(1, len(name)/3) {
		return fmt.Errorf("unknown flag -%s; did you mean -%s?", name, best)
	}
	if form, ok := allFlags[name]; ok {
		return fmt.Errorf("unknown flag -%s here; it is a flag of %s", name, form)
	}
	return fmt.Errorf("unknown flag -%s", name)
}

// newFlags returns a flag set that reports errors to Run, not to the process.
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

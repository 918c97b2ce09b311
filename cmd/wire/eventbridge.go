// eventbridge.go is `wire eventbridge` (formerly cmd/ebwire): on the Tencent
// Cloud service event bus (where CloudAudit delivers write operations, in
// ap-guangzhou) it creates or updates one event rule matching COS PutBucket
// records (API, console and mini-program calls) and gives it one SCF target,
// the picbucket function ($LATEST unless --qualifier says otherwise). It
// changes only what differs, so running it again is safe; --delete removes
// the target, then the rule. `wire apply` runs it with serverless.yml's
// function, region and the account's UIN.
//
// --dry-run sends no write. With credentials it reads the account (the
// ListEventBuses, ListRules, GetRule and ListTargets calls of a real run) and
// prints the writes a run would send; without credentials it prints the plan
// for an account that has no rule yet. --endpoint sends every request to
// that address over plain HTTP (the emulator, cmd/emulator), with the
// production Host header and signature.

package main

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"github.com/picbucket/picbucket/internal/tcapi"
	"io"
	"strings"
	"time"

	"github.com/picbucket/picbucket/internal/rules"
	"github.com/picbucket/picbucket/internal/usage"
	"github.com/picbucket/picbucket/signer"
)

// command is this command, for its -h.
var ebCommand = usage.Command{
	Name: "go run ./cmd/wire eventbridge",
	What: "wire eventbridge creates or updates the EventBridge rule and SCF target that route COS PutBucket records (CloudAudit) to the function.",
	More: `Running it again changes only what differs; --delete removes the target, then the rule.
Credentials: TENCENTCLOUD_SECRETID, TENCENTCLOUD_SECRETKEY, TENCENTCLOUD_SESSIONTOKEN
(or TENCENT_SECRET_ID, TENCENT_SECRET_KEY, TENCENT_TOKEN). Exit status: 0 done, 1 failed,
2 on a usage error.`,
}

// run is the command; it returns the exit status: 0 done, 1 failed, 2 usage.
func runEventBridge(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("eventbridge", flag.ContinueOnError)
	var (
		region      = fs.String("region", tcapi.ServiceBusRegion, "region of the event bus (CloudAudit delivers to the service bus in ap-guangzhou)")
		busID       = fs.String("bus-id", "", "event bus id; default: look up the Tencent Cloud service event bus (ListEventBuses, Type Cloud)")
		function    = fs.String("function", tcapi.DefaultFunction, "SCF function name (serverless.yml inputs.name)")
		namespace   = fs.String("namespace", tcapi.DefaultNamespace, "SCF namespace")
		fnRegion    = fs.String("function-region", "", "region of the function (default: --region)")
		qualifier   = fs.String("qualifier", tcapi.DefaultTargetQualifier, "function version or alias the target invokes")
		uin         = fs.String("uin", "", "the account's UIN (account ID) for the target resource; default $TENCENTCLOUD_UIN")
		ruleName    = fs.String("rule-name", tcapi.DefaultRuleName, "event rule name: how a later run finds the rule")
		description = fs.String("description", tcapi.DefaultRuleDescription, "event rule description")
		pattern     = fs.String("pattern", tcapi.DefaultPattern, "event pattern (JSON)")
		apiHost     = fs.String("api-host", tcapi.EventBridgeHost, "API host (international site: eb.intl.tencentcloudapi.com)")
		endpoint    = fs.String("endpoint", "", "test setting: send every request to http://HOST:PORT (Host header and signature unchanged)")
		dryRun      = fs.Bool("dry-run", false, "send no write: with credentials, read the account and print the writes a run would send; without, print the plan for an account with no rule")
		del         = fs.Bool("delete", false, "remove the target, then the rule")
		timeout     = fs.Duration("timeout", time.Minute, "time limit for the whole run")
	)
	if err := ebCommand.Parse(fs, args, stdout); err != nil {
		return ebCommand.Fail(stderr, err)
	}
	// bad reports a wrong command line: exit status 2.
	bad := func(format string, a ...any) int {
		return ebCommand.Fail(stderr, fmt.Errorf(format, a...))
	}
	if fs.NArg() > 0 {
		return bad("unexpected arguments %q", fs.Args())
	}
	if !tcapi.ValidRegion(*region) {
		return bad("--region %q: want a region id such as ap-guangzhou", *region)
	}
	if *fnRegion == "" {
		*fnRegion = *region
	}
	if *uin == "" {
		*uin = strings.TrimSpace(getenv("TENCENTCLOUD_UIN"))
	}
	if *uin == "" {
		return bad("no UIN: pass --uin (your account ID, shown in the console's Account Center) or set TENCENTCLOUD_UIN")
	}
	resource, err := tcapi.SCFResource(*fnRegion, *uin, *namespace, *function, *qualifier)
	if err != nil {
		return bad("%v", err)
	}
	if err := tcapi.CheckPattern(*pattern); err != nil {
		return bad("--pattern: %v", err)
	}
	root, ok := tcapi.EventBridgeRoot(*apiHost)
	if !ok {
		return bad("--api-host %q: want eb.tencentcloudapi.com, eb.intl.tencentcloudapi.com or eb.<region>.tencentcloudapi.com", *apiHost)
	}
	opts := tcapi.Options{Region: *region, RootDomain: root, Timeout: *timeout}
	if *endpoint != "" {
		u, err := rules.ParseEndpoint(*endpoint)
		if err == nil {
			err = rules.Endpoint(u)
		}
		if err != nil {
			return bad("--endpoint %q: %v", *endpoint, err)
		}
		opts.Endpoint = u
	}
	var key signer.Credentials
	explicitQualifier := false
	fs.Visit(func(f *flag.Flag) { explicitQualifier = explicitQualifier || f.Name == "qualifier" })
	w := tcapi.RuleWiring{BusID: *busID, RuleName: *ruleName, Description: *description, Pattern: *pattern, Resource: resource,
		ExplicitQualifier: explicitQualifier}
	creds, credErr := tcapi.CredentialsFromEnv(getenv)
	switch {
	case *dryRun && credErr == nil:
		fmt.Fprintf(stdout, "dry run: reading the account (List and Get calls only); the writes a run would send are printed, not sent\n")
		key = creds
		opts.ReadOnly = stdout
	case *dryRun && strings.TrimSpace(getenv("TENCENTCLOUD_SECRETID")+getenv("TENCENT_SECRET_ID")) == "":
		plan := "the empty-account plan (the service event bus exists, no rule yet)"
		if *del {
			plan = "the plan for an account where the rule and its target exist"
		}
		fmt.Fprintf(stdout, "dry run without credentials: showing %s; nothing is sent; ids the API would return are shown as ${…}\n"+
			"to compare with your account instead, %s\n", plan, strings.TrimPrefix(credErr.Error(), tcapi.ErrNoCredentials.Error()+": "))
		key = tcapi.DryRunCredentials
		opts.Transport = tcapi.DryRunTransport(stdout, w, *del)
		opts.Endpoint = nil
	case credErr != nil:
		fmt.Fprintln(stderr, "wire eventbridge:", credErr)
		return 1
	default:
		key = creds
	}
	client, err := tcapi.New(key, opts)
	if err != nil {
		return bad("%v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var rep tcapi.RuleReport
	if *del {
		rep, err = client.RemoveRule(ctx, w)
	} else {
		rep, err = client.ApplyRule(ctx, w)
	}
	printEBReport(stdout, *region, w, rep, *del, *dryRun)
	if err != nil {
		fmt.Fprintln(stderr, "wire eventbridge:", err)
		return 1
	}
	return 0
}

func printEBReport(out io.Writer, region string, w tcapi.RuleWiring, rep tcapi.RuleReport, del, dryRun bool) {
	if rep.BusID == "" {
		return
	}
	if dryRun {
		for _, o := range []*string{&rep.Rule, &rep.Target} {
			if *o == tcapi.Created || *o == tcapi.Updated || *o == tcapi.Deleted {
				*o = "would be " + *o
			}
		}
		fmt.Fprintf(out, "dry run: the run would end with\n")
	}
	name := ""
	if rep.BusName != "" {
		name = " (" + rep.BusName + ")"
	}
	fmt.Fprintf(out, "event bus  %s%s in %s\n", rep.BusID, name, region)
	fmt.Fprintf(out, "rule       %s %s: %s\n", w.RuleName, orDash(rep.RuleID), rep.Rule)
	fmt.Fprintf(out, "target     scf %s %s: %s\n", cmp.Or(rep.TargetResource, w.Resource), orDash(rep.TargetID), rep.Target)
	for _, n := range rep.Notes {
		fmt.Fprintf(out, "note       %s\n", n)
	}
	switch {
	case dryRun && len(rep.Writes) > 0:
		fmt.Fprintf(out, "writes     %s (dry run: not sent)\n", strings.Join(rep.Writes, ", "))
	case del && rep.Rule == tcapi.Absent:
		fmt.Fprintf(out, "nothing to delete\n")
	case dryRun:
		fmt.Fprintf(out, "up to date: nothing would change\n")
	case len(rep.Writes) > 0:
		fmt.Fprintf(out, "writes     %s\n", strings.Join(rep.Writes, ", "))
	case del && rep.Rule == tcapi.Absent:
		fmt.Fprintf(out, "nothing to delete\n")
	case !del:
		fmt.Fprintf(out, "up to date: nothing changed\n")
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return "(" + s + ")"
}

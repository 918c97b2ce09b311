// trail.go is `wire trail` (formerly cmd/auditwire), which `wire apply --org`
// runs: it routes the COS bucket creations of every member account of the
// organization to the function within minutes. It makes sure that a CLS
// logset and topic exist in the function's region, that a CloudAudit
// tracking set delivers the organization's COS write events (PutBucket at
// least) for all members (TrackForAllMembers) to that topic, and that the
// topic triggers the function. It reads first, then sends only the writes
// that are missing, so a second run changes nothing (cls 2020-10-16,
// cloudaudit 2019-03-19, scf 2018-04-16). docs/organization-trail.md explains
// the route and the permissions. --dry-run reads the account and prints the
// writes a run would send; it sends no write.

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/picbucket/picbucket/internal/rules"
	"github.com/picbucket/picbucket/internal/tcapi"
	"github.com/picbucket/picbucket/internal/usage"
	"io"
	"strings"
	"time"
)

// trailCommand is `wire trail`'s help.
var trailCommand = usage.Command{
	Name: "go run ./cmd/wire trail",
	What: "wire trail routes every organization member's new COS buckets to the picbucket function within minutes (CloudAudit trail for all members -> CLS topic -> CLS trigger).",
	More: "Run it with a key of the organization's management account; credentials: TENCENTCLOUD_SECRETID, TENCENTCLOUD_SECRETKEY,\n" +
		"TENCENTCLOUD_SESSIONTOKEN (or TENCENT_SECRET_ID, TENCENT_SECRET_KEY, TENCENT_TOKEN). See docs/organization-trail.md.",
}

// run is the command; it returns the exit status: 0 done, 1 failed, 2 usage.
func runTrail(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("trail", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		region    = fs.String("region", "ap-guangzhou", "the function's region: the CLS topic and the trigger are made there (serverless.yml inputs.region)")
		function  = fs.String("function", tcapi.DefaultFunction, "SCF function name (serverless.yml inputs.name)")
		namespace = fs.String("namespace", tcapi.DefaultNamespace, "SCF namespace")
		qualifier = fs.String("qualifier", tcapi.DefaultTriggerQualifier, "function version or alias the CLS trigger invokes")
		uin       = fs.String("uin", "", "the account's UIN, shown in the report (optional; default $TENCENTCLOUD_UIN)")
		logset    = fs.String("logset", tcapi.DefaultLogset, "CLS logset name: how a later run finds it")
		topic     = fs.String("topic", tcapi.DefaultTopic, "CLS topic name, in the logset")
		track     = fs.String("track-name", tcapi.DefaultTrack, "CloudAudit tracking set name (3-48 letters, digits, - and _)")
		maxWait   = fs.Uint64("max-wait", tcapi.DefaultMaxWait, "seconds the CLS trigger waits to fill a batch (3-300)")
		maxMsgs   = fs.Uint64("max-messages", tcapi.DefaultMaxMsgNum, "records per CLS trigger batch at most (1-10000)")
		intl      = fs.Bool("intl", false, "use the international site's endpoints (*.intl.tencentcloudapi.com)")
		endpoint  = fs.String("endpoint", "", "test setting: send every request to http://HOST:PORT (loopback or private address; Host header and signature unchanged)")
		dryRun    = fs.Bool("dry-run", false, "read the account and print the writes a run would send; send no write")
		timeout   = fs.Duration("timeout", time.Minute, "time limit for the whole run")
	)
	if err := trailCommand.Parse(fs, args, stdout); err != nil {
		return trailCommand.Fail(stderr, err)
	}
	usage := func(format string, a ...any) int {
		return trailCommand.Fail(stderr, fmt.Errorf(format, a...))
	}
	if fs.NArg() > 0 {
		return usage("unexpected arguments %q", fs.Args())
	}
	if !tcapi.RegionRE.MatchString(*region) {
		return usage("--region %q: want a region id such as ap-guangzhou", *region)
	}
	w := tcapi.TrailWiring{Function: *function, Namespace: *namespace, Qualifier: *qualifier, LogsetName: *logset, TopicName: *topic,
		TrackName: *track, MaxWait: *maxWait, MaxMsgNum: *maxMsgs}
	if err := w.Validate(); err != nil {
		return usage("%v", strings.TrimPrefix(err.Error(), tcapi.ErrInvalid.Error()+": "))
	}
	opts := tcapi.Options{Region: *region, Timeout: *timeout}
	if *intl {
		opts.RootDomain = "intl.tencentcloudapi.com"
	}
	if *endpoint != "" {
		u, err := rules.ParseEndpoint(*endpoint)
		if err != nil {
			return usage("--endpoint %q: %v", *endpoint, err)
		}
		opts.Endpoint = u
	}
	creds, err := tcapi.CredentialsFromEnv(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "wire trail:", err)
		return 1
	}
	client, err := tcapi.New(creds, opts)
	if err != nil {
		return usage("%v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	if *dryRun {
		fmt.Fprintf(stdout, "dry run: reading the account (Describe and List calls only); the writes a run would send are printed, not sent\n")
	}
	st, err := client.ReadTrail(ctx, w)
	if err != nil {
		fmt.Fprintln(stderr, "wire trail:", err)
		return 1
	}
	plan := tcapi.DiffTrail(w, st)
	account := strings.TrimSpace(*uin)
	if account == "" {
		account = strings.TrimSpace(getenv("TENCENTCLOUD_UIN"))
	}
	if *dryRun {
		for i, s := range plan.Steps {
			body, _ := json.Marshal(s.Params)
			fmt.Fprintf(stdout, "would send %d: %s (service %s, version %s, region %s)\n%s\n", i+1, s.Action, s.Service, s.Version, *region, body)
		}
		printTrailReport(stdout, *region, account, w, tcapi.Report{Plan: plan}, true)
		return 0
	}
	// Each round reads, diffs and writes; after a transient failure the next
	// round's read finds a write that took effect, so none is made twice.
	var rep tcapi.Report
	var made []string
	err = tcapi.Converge(3, func(err error) {
		fmt.Fprintf(stdout, "note       %s; reading again before sending anything again\n", firstLine(err))
	}, func() error {
		if len(made) > 0 || rep.Writes != nil {
			st, err := client.ReadTrail(ctx, w)
			if err != nil {
				return err
			}
			plan = tcapi.DiffTrail(w, st)
		}
		var err error
		rep, err = client.Execute(ctx, plan)
		made = append(made, rep.Writes...)
		if rep.Writes == nil {
			rep.Writes = []string{} // the next round reads again
		}
		return err
	})
	rep.Writes = made
	printTrailReport(stdout, *region, account, w, rep, false)
	if err != nil {
		fmt.Fprintln(stderr, "wire trail:", err)
		if len(rep.Writes) > 0 {
			fmt.Fprintln(stderr, "wire trail: what was made stays; fix the cause and run again: the next run finds it and sends only what is missing")
		}
		return 1
	}
	return 0
}

func printTrailReport(out io.Writer, region, account string, w tcapi.TrailWiring, rep tcapi.Report, dryRun bool) {
	outcome := func(o string) string {
		switch {
		case o == tcapi.Exists:
			return "in place"
		case dryRun:
			return "would " + o
		case o == tcapi.Create || o == tcapi.Update:
			return "not done (" + o + ")"
		}
		return o
	}
	if dryRun {
		fmt.Fprintf(out, "dry run: the run would end with\n")
	}
	acct := ""
	if account != "" {
		acct = " of account " + account
	}
	fmt.Fprintf(out, "function   scf %s/%s %s in %s%s\n", w.Namespace, w.Function, w.Qualifier, region, acct)
	id := func(s string) string { // a placeholder (${LogsetId}) is not an id
		if strings.HasPrefix(s, "${") {
			if dryRun {
				return "new"
			}
			return "-"
		}
		return dashIfEmpty(s)
	}
	fmt.Fprintf(out, "logset     %s (%s): %s\n", w.LogsetName, id(rep.LogsetID), outcome(rep.Logset))
	fmt.Fprintf(out, "topic      %s (%s): %s\n", w.TopicName, id(rep.TopicID), outcome(rep.Topic))
	// The id, once CloudAudit gave one; a plan names none (a placeholder
	// such as ${TrackId} is not an id, and was once printed after a run).
	track := "-"
	if rep.TrackID != 0 {
		track = fmt.Sprint(rep.TrackID)
	} else if dryRun && rep.Track == tcapi.Create {
		track = "new"
	}
	fmt.Fprintf(out, "track      %s (%s): COS Write %s of all members -> the topic: %s\n", w.TrackName, track, tcapi.EventName, outcome(rep.Track))
	fmt.Fprintf(out, "trigger    cls topic -> %s (max wait %d s, %d records): %s\n", w.Function, w.MaxWait, w.MaxMsgNum, outcome(rep.Trigger))
	for _, n := range rep.Notes {
		fmt.Fprintf(out, "note       %s\n", n)
	}
	var planned []string
	for _, s := range rep.Steps {
		planned = append(planned, s.Action)
	}
	switch {
	case len(planned) == 0:
		fmt.Fprintf(out, "nothing to do: the wiring is in place\n")
	case dryRun:
		fmt.Fprintf(out, "writes     %s (dry run: not sent)\n", strings.Join(planned, ", "))
	default:
		fmt.Fprintf(out, "writes     %s\n", strings.Join(rep.Writes, ", "))
		if len(rep.Writes) >= len(planned) {
			fmt.Fprintf(out, "done: CloudAudit starts delivering within about 5-10 minutes; the trigger batches up to %d s more\n", w.MaxWait)
		}
	}
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

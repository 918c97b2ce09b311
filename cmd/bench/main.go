// Command bench measures a reconciliation against the COS/CI emulator the
// way production runs it: the function binary (built with the release
// flags) is started as SCF starts it and sent a timer event through net/rpc.
// In the same run it measures the baseline a user would script (per bucket,
// one Describe, then a Create if missing, one bucket at a time) and prints
// both, with the minimum number of requests, the lower bound on wall time
// and the ratios.
//
// With -caps it instead runs the function once per limit per limiter kind
// (-limiter) and prints a table: how close to each limit's pace the run
// came, and how many of its requests were throttled.
//
//	go run ./cmd/bench                                # small, for CI
//	go run ./cmd/bench -n 5000 -regions 10 -latency 30ms
//	go run ./cmd/bench -n 1000 -qps 50                 # throttled (token bucket)
//	go run ./cmd/bench -n 1000 -qps 50 -limiter window # throttled (sliding window)
//	go run ./cmd/bench -n 1000 -caps 5,20,100 -limiter token,window
//	go run ./cmd/bench -n 1000 -services pic,media,doc  # every pair of bucket and CI service
//
// With -members N it measures an organization-wide run instead (see
// org.go): the management account and N members with -member-buckets
// buckets each, against the COS/CI and the API 3.0 emulators, with fan-out
// (-fanout=true, the benchmark delivering each member invocation to an
// instance of its own) or without:
//
//	go run ./cmd/bench -members 20 -member-buckets 200 -regions 10 -enabled 0.4 -latency 200ms -concurrency 16
//	go run ./cmd/bench -members 20 -member-buckets 200 -regions 10 -enabled 0.4 -latency 200ms -concurrency 16 -fanout=false
//	go run ./cmd/bench -members 1000 -member-buckets 0 -latency 200ms   # the timer's fan-out alone: wall time, peak RSS
//
// Sizes are printed in MiB (2^20 bytes).
package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/picbucket/picbucket/handler"
	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/ciservice"
	"github.com/picbucket/picbucket/internal/config"
	"github.com/picbucket/picbucket/internal/cosapi"
	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/retry"
	"github.com/picbucket/picbucket/internal/rules"
	"github.com/picbucket/picbucket/internal/scfrpc"
	"github.com/picbucket/picbucket/internal/usage"
	"github.com/picbucket/picbucket/signer"
)

const (
	secretID  = "AKIDBENCH"
	secretKey = "bench-secret-key"
	token     = "bench-session-token"
	appID     = "1250000000"
)

var allRegions = []string{"ap-guangzhou", "ap-shanghai", "ap-beijing", "ap-chengdu", "ap-chongqing",
	"ap-nanjing", "ap-hongkong", "ap-singapore", "ap-tokyo", "eu-frankfurt", "ap-seoul", "ap-bangkok",
	"ap-mumbai", "na-siliconvalley", "na-ashburn", "na-toronto", "ap-jakarta", "sa-saopaulo"}

type params struct {
	n, regions, concurrency, starts int
	enabled                         float64
	latency                         time.Duration
	qps                             float64
	limiter                         string        // emulator.Limiter*
	known                           bool          // tell the function the limit (PICBUCKET_MAX_QPS)
	optOut                          float64       // share of the missing buckets tagged picbucket=off, with PICBUCKET_SKIP_TAG set
	timeout                         time.Duration // the invocation's time limit
	baseline                        bool
	jsonOut                         bool
	// services is PICBUCKET_SERVICES; each service is enabled on -enabled
	// of the buckets (a different share of them for each).
	services []ciservice.ID
	// Organization mode.
	members, memberBuckets int
	fanout, deliver        bool
	apiLimits              bool // tcemu enforces tcemu.DocumentedLimits
	warm                   int  // warm instances started before the timer (0: one per member)
}

// command is this command, for its -h.
var command = usage.Command{
	Name: "go run ./cmd/bench",
	What: "bench measures a reconciliation by the function binary against the COS/CI emulator, beside the one-bucket-at-a-time baseline.",
	More: `With -caps it runs the function once per limit per -limiter kind and prints a table; with
-members N it measures an organization-wide run (the management account and N members) against
the COS/CI and API 3.0 emulators. Sizes are in MiB (2^20 bytes).`,
}

func main() {
	var p params
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.IntVar(&p.n, "n", 100, "buckets")
	fs.IntVar(&p.regions, "regions", 10, "regions the buckets are spread over")
	fs.Float64Var(&p.enabled, "enabled", 0.4, "share of buckets already enabled")
	fs.DurationVar(&p.latency, "latency", 30*time.Millisecond, "emulator latency per request")
	fs.Float64Var(&p.qps, "qps", 0, "emulator request cap per account (0 = none)")
	fs.DurationVar(&p.timeout, "timeout", 900*time.Second, "the invocation's time limit (SCF allows 1s to 900s)")
	fs.IntVar(&p.concurrency, "concurrency", 8, "PICBUCKET_CONCURRENCY")
	fs.IntVar(&p.starts, "starts", 20, "process starts to time for the cold start median")
	fs.BoolVar(&p.baseline, "baseline", true, "also run the sequential baseline")
	fs.BoolVar(&p.jsonOut, "json", false, "print the report as JSON")
	fs.IntVar(&p.members, "members", 0, "organization mode: member accounts (0: one account, the default mode)")
	fs.IntVar(&p.memberBuckets, "member-buckets", 200, "organization mode: buckets of each account, the management account's included (-n is not used)")
	fs.BoolVar(&p.fanout, "fanout", true, "organization mode: PICBUCKET_FANOUT")
	fs.BoolVar(&p.deliver, "deliver", false, fmt.Sprintf("organization mode with fan-out: deliver each member invocation to an instance of its own (default: true when -members is at most %d)", deliverUpTo))
	fs.IntVar(&p.warm, "warm", 0, "organization mode with delivery: warm instances started before the timer (0: one per member); more start when every one is busy, as SCF does")
	fs.BoolVar(&p.apiLimits, "api-limits", true, "organization mode: the API 3.0 emulator enforces the documented per-action limits (Invoke 100/s, AssumeRole 600/s, GetUserAppId 20/s, DescribeOrganizationMembers 20/s)")
	limiters := fs.String("limiter", emulator.LimiterToken, "how the emulator counts -qps: token (a bucket of 100 ms worth) or window (accepted requests in the last second); with -caps, a comma list")
	servicesFlag := fs.String("services", "", "PICBUCKET_SERVICES: comma list of CI services (pic, media, doc, file, ai, asr); the counts are of (bucket, service) pairs")
	capsFlag := fs.String("caps", "", "comma list of limits (QPS): run the function once per limit per -limiter kind and print a table")
	fs.BoolVar(&p.known, "known", false, "tell the function the limit (PICBUCKET_MAX_QPS)")
	fs.Float64Var(&p.optOut, "opt-out", 0, "share (0-1) of the missing buckets whose owner tagged them "+optOutTag+"; above 0 the function runs with PICBUCKET_SKIP_TAG="+optOutTag+" and reads each missing bucket's tags (the baseline does not)")
	if err := command.Parse(fs, os.Args[1:], os.Stdout); err != nil {
		os.Exit(command.Fail(os.Stderr, err))
	}
	if fs.NArg() > 0 {
		os.Exit(command.Fail(os.Stderr, fmt.Errorf("unexpected arguments %q", fs.Args())))
	}
	if p.regions < 1 || p.regions > len(allRegions) || p.n < 1 || p.concurrency < 1 || p.members < 0 || p.memberBuckets < 0 {
		os.Exit(command.Fail(os.Stderr, errors.New("-n, -regions (1-18) and -concurrency must be positive, -members and -member-buckets not negative")))
	}
	if *servicesFlag != "" {
		ids, err := ciservice.Parse(*servicesFlag)
		if err != nil {
			os.Exit(command.Fail(os.Stderr, fmt.Errorf("-services: %w", err)))
		}
		if p.optOut > 0 || p.members > 0 {
			os.Exit(command.Fail(os.Stderr, errors.New("-services: not with -opt-out or -members")))
		}
		p.services = ids
	}
	if p.members > 0 {
		deliverSet := false
		fs.Visit(func(f *flag.Flag) { deliverSet = deliverSet || f.Name == "deliver" })
		if !deliverSet {
			p.deliver = p.members <= deliverUpTo
		}
		rep, err := runOrg(p)
		emit(rep, err, p.jsonOut)
		return
	}
	kinds := config.List(*limiters)
	for _, k := range kinds {
		if k != emulator.LimiterToken && k != emulator.LimiterWindow {
			os.Exit(command.Fail(os.Stderr, fmt.Errorf("-limiter %q: want %s or %s", k, emulator.LimiterToken, emulator.LimiterWindow)))
		}
	}
	if *capsFlag != "" {
		var caps []float64
		for _, c := range config.List(*capsFlag) {
			q, err := strconv.ParseFloat(c, 64)
			if err != nil || !(q > 0) {
				os.Exit(command.Fail(os.Stderr, fmt.Errorf("-caps: %q is not a positive number", c)))
			}
			caps = append(caps, q)
		}
		if err := capsTable(os.Stdout, p, caps, kinds); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if len(kinds) != 1 {
		os.Exit(command.Fail(os.Stderr, errors.New("-limiter: one kind without -caps")))
	}
	p.limiter = kinds[0]
	rep, err := run(p)
	emit(rep, err, p.jsonOut)
}

// emit prints a report, as text or as JSON, or exits with its error.
func emit(rep interface{ print(io.Writer) }, err error, asJSON bool) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
	if asJSON {
		json.NewEncoder(os.Stdout).Encode(rep)
		return
	}
	rep.print(os.Stdout)
}

// report is what one run measured.
type report struct {
	Params                         string
	Buckets, Enabled, Creates      int
	TagReads, OptedOut             int // with -opt-out: one tag read per missing bucket; the opted-out get no Create
	MinRequests, Requests          int
	Retries, Throttled             int
	Wall, ListingChain, LowerBound time.Duration
	BoundCreates, BoundQPS         time.Duration
	PeakRSS                        int64
	ColdStartMedian                time.Duration
	BinarySize                     int64
	Baseline                       time.Duration
	BaselineRequests               int
	AllEnabled, BaselineAllEnabled bool
	Summary                        handler.Summary
	NotEnabled                     int    // buckets failed or deferred
	InvocationError                string // the invocation's error, if it failed
}

func run(p params) (*report, error) {
	dir, err := os.MkdirTemp("", "picbucket-bench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "main")
	if err := scfrpc.Build(".", bin, "-ldflags", "-s -w"); err != nil {
		return nil, err
	}
	var binarySize int64
	if fi, err := os.Stat(bin); err == nil {
		binarySize = fi.Size()
	}

	// Cold start: process start to the first answered Function.Ping.
	var starts []time.Duration
	var coldStart time.Duration
	for range p.starts {
		proc, err := scfrpc.Start(bin, []string{"PATH=" + os.Getenv("PATH")}, io.Discard, io.Discard)
		if err != nil {
			return nil, err
		}
		starts = append(starts, proc.Ready.Sub(proc.Started))
		proc.Stop()
	}
	if len(starts) > 0 {
		slices.Sort(starts)
		coldStart = starts[len(starts)/2]
	}

	rep, err := measure(p, bin)
	if err != nil {
		return nil, err
	}
	if rep.InvocationError != "" {
		return nil, fmt.Errorf("invocation failed: %s", rep.InvocationError)
	}
	rep.BinarySize, rep.ColdStartMedian = binarySize, coldStart

	if p.baseline {
		bemu, bendpoint, bstop, err := serve(p)
		if err != nil {
			return nil, err
		}
		defer bstop()
		t0 := time.Now()
		if err := baseline(bendpoint, servicesOf(p)); err != nil {
			return nil, fmt.Errorf("baseline: %w", err)
		}
		rep.Baseline = time.Since(t0)
		rep.BaselineRequests = bemu.Stats().Total
		rep.BaselineAllEnabled = allEnabled(bemu, servicesOf(p))
	}
	return rep, nil
}

// measure runs the function binary bin once against a fresh emulator.
func measure(p params, bin string) (*report, error) {
	rep := &report{Params: fmt.Sprintf("N=%d R=%d E=%.0f%% latency=%s qps=%g limiter=%s known=%v concurrency=%d",
		p.n, p.regions, p.enabled*100, p.latency, p.qps, p.limiter, p.known, p.concurrency)}
	emu, endpoint, stop, err := serve(p)
	if err != nil {
		return nil, err
	}
	defer stop()
	rep.Buckets = len(emu.Buckets())
	if len(p.services) > 0 {
		rep.Params += " services=" + joinIDs(p.services)
	}
	perRegion, enabledPerRegion := map[string]int{}, map[string]int{}
	for _, b := range emu.Buckets() {
		perRegion[b.Region]++
		for _, id := range servicesOf(p) {
			if emu.ServiceEnabled(b.Name, id) {
				rep.Enabled++
				enabledPerRegion[string(id)+" "+b.Region]++
			}
		}
	}
	rep.Creates = rep.Buckets*len(servicesOf(p)) - rep.Enabled
	if p.optOut > 0 {
		for _, b := range emu.Buckets() {
			if emu.Tags(b.Name)["picbucket"] == "off" {
				rep.OptedOut++
			}
		}
		rep.TagReads = rep.Creates
		rep.Creates -= rep.OptedOut
	}
	describePages, maxDescribe := 0, 0
	for r := range perRegion {
		for _, id := range servicesOf(p) {
			pages := max(1, (enabledPerRegion[string(id)+" "+r]+99)/100)
			describePages += pages
			maxDescribe = max(maxDescribe, pages)
		}
	}
	listPages := max(1, (rep.Buckets+1999)/2000)
	rep.MinRequests = listPages + describePages + rep.TagReads + rep.Creates
	rep.ListingChain = time.Duration(listPages+maxDescribe) * p.latency
	// Each missing bucket's work is a chain: its tag read (with -opt-out), then its Create.
	perBucket := rep.Creates
	if p.optOut > 0 {
		perBucket = 2 * rep.TagReads
	}
	rep.BoundCreates = time.Duration(float64(perBucket) * float64(p.latency) / float64(p.concurrency))
	if p.qps > 0 {
		rep.BoundQPS = time.Duration(float64(rep.Creates) / p.qps * float64(time.Second))
	}
	rep.LowerBound = max(rep.ListingChain, rep.BoundCreates, rep.BoundQPS)

	env := []string{"PATH=" + os.Getenv("PATH"), "PICBUCKET_ENDPOINT=" + endpoint, "TENCENTCLOUD_APPID=" + appID,
		fmt.Sprintf("PICBUCKET_CONCURRENCY=%d", p.concurrency), "LOG_LEVEL=warn"}
	if p.known && p.qps > 0 {
		env = append(env, fmt.Sprintf("%s=%g", config.MaxQPS, p.qps))
	}
	if p.optOut > 0 {
		env = append(env, config.SkipTag+"="+optOutTag)
	}
	if len(p.services) > 0 {
		env = append(env, config.Services+"="+joinIDs(p.services))
	}
	proc, err := scfrpc.Start(bin, env, io.Discard, os.Stderr)
	if err != nil {
		return nil, err
	}
	defer proc.Stop()
	t0 := time.Now()
	resp, err := proc.Invoke(scfrpc.Invocation{
		Payload:   []byte(`{"Type":"Timer","TriggerName":"bench","Time":"2026-01-01T00:00:00Z","Message":""}`),
		RequestID: "bench-1", Timeout: cmp.Or(p.timeout, 900*time.Second), AppID: appID, Function: "picbucket",
		Environment: map[string]string{"TENCENTCLOUD_SECRETID": secretID, "TENCENTCLOUD_SECRETKEY": secretKey, "TENCENTCLOUD_SESSIONTOKEN": token},
	})
	rep.Wall = time.Since(t0)
	if err != nil {
		return nil, err
	}
	if resp.Error != nil {
		// A failed invocation returns no result: count what it left undone.
		rep.InvocationError = resp.Error.Message
		for _, b := range emu.Buckets() {
			for _, id := range servicesOf(p) {
				if !emu.ServiceEnabled(b.Name, id) {
					rep.NotEnabled++
				}
			}
		}
	} else {
		var res handler.Result
		if err := json.Unmarshal(resp.Payload, &res); err != nil {
			return nil, err
		}
		rep.Summary = res.Summary
		rep.Retries = int(res.Retries)
		rep.NotEnabled = res.Summary.Failed + res.Summary.Deferred
	}
	stats := emu.Stats()
	rep.Requests = stats.Total
	rep.Throttled = stats.Throttled
	rep.PeakRSS, _ = proc.PeakRSS()
	rep.AllEnabled = allEnabled(emu, servicesOf(p))
	return rep, nil
}

// capsTable runs the function once per limit per limiter kind and prints
// a row each: buckets failed and deferred (when the invocation failed, and
// so returned no result, every bucket left not enabled counts as failed),
// whether the invocation succeeded, requests against the minimum, the share
// of requests throttled, and the wall time against the time the minimum
// requests take at the limit (or "-" when the time limit cut the run).
func capsTable(w io.Writer, p params, caps []float64, kinds []string) error {
	dir, err := os.MkdirTemp("", "picbucket-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "main")
	if err := scfrpc.Build(".", bin, "-ldflags", "-s -w"); err != nil {
		return err
	}
	fmt.Fprintf(w, "N=%d R=%d E=%.0f%% latency=%s concurrency=%d known=%v timeout=%s\n", p.n, p.regions, p.enabled*100, p.latency, p.concurrency, p.known, p.timeout)
	fmt.Fprintf(w, "%6s  %-6s  %6s  %8s  %10s  %18s  %9s  %9s  %s\n", "cap", "kind", "failed", "deferred", "invocation", "requests / min", "throttled", "wall", "wall / (min / cap)")
	for _, kind := range kinds {
		for _, c := range caps {
			pp := p
			pp.qps, pp.limiter = c, kind
			rep, err := measure(pp, bin)
			if err != nil {
				return fmt.Errorf("cap %g %s: %w", c, kind, err)
			}
			ideal := time.Duration(float64(rep.MinRequests) / c * float64(time.Second))
			failed, deferred, outcome := rep.Summary.Failed, rep.Summary.Deferred, "ok"
			if rep.InvocationError != "" {
				failed, deferred, outcome = rep.NotEnabled, 0, "error"
			}
			ratio := fmt.Sprintf("%.2f", float64(rep.Wall)/float64(ideal))
			if deferred > 0 {
				ratio = "- (cut by the time limit)"
			}
			fmt.Fprintf(w, "%6g  %-6s  %6d  %8d  %10s  %8d / %-7d  %8.1f%%  %9s  %s\n", c, kind, failed, deferred, outcome,
				rep.Requests, rep.MinRequests, 100*float64(rep.Throttled)/math.Max(1, float64(rep.Requests)),
				rep.Wall.Round(10*time.Millisecond), ratio)
		}
	}
	return nil
}

// serve starts a seeded emulator on loopback.
func serve(p params) (*emulator.Server, string, func(), error) {
	emu := emulator.New(emulator.Options{Latency: p.latency, QPS: p.qps, Limiter: p.limiter, Seed: 1})
	emu.AddCredential(emulator.Credential{SecretID: secretID, SecretKey: secretKey, Token: token, AppID: appID})
	seeded := emu.SeedDemo(appID, p.n, allRegions[:p.regions], p.enabled)
	// Each other service is enabled on as many buckets as picbucket, a
	// different run of them for each (shifted by a share of the buckets).
	on := int(math.Round(float64(len(seeded)) * min(max(p.enabled, 0), 1)))
	for k, id := range p.services {
		if id == ciservice.Pic {
			continue
		}
		for i := range on {
			emu.EnableService(seeded[(i+(k+1)*len(seeded)/(len(p.services)+1))%len(seeded)].Name, id)
		}
	}
	if p.optOut > 0 {
		// Tag round(missing x optOut) of the missing buckets, spread evenly.
		var missing []string
		for _, b := range seeded {
			if !b.Enabled {
				missing = append(missing, b.Name)
			}
		}
		n := int(math.Round(float64(len(missing)) * min(p.optOut, 1)))
		for i := range n {
			emu.SetTags(missing[i*len(missing)/n], map[string]string{"picbucket": "off"})
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, err
	}
	srv := &http.Server{Handler: emu}
	go srv.Serve(l)
	return emu, "http://" + l.Addr().String(), func() { srv.Close() }, nil
}

// optOutTag is the tag of the buckets -opt-out opts out.
const optOutTag = "picbucket=off"

// allEnabled reports whether every bucket not opted out has every service.
func allEnabled(emu *emulator.Server, ids []ciservice.ID) bool {
	for _, b := range emu.Buckets() {
		for _, id := range ids {
			if !emu.ServiceEnabled(b.Name, id) && emu.Tags(b.Name)["picbucket"] != "off" {
				return false
			}
		}
	}
	return true
}

// servicesOf is -services, or image processing alone.
func servicesOf(p params) []ciservice.ID {
	if len(p.services) == 0 {
		return []ciservice.ID{ciservice.Pic}
	}
	return p.services
}

func joinIDs(ids []ciservice.ID) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = string(id)
	}
	return strings.Join(s, ",")
}

// baseline is the straightforward script: list the buckets, then for each
// one and each service ask whether it is enabled and enable it if not, one
// at a time. It uses the same client, signing and retry policy as the
// function.
func baseline(endpoint string, ids []ciservice.ID) error {
	u, err := rules.ParseEndpoint(endpoint)
	if err != nil {
		return err
	}
	env := map[string]string{signer.EnvSecretID: secretID, signer.EnvSecretKey: secretKey, signer.EnvSessionToken: token}
	api := cosapi.New(&signer.Transport{Source: signer.Env{Getenv: func(k string) string { return env[k] }}, Next: &cosapi.Route{Endpoint: u}})
	ctx := context.Background()
	do := func(op func(context.Context) error) error {
		_, err := retry.Default.Do(ctx, cosapi.IsRetryable, op)
		return err
	}
	var all []bucket.Target
	for marker := ""; ; {
		var page cosapi.BucketPage
		if err := do(func(ctx context.Context) (err error) { page, err = api.ListBuckets(ctx, marker, 0); return err }); err != nil {
			return err
		}
		all = append(all, page.Buckets...)
		if !page.Truncated {
			break
		}
		marker = page.NextMarker
	}
	for _, t := range all {
		for _, id := range ids {
			var on bool
			if err := do(func(ctx context.Context) (err error) { on, _, err = api.IsServiceEnabled(ctx, id, t); return err }); err != nil {
				return err
			}
			if on {
				continue
			}
			if err := do(func(ctx context.Context) error { _, err := api.EnableService(ctx, id, t); return err }); err != nil && !cosapi.IsAlreadyEnabled(err) {
				return err
			}
		}
	}
	return nil
}

func ratio(a, b time.Duration) string {
	if b <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", float64(a)/float64(b))
}

func (r *report) print(w io.Writer) {
	fmt.Fprintf(w, "params            %s\n", r.Params)
	fmt.Fprintf(w, "buckets           %d (%d (bucket, service) pairs enabled before, %d to create)\n", r.Buckets, r.Enabled, r.Creates)
	if r.TagReads > 0 {
		fmt.Fprintf(w, "tags              %d tag reads expected (one per missing bucket), %d buckets opted out (no Create)\n", r.TagReads, r.OptedOut)
	}
	fmt.Fprintf(w, "requests          %d  minimum %d  ratio %.2f\n", r.Requests, r.MinRequests, float64(r.Requests)/float64(r.MinRequests))
	fmt.Fprintf(w, "retries           %d (%.1f%% of requests)  throttled answers %d\n", r.Retries, 100*float64(r.Retries)/math.Max(1, float64(r.Requests)), r.Throttled)
	fmt.Fprintf(w, "wall              %s  lower bound %s  ratio %s\n", r.Wall.Round(time.Millisecond), r.LowerBound.Round(time.Millisecond), ratio(r.Wall, r.LowerBound))
	fmt.Fprintf(w, "  bound terms     listing chain %s, creates x latency / concurrency %s, creates / QPS %s\n",
		r.ListingChain.Round(time.Millisecond), r.BoundCreates.Round(time.Millisecond), r.BoundQPS.Round(time.Millisecond))
	fmt.Fprintf(w, "outcome           %+v  every bucket enabled: %v\n", r.Summary, r.AllEnabled)
	fmt.Fprintf(w, "peak RSS          %.1f MiB (VmHWM; MiB = 2^20 bytes)\n", float64(r.PeakRSS)/(1<<20))
	fmt.Fprintf(w, "cold start        median %s (process start to Function.Ping answered)\n", r.ColdStartMedian.Round(10*time.Microsecond))
	fmt.Fprintf(w, "binary            %.1f MiB (CGO_ENABLED=0 -trimpath -ldflags \"-s -w\")\n", float64(r.BinarySize)/(1<<20))
	if r.Baseline > 0 {
		fmt.Fprintf(w, "baseline          %s, %d requests, every bucket enabled: %v\n", r.Baseline.Round(time.Millisecond), r.BaselineRequests, r.BaselineAllEnabled)
		fmt.Fprintf(w, "vs baseline       time %s  requests %.2f\n", ratio(r.Wall, r.Baseline), float64(r.Requests)/float64(max(1, r.BaselineRequests)))
	}
}

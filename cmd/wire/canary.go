package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	cos "github.com/tencentyun/cos-go-sdk-v5"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/cosapi"
	"github.com/picbucket/picbucket/internal/rules"
	"github.com/picbucket/picbucket/internal/tcapi"
	"github.com/picbucket/picbucket/internal/usage"
	"github.com/picbucket/picbucket/signer"
)

var canaryCommand = usage.Command{
	Name: "go run ./cmd/wire canary",
	What: "wire canary creates a temporary bucket and times how long the deployed function takes to enable it.",
	More: `It creates pbcanary-<time>-<APPID> (COS PutBucket), waits until CI lists it as enabled,
prints the seconds from PutBucket to enabled, which trigger enabled it and the function's line (from
its CLS log topic), then deletes the bucket: also on timeout and on Ctrl-C (--keep keeps it). On a
timeout it says what it saw and what it did not. Exit status 0 when the bucket was enabled.`,
}

// canarySignals stop a canary (its bucket is deleted first); a test
// replaces them.
var canarySignals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// canaryPrefix starts every canary bucket's name: recognisable, and never a
// user's bucket (the time follows).
const canaryPrefix = "pbcanary-"

func runCanary(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("canary", flag.ContinueOnError)
	var c common
	c.baseFlags(fs)
	wait := fs.Duration("wait", 5*time.Minute, "how long to wait for the bucket to be enabled")
	poll := fs.Duration("poll", 5*time.Second, "how often to ask CI and CLS")
	keep := fs.Bool("keep", false, "keep the bucket afterwards")
	if err := canaryCommand.Parse(fs, args, stdout); err != nil {
		return canaryCommand.Fail(stderr, err)
	}
	if fs.NArg() > 0 {
		return canaryCommand.Fail(stderr, fmt.Errorf("unexpected arguments %q", fs.Args()))
	}
	if *wait <= 0 || *poll <= 0 {
		return canaryCommand.Fail(stderr, errors.New("--wait and --poll must be positive"))
	}
	s, ep, opts, creds, rc := c.setup(canaryCommand, getenv, stderr)
	if rc != 0 {
		return rc
	}
	cfg, _ := s.Settings() // LoadServerless checked them
	if cfg.DryRun {
		return canaryCommand.Fail(stderr, errors.New("serverless.yml deploys PICBUCKET_DRY_RUN=\"true\": the function enables nothing, so the canary would only time out; set it to \"false\" and deploy first"))
	}
	if cfg.RequireTag != nil {
		return canaryCommand.Fail(stderr, errors.New("serverless.yml sets PICBUCKET_REQUIRE_TAG: the canary's bucket carries no tag, so the function would leave it alone"))
	}
	region := s.Region
	if len(cfg.Regions) > 0 && !slices.Contains(cfg.Regions, region) {
		region = cfg.Regions[0]
	}

	ctx, stop := signal.NotifyContext(context.Background(), canarySignals...)
	defer stop()
	api, err := tcapi.New(creds, opts)
	if err != nil {
		return canaryCommand.Fail(stderr, err)
	}
	acct, err := api.GetUserAppID(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "wire canary: the account's APPID:", err)
		return 1
	}
	// The time in ms, base 36: unique per run, and short enough for the
	// bucket's COS host (bucket.Target.Validate); its oldest digits go
	// first when the region's host is long.
	unique := strconv.FormatInt(time.Now().UnixMilli(), 36)
	var target bucket.Target
	for {
		target = bucket.Target{Bucket: canaryPrefix + unique + "-" + acct.AppID, Region: region}
		if target.Validate() == nil || len(unique) <= 4 {
			break
		}
		unique = unique[1:]
	}
	if err := target.Validate(); err != nil {
		return canaryCommand.Fail(stderr, err)
	}
	name := target.Bucket
	if len(cfg.Include) > 0 && !rules.MatchAny(cfg.Include, name) || rules.MatchAny(cfg.Exclude, name) {
		return canaryCommand.Fail(stderr, fmt.Errorf("serverless.yml's PICBUCKET_INCLUDE/PICBUCKET_EXCLUDE leave %s alone: allow %s* to run the canary", name, canaryPrefix))
	}

	// The function's log topic, to see which trigger enabled the bucket.
	ac, err := newTrailClient(s, opts, creds)
	if err != nil {
		return canaryCommand.Fail(stderr, err)
	}
	lt, ltErr := readLogTopic(ctx, ac)

	rt := &signer.Transport{Source: signer.Static{Key: creds}, Next: &cosapi.Route{Endpoint: ep}}
	bucketURL := &url.URL{Scheme: "https", Host: name + ".cos." + region + ".myqcloud.com"}
	cosc := cos.NewClient(&cos.BaseURL{BucketURL: bucketURL}, &http.Client{Transport: rt})
	cosc.Conf.RetryOpt.Count = 1
	ci := cosapi.New(rt)

	// deleteBucket deletes the canary's bucket with a context of its own:
	// the run's may be cancelled (Ctrl-C) or past its deadline.
	deleteBucket := func(quietIfMissing bool) {
		dctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := cosc.Bucket.Delete(dctx); err != nil {
			if quietIfMissing && cos.IsNotFoundError(err) {
				return
			}
			fmt.Fprintf(stderr, "wire canary: DeleteBucket %s: %s: delete it in the COS console\n", name, cosError(err))
			return
		}
		fmt.Fprintf(stdout, "canary: deleted bucket %s\n", name)
	}
	fmt.Fprintf(stdout, "canary: creating bucket %s in %s\n", name, region)
	if _, err := cosc.Bucket.Put(ctx, nil); err != nil {
		fmt.Fprintf(stderr, "wire canary: PutBucket %s: %s\n", name, cosError(err))
		// A 5xx, a transport error or a Ctrl-C may leave a bucket that
		// was made: delete it (a refusal, 4xx, made none).
		var e *cos.ErrorResponse
		if !errors.As(err, &e) || e.Response == nil || e.Response.StatusCode >= 500 {
			deleteBucket(true)
		}
		return 1
	}
	created := time.Now()
	fmt.Fprintf(stdout, "canary: PutBucket answered 200 at %s\n", created.UTC().Format(time.RFC3339))
	defer func() {
		if *keep {
			fmt.Fprintf(stdout, "canary: kept bucket %s (--keep); delete it when done\n", name)
			return
		}
		deleteBucket(false) // whatever happened
	}()

	// --wait bounds every call of the polling too: a CI or CLS request
	// that hangs ends at the deadline.
	pctx, cancel := context.WithTimeout(ctx, *wait)
	defer cancel()
	var (
		seen      canarySeen
		enabledAt time.Time
		tick      = time.NewTicker(*poll)
	)
	defer tick.Stop()
	for enabledAt.IsZero() {
		if on, _, err := ci.IsEnabled(pctx, target); err == nil && on {
			enabledAt = time.Now()
			break
		} else if err != nil && pctx.Err() == nil {
			seen.ciErr = err
		}
		if ltErr == nil && lt.topicID != "" && pctx.Err() == nil {
			seen.search(pctx, api, lt.topicID, name, created)
		}
		select {
		case <-pctx.Done():
			if ctx.Err() != nil {
				fmt.Fprintf(stdout, "canary: stopped (signal) after %s\n", time.Since(created).Round(time.Second))
			} else {
				fmt.Fprintf(stdout, "canary: not enabled within %s\n", *wait)
			}
			seen.report(stdout, lt.topicID, ltErr)
			return 1
		case <-tick.C:
		}
	}
	fmt.Fprintf(stdout, "canary: enabled %.1f s after PutBucket (CI lists it)\n", enabledAt.Sub(created).Seconds())
	if ltErr == nil && lt.topicID != "" {
		for i := 0; i < 3 && seen.line == ""; i++ { // the line may lag the listing
			seen.search(ctx, api, lt.topicID, name, created)
			if seen.line == "" {
				time.Sleep(*poll)
			}
		}
	}
	seen.report(stdout, lt.topicID, ltErr)
	return 0
}

// canarySeen is what the canary learnt from the function's log topic.
type canarySeen struct {
	line                    string // the function's line for the bucket
	trigger, outcome, reqID string
	searchErr, ciErr        error
}

// search looks for the function's line about the bucket in the log topic,
// then for the summary line of the same invocation (scfRequestId), which
// names the trigger: each line of an invocation carries scfRequestId, the
// summary alone carries trigger.
func (c *canarySeen) search(ctx context.Context, api *tcapi.Client, topicID, name string, since time.Time) {
	from, to := since.Add(-time.Minute), time.Now().Add(time.Minute)
	lines, err := api.SearchLog(ctx, topicID, from, to, `bucket:"`+name+`"`, 10)
	c.searchErr = err
	var invocation string
	for _, l := range lines {
		var f struct{ Outcome, RequestId, Message, ScfRequestId string }
		if json.Unmarshal([]byte(l.JSON), &f) != nil || f.Message != "bucket" {
			continue
		}
		c.line, c.outcome, c.reqID, invocation = l.JSON, f.Outcome, f.RequestId, f.ScfRequestId
		if f.Outcome == "enabled" || f.Outcome == "already_enabled" {
			break
		}
	}
	if invocation == "" {
		return
	}
	sums, err := api.SearchLog(ctx, topicID, from, to, `scfRequestId:"`+invocation+`" AND message:"summary"`, 10)
	if err != nil {
		c.searchErr = err
		return
	}
	for _, l := range sums {
		var f struct{ Trigger string }
		if json.Unmarshal([]byte(l.JSON), &f) == nil && f.Trigger != "" {
			c.trigger = f.Trigger
		}
	}
}

// report prints what was seen and what was not.
func (c *canarySeen) report(out io.Writer, topicID string, topicErr error) {
	switch {
	case topicErr != nil:
		fmt.Fprintf(out, "canary: the function's log topic could not be read (%s): which trigger acted is unknown\n", firstLine(topicErr))
	case topicID == "":
		fmt.Fprintf(out, "canary: no log topic picbucket/picbucket-log (run wire apply): which trigger acted is unknown\n")
	case c.searchErr != nil:
		fmt.Fprintf(out, "canary: searching the log topic failed (%s)\n", firstLine(c.searchErr))
	case c.line == "":
		fmt.Fprintf(out, "canary: the function logged no line for the bucket: no invocation reached it, so the EventBridge rule or CloudAudit's delivery on the service bus is missing (run wire check), or the function refused the event (search its topic for message:\"invalid event\"); the hourly timer would still enable it\n")
	default:
		fmt.Fprintf(out, "canary: trigger %s, outcome %s, CI request %s\ncanary: the function's line: %s\n", orNone(c.trigger), orNone(c.outcome), orNone(c.reqID), c.line)
	}
	if c.ciErr != nil {
		fmt.Fprintf(out, "canary: CI's listing answered: %s\n", firstLine(c.ciErr))
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// cosError describes a COS error without the answer's body.
func cosError(err error) string {
	var e *cos.ErrorResponse
	if errors.As(err, &e) {
		status := 0
		if e.Response != nil {
			status = e.Response.StatusCode
		}
		return fmt.Sprintf("HTTP %d %s (RequestId %s)", status, e.Code, e.RequestID)
	}
	return strings.ReplaceAll(err.Error(), "\n", " ")
}

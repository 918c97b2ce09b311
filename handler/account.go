package handler

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/ciservice"
	"github.com/picbucket/picbucket/internal/clip"
	"github.com/picbucket/picbucket/internal/config"
	"github.com/picbucket/picbucket/internal/cosapi"
	"github.com/picbucket/picbucket/internal/pace"
	"github.com/picbucket/picbucket/internal/retry"
	"github.com/picbucket/picbucket/internal/trigger"
	"github.com/picbucket/picbucket/signer"
)

// One account's run reads straight down, one file a step:
//
//	plan.go     the event and the listings become work (and decided results)
//	execute.go  a pool of workers turns each piece of work into one result
//	collect.go  the collector owns the results, the seen-set, the notes and
//	            the counts, hands work to the workers and decides the stop
//	report.go   each result becomes a log line; the summary closes the run
//
// account wires them together; nothing calls back up.

// Cloud is the account's COS and CI as a run uses them. *cosapi.Client
// implements it over HTTP; handler/judge_test.go runs the judge scenarios
// against a fake and against *cosapi.Client over the COS/CI emulator, so
// that the fake cannot drift from this contract.
//
// Each call sends one request (retrying, pacing and the deadline are the
// run's: internal/retry) and ends with ctx. An error that comes from an
// answer is a *cosapi.Error with the HTTP status and the service's code
// (the run judges it by them alone, in classify.go: cosapi.IsThrottled,
// IsRetryable, IsCredentialError, IsQueueBusy, IsNoSuchBucket, IsUnbound,
// IsAlreadyEnabled); one whose Status is 0 means no answer came (a
// timeout, a connection error). A call that fails returns no partial
// answer.
type Cloud interface {
	// ListBuckets returns one page, at most maxKeys, of the account's
	// buckets with their regions (COS GetService), starting after marker
	// ("" for the first); Truncated and NextMarker say whether and where
	// the next page starts.
	ListBuckets(ctx context.Context, marker string, maxKeys int) (cosapi.BucketPage, error)
	// ListEnabled returns page (1-based) of the buckets of region that have
	// image processing enabled (CI DescribePicProcessBuckets), at most
	// pageSize (cosapi.MaxDescribe) a page, and Total over all pages; a page
	// past the end holds none.
	ListEnabled(ctx context.Context, region string, page, pageSize int) (cosapi.EnabledPage, error)
	// IsEnabled reports whether CI lists t's bucket as enabled, and the
	// answer's request id: the read-back after a code the run does not know.
	IsEnabled(ctx context.Context, t bucket.Target) (bool, string, error)
	// Enable enables image processing on t's bucket (CI
	// CreatePicProcessBucket) and returns the answer's request id and, when
	// CI gives it, the binding's CreateTime. A bucket enabled before answers
	// either success with an older CreateTime or an error IsAlreadyEnabled
	// reports; a bucket CI does not know (yet) answers NoSuchBucket.
	Enable(ctx context.Context, t bucket.Target) (cosapi.Enabled, error)
	// Tags returns t's bucket tags (COS GetBucketTagging) and the answer's
	// request id. A bucket without tags returns an empty map and no error
	// (cosapi.IsNoTagSet); NoSuchBucket, a refusal, and a 404 whose body is
	// not COS's XML (tags unknown) are errors.
	Tags(ctx context.Context, t bucket.Target) (map[string]string, string, error)
}

var _ Cloud = (*cosapi.Client)(nil)

// accountKey is one account to work in and the key that signs its requests.
type accountKey struct {
	uin     string // "" outside organization runs
	appID   string
	source  signer.Source
	credErr error // the source has no usable key
}

// account runs ev in one account and returns its finished Result and the
// error that marks the invocation failed (a failed bucket, a refusal of the
// whole account, a listing that failed).
func (inv *invocation) account(ctx context.Context, ev *trigger.Request, acct accountKey, log zerolog.Logger) (*Result, error) {
	dryRun := inv.cfg.DryRun || (ev.DryRun != nil && *ev.DryRun)
	if uin := cmp.Or(acct.uin, inv.id.uin); inv.cfg.ExcludeAccounts[uin] {
		return leftAlone(ev, uin, dryRun, inv.cfg.Services, log), nil
	}
	if acct.credErr != nil && needsRequests(ev) {
		err := fmt.Errorf("picbucket: %w", acct.credErr)
		log.Error().Err(err).Msg("no credentials")
		res := &Result{Trigger: string(ev.Kind), DryRun: dryRun, Notes: ev.Notes}
		res.finish()
		return res, err
	}
	client := cosapi.New(&signer.Transport{Source: acct.source, Next: &cosapi.Route{Endpoint: inv.cfg.Endpoint, Next: inv.h.transport()}})
	client.Timeout = RequestTimeout
	res, err := inv.runAccount(ctx, ev, acct, log, client, dryRun)
	res.Requests = client.Requests()
	return res, err
}

// runAccount is account's pipeline over any Cloud.
func (inv *invocation) runAccount(ctx context.Context, ev *trigger.Request, acct accountKey, log zerolog.Logger, cloud Cloud, dryRun bool) (*Result, error) {
	h, cfg := inv.h, inv.cfg
	// One clock: the handler's. No bucket starts, and no wait is begun,
	// after stopAt; requests in flight may use half the margin, the rest
	// is for reporting.
	var stopAt time.Time
	if d, ok := ctx.Deadline(); ok {
		margin := min(cfg.DeadlineMargin, d.Sub(h.now())/5)
		stopAt = d.Add(-margin)
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-margin/2))
		defer cancel()
	}
	policy := h.Retry
	if policy.Attempts == 0 {
		policy = retry.Default
	}
	loop := retry.Loop{Policy: policy, Pacer: pace.NewLimited(h.Now, cfg.MaxQPS), Now: h.now, StopAt: stopAt}
	rules := filter{cfg: cfg, appID: acct.appID}
	if cfg.Services != nil {
		return inv.runServices(ctx, ev, acct, log, cloud, dryRun, loop, rules, stopAt)
	}

	c := newCollector(ev, acct.uin, dryRun, log, h.cache(), h.now, cfg.CacheTTL)
	p := &planner{ev: ev, cloud: cloud, loop: loop, rules: rules, cache: h.cache(), now: h.now, cacheTTL: cfg.CacheTTL, log: log, halt: c.halt}
	x := &executor{cloud: cloud, loop: loop, rules: rules, dryRun: dryRun, now: h.now, stopAt: stopAt, maxEnable: cfg.MaxEnable, creates: &inv.creates}

	planned := make(chan item)
	work := make(chan job)
	done := make(chan executed)
	go p.run(ctx, planned)
	for range cfg.Concurrency {
		go x.work(ctx, work, done)
	}
	res, err := c.run(planned, work, done)
	res.Retries = x.retries.Load() + p.retries.Load()
	return res, err
}

// failedError is the invocation's error when buckets failed: it names
// them (the first few) and gives the first one's error.
func failedError(res *Result) error {
	const shown = 5
	var names []string
	first := ""
	for _, b := range res.Results {
		if b.Outcome != Failed {
			continue
		}
		if first == "" {
			first = b.Error
		}
		name := b.Bucket + "@" + b.Region
		if b.Service != "" {
			name += " " + b.Service
		}
		names = append(names, fmt.Sprintf("%s (%s)", name, cmp.Or(b.Code, clip.String(b.Error, 60))))
	}
	if len(names) == 0 {
		return nil
	}
	list := strings.Join(names[:min(len(names), shown)], ", ")
	if len(names) > shown {
		list += fmt.Sprintf(" and %d more", len(names)-shown)
	}
	return fmt.Errorf("picbucket: %d of %d buckets failed: %s; first error: %s", len(names), len(res.Results), list, first)
}

// needsRequests reports whether the event asks for any request at all.
func needsRequests(ev *trigger.Request) bool {
	return len(ev.Targets) > 0 || len(ev.Locate) > 0 || ev.Reconcile != nil
}

// leftAlone is the Result of ev in account uin, which
// PICBUCKET_EXCLUDE_ACCOUNTS lists: every bucket the event names is
// skipped, naming the setting, and nothing is sent. Every route checks it
// here, whatever event named the account (a bucket event names the
// function's own).
func leftAlone(ev *trigger.Request, uin string, dryRun bool, services []ciservice.ID, log zerolog.Logger) *Result {
	why := "left alone: " + config.ExcludeAccounts + " lists account " + uin
	res := &Result{Trigger: string(ev.Kind), DryRun: dryRun, Notes: slices.Clone(ev.Notes)}
	for _, s := range ev.Skipped {
		res.Results = append(res.Results, BucketResult{Bucket: s.Bucket, Region: s.Region, Outcome: Skipped, Reason: s.Reason})
	}
	for _, t := range ev.Targets {
		res.Results = append(res.Results, BucketResult{Bucket: t.Bucket, Region: t.Region, Outcome: Skipped, Reason: why})
	}
	for _, name := range ev.Locate {
		res.Results = append(res.Results, BucketResult{Bucket: name, Outcome: Skipped, Reason: why})
	}
	if ev.Reconcile != nil {
		res.Notes = append(res.Notes, why+": its buckets are not reconciled")
	}
	res.Results = perService(res.Results, services)
	for _, b := range res.Results {
		reportBucket(log, b)
	}
	res.finish()
	return res
}

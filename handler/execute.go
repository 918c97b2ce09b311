package handler

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/picbucket/picbucket/internal/config"
	"github.com/picbucket/picbucket/internal/cosapi"
	"github.com/picbucket/picbucket/internal/pace"
	"github.com/picbucket/picbucket/internal/retry"
	"github.com/picbucket/picbucket/internal/trigger"
)

// Execute: a bounded pool of workers takes the planned buckets while they
// are being found; every request waits for the pacer; throttled answers
// wait and go again until the time left runs out, other transient failures
// get a bounded number of attempts; no bucket starts after stopAt, and the
// run stops starting buckets when the account refuses them all.

// run is the state of one invocation.
type run struct {
	h      *Handler
	cfg    config.Config
	log    zerolog.Logger
	ev     *trigger.Request
	appID  string
	dryRun bool
	policy retry.Policy
	api    *cosapi.Client
	pace   *pace.Pacer

	mu      sync.Mutex
	res     *Result
	seen    map[string]bool // bucket names that have (or will have) a result; under mu
	retries atomic.Int64

	started atomic.Int64 // Creates started (or would-be Creates in a dry run)
	stop    stopper      // set once the account refuses every bucket
	stopAt  time.Time    // start no bucket, and repeat no throttled request, after this
}

// do runs the plan on a bounded pool of workers: explicit buckets first,
// then, for a reconciliation, each region's buckets as soon as its enabled
// list is in.
func (r *run) do(ctx context.Context) error {
	if d, ok := ctx.Deadline(); ok {
		// The margin is at most a fifth of the time left, so that a short
		// time limit still leaves room for work.
		margin := min(r.cfg.DeadlineMargin, time.Until(d)/5)
		r.stopAt = d.Add(-margin)
		// Requests in flight may use half the margin; the rest is for reporting.
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, d.Add(-margin/2))
		defer cancel()
	}
	for _, s := range r.ev.Skipped {
		r.add(BucketResult{Bucket: s.Bucket, Region: s.Region, Outcome: Skipped, Reason: s.Reason})
	}
	jobs := make(chan job)
	var listErr error
	go func() {
		defer close(jobs)
		for _, t := range r.explicit() {
			jobs <- job{Target: t, fromEvent: true}
		}
		if len(r.ev.Locate) > 0 || r.ev.Reconcile != nil {
			listErr = r.listAndReconcile(ctx, jobs)
		}
	}()
	var wg sync.WaitGroup
	for range r.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				r.add(r.enableSafely(ctx, j))
			}
		}()
	}
	wg.Wait()
	if listErr != nil {
		return listErr
	}
	if err := r.stop.err(); err != nil {
		return err
	}
	return nil
}

// errCut marks a request that was never sent, or whose wait was cut,
// because the invocation's time ran out.
var errCut = errors.New("the invocation deadline came before the request could be sent")

// isCut reports an error caused by the deadline rather than by the service.
func isCut(err error) bool {
	return errors.Is(err, errCut) || errors.Is(err, context.DeadlineExceeded)
}

// call sends op's request until it is answered. A throttled answer does
// not count against the attempt budget: it lowers the pacer's rate and the
// request goes again, until stopAt. Other retryable failures (5xx,
// timeouts, connection errors) get r.policy's bounded attempts with
// backoff. call returns how many requests were actually sent.
func (r *run) call(ctx context.Context, op func(context.Context) error) (sent int, err error) {
	failures, throttles := 0, 0
	for {
		if werr := r.pace.Wait(ctx); werr != nil {
			if err == nil {
				err = fmt.Errorf("%w: %w", errCut, werr)
			}
			return sent, err
		}
		if sent > 0 {
			r.retries.Add(1)
		}
		sent++
		err = op(ctx)
		switch {
		case err == nil:
			r.pace.Accepted()
			return sent, nil
		case cosapi.IsThrottled(err):
			r.pace.Throttled()
			throttles++
			// Besides the pacer's spacing, a throttled request waits a
			// jittered share of the throttle's likely length (a sliding
			// window throttles for up to a second): going again at once
			// would mostly meet the same window.
			if r.pastStop() || ctx.Err() != nil || !r.sleepBefore(ctx, throttleWait(throttles)) {
				return sent, err
			}
		case cosapi.IsRetryable(err):
			failures++
			if failures >= max(r.policy.Attempts, 1) || !r.sleepBefore(ctx, r.policy.Backoff(failures)) {
				return sent, err
			}
		default:
			return sent, err
		}
	}
}

// throttleWait is the extra wait of a request throttled n times in a row:
// full jitter over a ceiling that doubles from 100 ms up to one second.
func throttleWait(n int) time.Duration {
	ceil := min(250*time.Millisecond<<min(n-1, 2), time.Second)
	return time.Duration(rand.Float64() * float64(ceil))
}

// pastStop reports whether stopAt has passed.
func (r *run) pastStop() bool { return !r.stopAt.IsZero() && !r.h.now().Before(r.stopAt) }

// sleepBefore waits d unless that would pass stopAt or ctx ends; it
// reports whether it waited.
func (r *run) sleepBefore(ctx context.Context, d time.Duration) bool {
	if !r.stopAt.IsZero() && !r.h.now().Add(d).Before(r.stopAt) {
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// refusalStreak is how many buckets in a row the same non-retryable error
// code must answer, with no success between them, for the run to stop
// starting buckets: the account refuses them all (a CAM policy, CI not
// activated), so each further bucket would only cost requests.
const refusalStreak = 3

// stopper tracks refusals across buckets and says when to stop.
type stopper struct {
	mu      sync.Mutex
	code    string // the code of the current streak
	streak  int
	tripped error  // why the run stopped starting buckets
	why     string // the same, for the buckets not started
}

// success ends a streak of refusals.
func (s *stopper) success() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.code, s.streak = "", 0
}

// refused counts one bucket refused with err, and stops the run when
// refusalStreak buckets in a row were refused with the same code.
func (s *stopper) refused(err error) {
	code := codeOf(err)
	s.mu.Lock()
	if code != s.code {
		s.code, s.streak = code, 0
	}
	s.streak++
	n := s.streak
	s.mu.Unlock()
	if n >= refusalStreak {
		s.trip(err, n)
	}
}

// trip stops the run because of err, which answered n buckets in a row.
func (s *stopper) trip(err error, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tripped != nil {
		return
	}
	code := codeOf(err)
	if cosapi.IsCredentialError(err) {
		s.tripped = fmt.Errorf("picbucket: credentials refused (%s), stopped: %w", code, err)
		s.why = "not started: the credentials were refused (" + code + ")"
		return
	}
	s.tripped = fmt.Errorf("picbucket: %s answered %d buckets in a row, stopped starting buckets: %s: %w", code, n, fixFor(code), err)
	s.why = fmt.Sprintf("not started: %s answered %d buckets in a row: %s", code, n, fixFor(code))
}

// reason says why a bucket was not started, or "" while the run goes on.
func (s *stopper) reason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.why
}

func (s *stopper) err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tripped
}

package handler

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/picbucket/picbucket/internal/trigger"
)

// Collect: the collector is the one owner of a run's results, its seen-set
// (one result, and at most one Create, per bucket), its notes and its
// counts. It alone hands jobs to the workers, and it alone decides when the
// run stops starting buckets:
//
//   - at once when the key itself is refused (expired, unknown, bad
//     signature, clock skew): every further request would be refused too;
//   - when a refusal that may concern only some buckets (AccessDenied from a
//     CAM policy scoped to some bucket names, any other permission refusal)
//     answers refusalStreak buckets in a row, the collector holds the rest
//     of the work and sends confirmProbes probes spread over it. Any success
//     resumes the run; the same refusal on every probe proves it
//     account-wide and stops the run, the rest deferred.
//
// A code the run does not know, or one that concerns its bucket (such as a
// bucket unbound from CI by hand), never counts toward a stop.

// Stop judgement.
const (
	refusalStreak = 3 // the same refusal, this many buckets in a row, makes the collector suspect the account
	confirmProbes = 3 // buckets tried across the rest of the work before stopping
)

// collector gathers one run's results.
type collector struct {
	log   zerolog.Logger
	uin   string // the account's UIN in organization runs
	cache *confirmed
	now   func() time.Time
	ttl   time.Duration
	// service is the CI service of this run's results when
	// PICBUCKET_SERVICES is set (service.go), "" otherwise.
	service string

	res     *Result
	seen    map[string]bool
	queue   []job // planned jobs not yet handed to a worker, in plan order
	failure error // a listing that failed the invocation

	streakKey     string          // op and code of the current streak of refusals
	streak        int             // its length
	suspect       *refusal        // the refusal being confirmed, while probes run
	probesSent    int             // probes handed out for suspect
	probesRefused int             // probes that met suspect again
	probes        map[string]bool // buckets of the probes in flight
	stopped       error           // why the run stopped starting buckets
	stopReason    string          // the same, for the buckets not started
	halt          chan struct{}   // closed at the stop: the plan sends nothing more
}

func newCollector(ev *trigger.Request, uin string, dryRun bool, log zerolog.Logger, cache *confirmed, now func() time.Time, ttl time.Duration) *collector {
	return &collector{
		log: log, uin: uin, cache: cache, now: now, ttl: ttl,
		res:    &Result{Trigger: string(ev.Kind), DryRun: dryRun, Notes: slices.Clone(ev.Notes)},
		seen:   map[string]bool{},
		probes: map[string]bool{},
		halt:   make(chan struct{}),
	}
}

// run takes the plan's items and the workers' results until both are done,
// handing jobs to the workers on work (which it closes at the end), and
// returns the finished Result and the invocation's error.
func (c *collector) run(planned <-chan item, work chan<- job, done <-chan executed) (*Result, error) {
	inflight := 0
	for planned != nil || inflight > 0 || len(c.queue) > 0 {
		var out chan<- job
		var next job
		i := c.next(planned == nil)
		if i >= 0 {
			out, next = work, c.queue[i]
		}
		select {
		case it, ok := <-planned:
			if !ok {
				planned = nil
			} else {
				c.take(it)
			}
		case out <- next:
			c.queue = slices.Delete(c.queue, i, i+1)
			inflight++
			if c.suspect != nil {
				c.probes[next.Bucket] = true
				c.probesSent++
			}
		case e := <-done:
			inflight--
			c.record(e)
		}
		if c.stopped != nil {
			for _, j := range c.queue {
				c.add(BucketResult{Bucket: j.Bucket, Region: j.Region, Outcome: Deferred, Reason: c.stopReason})
			}
			c.queue = nil
		}
		if planned == nil && inflight == 0 && len(c.queue) > 0 && c.next(true) < 0 {
			// Nothing can move (no probe left to send, none out): go on
			// rather than wait forever. Kept as a guard; see record.
			c.resume()
		}
	}
	close(work)
	return c.finish()
}

// next returns the index in queue of the job to hand out next, or -1.
// While a refusal is confirmed, only probes go out, once the plan is done
// (planDone), spread over the rest of the work (at 1/6, 3/6 and 5/6 of the
// queue): a region listed later than the refused ones gets its share.
func (c *collector) next(planDone bool) int {
	switch {
	case c.stopped != nil || len(c.queue) == 0:
		return -1
	case c.suspect == nil:
		return 0
	case !planDone || c.probesSent >= confirmProbes:
		return -1
	}
	return (len(c.queue) - 1) * (2*c.probesSent + 1) / (2 * confirmProbes)
}

// take records one item of the plan.
func (c *collector) take(it item) {
	switch {
	case it.note != "":
		c.res.Notes = append(c.res.Notes, it.note)
	case it.failure != nil || it.refusal != nil:
		if it.failure != nil && c.failure == nil {
			c.failure = it.failure
		}
		if it.refusal != nil {
			c.stop(&refusal{code: codeOf(it.refusal), err: it.refusal, credentials: true}, 1)
		}
	case it.filtered != nil:
		if c.claim(it.filtered.Bucket) {
			c.res.Summary.Filtered++
			reportFiltered(c.log, c.ofService(*it.filtered))
		}
	case it.result != nil:
		if it.result.Bucket == "" || c.claim(it.result.Bucket) {
			c.add(*it.result)
			if it.listed {
				c.confirm(*it.result)
			}
		}
	case it.job != nil:
		if !c.claim(it.job.Bucket) {
			return
		}
		if c.stopped != nil {
			c.add(BucketResult{Bucket: it.job.Bucket, Region: it.job.Region, Outcome: Deferred, Reason: c.stopReason})
			return
		}
		c.queue = append(c.queue, *it.job)
	}
}

// claim records that bucket name has (or will have) a result, and reports
// false if it already has one.
func (c *collector) claim(name string) bool {
	if c.seen[name] {
		return false
	}
	c.seen[name] = true
	return true
}

// record takes one worker's result and judges the account by it.
func (c *collector) record(e executed) {
	probe := c.probes[e.Bucket]
	delete(c.probes, e.Bucket)
	if e.Outcome == filteredOut {
		c.res.Summary.Filtered++
		reportFiltered(c.log, c.ofService(e.BucketResult))
	} else {
		c.add(e.BucketResult)
	}
	if e.Outcome == Enabled || e.Outcome == AlreadyEnabled {
		c.confirm(e.BucketResult)
	}

	r := e.refusal
	if r != nil && r.credentials {
		c.stop(r, 1)
		return
	}
	if (e.createdNow && c.streakIs(opCreate)) || (e.tagsRead && c.streakIs(opTags)) {
		c.resume()
		return
	}
	if r == nil {
		if probe && c.suspect != nil {
			// The probe never reached the refused operation (opted out by
			// tag, gone, a 5xx…): it proves nothing; another bucket takes
			// its place.
			c.probesSent--
		}
		return
	}
	key := r.op + " " + r.code
	if key != c.streakKey {
		c.resume()
		c.streakKey = key
	}
	c.streak++
	if c.suspect == nil {
		if c.streak >= refusalStreak {
			c.suspect, c.probesSent, c.probesRefused = r, 0, 0
			ev := c.log.Warn()
			if c.service != "" {
				ev = ev.Str("service", c.service)
			}
			ev.Str("op", c.opName(r.op)).Str("code", r.code).Int("buckets", c.streak).
				Msg("the same refusal answered buckets in a row: trying a few across the rest of the work before stopping")
		}
		return
	}
	if probe {
		c.probesRefused++
		if c.probesRefused >= confirmProbes {
			c.stop(c.suspect, c.streak)
		}
	}
}

// streakIs reports whether the current streak is of op's refusals.
func (c *collector) streakIs(op string) bool {
	return c.streak > 0 && strings.HasPrefix(c.streakKey, op+" ")
}

// resume ends a streak and any confirmation: the run goes on.
func (c *collector) resume() {
	c.streakKey, c.streak, c.suspect, c.probesSent, c.probesRefused = "", 0, nil, 0, 0
	clear(c.probes)
}

// stop stops the run because of r, which answered n buckets.
func (c *collector) stop(r *refusal, n int) {
	if c.stopped != nil {
		return
	}
	defer close(c.halt)
	if r.credentials {
		c.stopped = fmt.Errorf("picbucket: credentials refused (%s), stopped: %w", r.code, r.err)
		c.stopReason = "not started: the credentials were refused (" + r.code + ")"
		return
	}
	op := c.opName(r.op)
	fix := fixFor(op, r.code)
	c.stopped = fmt.Errorf("picbucket: %s answered %s on %d buckets, the last %d spread over the rest of the work: the account refuses it; stopped starting buckets: %s: %w",
		op, r.code, n, confirmProbes, fix, r.err)
	c.stopReason = fmt.Sprintf("not started: %s answered %s on %d buckets across the work (the account refuses it): %s", op, r.code, n, fix)
}

// confirm remembers, for this warm instance, that b's bucket was seen
// enabled now (the cache serves bursts of COS object events).
func (c *collector) confirm(b BucketResult) {
	c.cache.put(b.Target(), c.now(), c.ttl)
}

// ofService is b with the service of c's pipeline, when PICBUCKET_SERVICES
// is set.
func (c *collector) ofService(b BucketResult) BucketResult {
	if c.service != "" && b.Bucket != "" {
		b.Service = c.service
	}
	return b
}

// add records one bucket's result and reports it.
func (c *collector) add(b BucketResult) {
	if c.uin != "" {
		b.Account = c.uin
	}
	if c.service != "" && b.Bucket != "" {
		b.Service = c.service
	}
	c.res.Results = append(c.res.Results, b)
	reportBucket(c.log, b)
}

// finish sorts and counts the results and returns the invocation's error:
// the stop, a failed listing, or the failed buckets by name.
func (c *collector) finish() (*Result, error) {
	c.res.finish()
	if err := errors.Join(c.stopped, c.failure); err != nil {
		return c.res, err
	}
	return c.res, failedError(c.res)
}

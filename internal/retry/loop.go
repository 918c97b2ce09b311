package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// ErrCut marks a request that was not sent, or a wait that was not
// finished, because the time left ran out (Loop.StopAt or the context's
// deadline). Do wraps it around the last answer, so that errors.Is(err,
// ErrCut) tells "the deadline came" apart from "the service refused".
var ErrCut = errors.New("the invocation deadline came before the request could be sent again")

// Kind is how the loop treats one failure.
type Kind int

const (
	// Final failures are returned at once.
	Final Kind = iota
	// Throttled failures spend no attempt: the request goes again after the
	// pacer's spacing and a jittered share of the throttle's likely length,
	// until the time left runs out.
	Throttled
	// Transient failures spend one attempt of the rule's policy and back off.
	Transient
)

// Rule is the loop's treatment of one failure.
type Rule struct {
	Kind Kind
	// Policy bounds Transient failures of this rule; Loop.Policy when nil.
	// Attempts are counted per policy.
	Policy *Policy
}

// Pacer spaces requests out (internal/pace.Pacer implements it).
type Pacer interface {
	// Wait blocks until the next request may start.
	Wait(ctx context.Context) error
	// Accepted records an answer that was not throttled.
	Accepted()
	// Throttled records a throttled answer.
	Throttled()
}

// Loop sends one operation's request until it is answered: the one retry
// loop of the function. The zero value retries nothing.
type Loop struct {
	// Policy bounds Transient failures whose rule names no policy.
	Policy Policy
	// Classify says how to treat a failure; every failure is Final when nil.
	Classify func(error) Rule
	// Pacer, when set, is waited for before every request.
	Pacer Pacer
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// StopAt, when set, is when waiting ends: no wait is started that
	// would end after it.
	StopAt time.Time
	// OnRetry, when set, is called before each request after the first.
	OnRetry func()
}

// Do calls op until it succeeds, fails finally, runs out of attempts, or
// runs out of time. It returns how many times op ran and op's last error;
// when the time ran out first, that error wraps ErrCut.
func (l Loop) Do(ctx context.Context, op func(context.Context) error) (sent int, err error) {
	throttles := 0
	failures := map[*Policy]int{}
	for {
		if l.Pacer != nil {
			if werr := l.Pacer.Wait(ctx); werr != nil {
				return sent, cut(err, werr)
			}
		}
		if sent > 0 && l.OnRetry != nil {
			l.OnRetry()
		}
		sent++
		err = op(ctx)
		if err == nil {
			if l.Pacer != nil {
				l.Pacer.Accepted()
			}
			return sent, nil
		}
		rule := Rule{Kind: Final}
		if l.Classify != nil {
			rule = l.Classify(err)
		}
		var wait time.Duration
		switch rule.Kind {
		case Throttled:
			if l.Pacer != nil {
				l.Pacer.Throttled()
			}
			throttles++
			wait = throttleWait(throttles)
		case Transient:
			p := rule.Policy
			if p == nil {
				p = &l.Policy
			}
			failures[p]++
			if failures[p] >= max(p.Attempts, 1) {
				return sent, err
			}
			wait = p.Backoff(failures[p])
		default:
			return sent, err
		}
		if !l.sleep(ctx, wait) {
			return sent, cut(err, nil)
		}
	}
}

// cut wraps the last answer (or, when none came, why) in ErrCut.
func cut(last, why error) error {
	switch {
	case last != nil:
		return fmt.Errorf("%w: %w", ErrCut, last)
	case why != nil:
		return fmt.Errorf("%w: %w", ErrCut, why)
	}
	return ErrCut
}

// throttleWait is the extra wait of a request throttled n times in a row:
// full jitter over a ceiling that doubles from 250 ms up to one second (a
// sliding window throttles for up to a second: going again at once would
// mostly meet the same window).
func throttleWait(n int) time.Duration {
	ceil := min(250*time.Millisecond<<min(n-1, 2), time.Second)
	return time.Duration(rand.Float64() * float64(ceil))
}

// sleep waits d unless that would pass StopAt or ctx's deadline, or ctx
// ends first; it reports whether it waited.
func (l Loop) sleep(ctx context.Context, d time.Duration) bool {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	end := now().Add(d)
	if !l.StopAt.IsZero() && !end.Before(l.StopAt) {
		return false
	}
	if dl, ok := ctx.Deadline(); ok && !end.Before(dl) {
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

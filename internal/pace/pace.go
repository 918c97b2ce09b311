// Package pace spaces out one invocation's requests when the service
// throttles them, so that a run close to the account's request limit
// finishes near the limit's pace with few throttled (and so repeated)
// requests, whatever the limit (1 to 2,000 requests per second were
// simulated) and whether the service counts it with a token bucket or with
// a sliding window of accepted requests.
//
// The spacing is a golang.org/x/time/rate Limiter with a burst of one. This
// package only moves its rate. The control law:
//
//   - Start. Unlimited (NewLimited with no limit), or at Share of a known limit,
//     which the rate then never passes.
//   - Measure. The accepted rate is the number of accepted answers over the
//     last Span (1 s; at low rates the time SpanAnswers answers take, if
//     longer and the Pacer is that old) divided by that span. A limiter, a
//     token bucket or a sliding window alike, accepts about its limit per
//     second while it throttles, so this is about the limit when a throttle
//     comes; it is low when the Pacer sent below the limit for part of the
//     span, or when answers it is not told about (errors) took part of it.
//   - Decrease. A throttle sets the rate to Share of the accepted rate; it
//     never raises the rate. The first throttle of an unlimited Pacer sets
//     at least Share of half the rate requests were started at over the
//     last Span. The first throttle in more than a Span of a pacing one
//     sets at least Share × Share of the rate in force: the accepted rate
//     lags a rate that has just grown (a token bucket throttles as soon as
//     the rate passes its limit), and a further throttle within the Span
//     corrects an estimate still too high (a sliding window goes on
//     throttling). With nothing accepted over the span, a paced rate is
//     halved. When pacing, the ceiling becomes the higher of the accepted
//     rate and the rate in force. Throttles until Hold (or twice the first
//     answer's latency, if longer, up to Span) after the latest start
//     booked at a decrease answer requests sent before it: they are part
//     of the same event.
//   - Increase. Each start booked with no such throttle pending raises the
//     rate by FastStep while no ceiling is known or the rate is under
//     NearCeiling of it, else by SlowStep, and by no more than
//     FastPerSecond (SlowPerSecond) times the time since the previous
//     such start. Growing per start rather than per accepted answer keeps
//     the rate growing when most answers are errors the caller does not
//     report. A step per start makes a cycle at a low limit (1 per second)
//     last many requests, so that few are throttled; the bound per second
//     keeps growth at a high limit within e^FastPerSecond per second, so
//     that the rate is at most about twice a limit when a one-second
//     window first throttles it. Slow growth goes on past the ceiling: if
//     the limit has risen, the rate follows.
//
// That is additive-increase/multiplicative-decrease on a rate, anchored to
// the accepted rate, with a fast start like TCP's slow start. Starts are
// booked at most a horizon ahead (Hold, or one interval if longer), and a
// rate change applies after the starts already booked, so that neither an
// old rate nor a new one bunches requests together.
package pace

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Tuning.
const (
	Share         = 0.9                    // a throttle sets the rate to Share × the accepted rate
	Span          = time.Second            // the accepted rate is measured over at least this
	SpanAnswers   = 20                     // … and over at least the time this many answers take at the rate in force
	Hold          = 100 * time.Millisecond // throttles until this long after the last start at the old rate are one event
	NearCeiling   = 0.8                    // at or above this share of the ceiling, grow slowly
	FastStep      = 0.25                   // growth per start far from the ceiling
	FastPerSecond = 2.0                    // … at most this much per second
	SlowStep      = 0.002                  // growth per start near the ceiling
	SlowPerSecond = 0.1                    // … at most this much per second
	MinRate       = 0.2                    // a throttle lowers the rate to no less (requests per second)
	MaxRate       = 100_000                // the rate grows to no more (as good as unlimited)
)

// Pacer spaces requests out. It is safe for concurrent use; create it with
// NewLimited.
type Pacer struct {
	now func() time.Time
	lim *rate.Limiter

	mu         sync.Mutex
	rate       float64     // requests per second; +Inf = unlimited
	top        float64     // the highest rate allowed; +Inf = none
	ceiling    float64     // the limit's estimate at the last paced throttle; 0 = unknown
	accepted   []time.Time // accepted answers; accepted[head:] are within the span
	head       int
	since      time.Time   // answers are kept from then on
	firstStart time.Time   // the first start
	starts     []time.Time // while unlimited: starts[startsHead:] are within Span
	startsHead int
	latency    time.Duration // from the first start to the first answer
	last       time.Time     // the previous start that let the rate grow
	reserved   time.Time     // the latest start handed out
	holdUntil  time.Time
	lastEvent  time.Time // the last throttle that lowered the rate
	throttles  int       // throttle events that lowered the rate (read by the tests)
}

// NewLimited returns a Pacer for an account whose limit, maxQPS requests
// per second, the caller knows: it starts at Share of it and never goes
// above (the margin absorbs the spread of network latency), so that a
// service that allows maxQPS throttles nothing. With maxQPS <= 0 the limit
// is unknown: the Pacer starts unlimited and learns it from throttles. now
// is the clock (time.Now when nil).
func NewLimited(now func() time.Time, maxQPS float64) *Pacer {
	if now == nil {
		now = time.Now
	}
	p := &Pacer{now: now, rate: math.Inf(1), top: math.Inf(1), lim: rate.NewLimiter(rate.Inf, 1)}
	if maxQPS > 0 {
		p.top = Share * maxQPS
		p.ceiling = p.top
		p.setRate(now(), p.top)
	}
	return p
}

// reserve books the next request's start if it is at most a horizon away
// (Hold, or one interval at the rate in force if longer) and returns how
// long from now it is, and true. Otherwise it books nothing and returns how
// long to wait before asking again, and false: a start booked far ahead
// would keep the rate in force when it was booked. It also returns how far
// the next start is, and books nothing if that is past limit (when
// limit > 0).
func (p *Pacer) reserve(now time.Time, limit time.Duration) (d time.Duration, booked bool, next time.Duration) {
	if p.firstStart.IsZero() {
		p.firstStart = now
	}
	if math.IsInf(p.rate, 1) {
		p.reserved = now
		p.recordStart(now)
		return 0, true, 0
	}
	// The limiter runs at the latest start booked, so that a rate change
	// applies after the starts already booked, not to them.
	at := maxTime(now, p.reserved)
	next = at.Add(time.Duration((1 - p.lim.TokensAt(at)) / p.rate * float64(time.Second))).Sub(now)
	if limit > 0 && next > limit {
		return next, false, next
	}
	if h := max(Hold, time.Duration(1/p.rate*float64(time.Second))); next > h {
		return next - h, false, next
	}
	p.reserved = at.Add(p.lim.ReserveN(at, 1).DelayFrom(at))
	p.grow(now)
	return p.reserved.Sub(now), true, next
}

// Wait blocks until the next request may start. It returns ctx's error if
// ctx ends first, and at once an error that matches
// context.DeadlineExceeded if the next start is past ctx's deadline. A
// start booked and not used (ctx ended during the wait) is lost.
func (p *Pacer) Wait(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		var limit time.Duration // 0 = none
		if dl, ok := ctx.Deadline(); ok {
			if limit = time.Until(dl); limit <= 0 {
				return context.DeadlineExceeded
			}
		}
		p.mu.Lock()
		d, booked, next := p.reserve(p.now(), limit)
		p.mu.Unlock()
		if limit > 0 && next > limit {
			return fmt.Errorf("pace: the next start, in %s, is past the deadline: %w", next.Round(time.Millisecond), context.DeadlineExceeded)
		}
		if d <= 0 && booked {
			return nil
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if booked {
			return nil
		}
	}
}

// Accepted records an answer that was not throttled.
func (p *Pacer) Accepted() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.record(p.now(), true)
}

// grow raises the rate for a start booked with no throttle pending.
func (p *Pacer) grow(now time.Time) {
	dt := now.Sub(p.last).Seconds()
	p.last = now
	if now.Before(p.holdUntil) || dt <= 0 {
		return
	}
	step, perSecond := FastStep, FastPerSecond
	if p.ceiling > 0 && p.rate >= NearCeiling*p.ceiling {
		step, perSecond = SlowStep, SlowPerSecond
	}
	p.setRate(now, p.rate*(1+min(step, perSecond*dt)))
}

// Throttled records a throttled answer and lowers the rate.
func (p *Pacer) Throttled() {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	p.record(now, false)
	if now.Before(p.holdUntil) {
		return
	}
	p.throttles++
	acc := p.acceptedRate(now)
	unlimited := math.IsInf(p.rate, 1)
	var r float64
	switch {
	case unlimited:
		r = Share * max(acc, p.startRate(now)/2)
	case acc == 0:
		r = p.rate / 2
	case now.Sub(p.lastEvent) > Span:
		// The first throttle in a while: the accepted rate may lag a
		// rate that has just grown.
		r = Share * max(acc, Share*p.rate)
	default:
		r = Share * acc
	}
	if !unlimited {
		p.ceiling = max(acc, p.rate)
	}
	p.lastEvent = now
	p.setRate(now, max(min(r, p.rate), MinRate))
	if unlimited {
		// The last unlimited start takes the first slot.
		p.lim.ReserveN(maxTime(now, p.reserved), 1)
		p.starts, p.startsHead = nil, 0
	}
	p.holdUntil = maxTime(now, p.reserved).Add(max(Hold, min(2*p.latency, Span)))
}

// record notes an answer, keeping the accepted ones of the span.
func (p *Pacer) record(now time.Time, accepted bool) {
	if p.since.IsZero() {
		p.since = now
		if !p.firstStart.IsZero() {
			p.latency = now.Sub(p.firstStart)
		}
	}
	from := now.Add(-p.span(now))
	p.since = maxTime(p.since, from)
	for p.head < len(p.accepted) && !p.accepted[p.head].After(from) {
		p.head++
	}
	if p.head > len(p.accepted)/2 {
		p.accepted = p.accepted[:copy(p.accepted, p.accepted[p.head:])]
		p.head = 0
	}
	if accepted {
		p.accepted = append(p.accepted, now)
	}
}

// span is what rates are measured over: Span, or if longer the time
// SpanAnswers answers take at the rate in force, as far as the answers
// kept go back.
func (p *Pacer) span(now time.Time) time.Duration {
	if math.IsInf(p.rate, 1) {
		return Span
	}
	return max(Span, min(time.Duration(SpanAnswers/p.rate*float64(time.Second)), now.Sub(p.since)))
}

// acceptedRate is the accepted answers over the span divided by it.
func (p *Pacer) acceptedRate(now time.Time) float64 {
	return float64(len(p.accepted)-p.head) / p.span(now).Seconds()
}

// startRate is the starts over the last Span divided by it (kept while
// unlimited).
func (p *Pacer) startRate(now time.Time) float64 {
	p.dropStarts(now)
	return float64(len(p.starts)-p.startsHead) / Span.Seconds()
}

// recordStart adds a start while unlimited.
func (p *Pacer) recordStart(now time.Time) {
	p.dropStarts(now)
	p.starts = append(p.starts, now)
}

// dropStarts drops the starts older than Span.
func (p *Pacer) dropStarts(now time.Time) {
	from := now.Add(-Span)
	for p.startsHead < len(p.starts) && !p.starts[p.startsHead].After(from) {
		p.startsHead++
	}
	if p.startsHead > len(p.starts)/2 {
		p.starts = p.starts[:copy(p.starts, p.starts[p.startsHead:])]
		p.startsHead = 0
	}
}

func (p *Pacer) setRate(now time.Time, r float64) {
	r = min(r, p.top, MaxRate)
	p.rate = r
	p.lim.SetLimitAt(maxTime(now, p.reserved), rate.Limit(r))
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// Rate returns the current rate in requests per second (0 = unlimited).
func (p *Pacer) Rate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if math.IsInf(p.rate, 1) {
		return 0
	}
	return p.rate
}

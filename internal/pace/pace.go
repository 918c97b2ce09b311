// Package pace spaces out one invocation's requests when the service
// throttles them, so that a run close to the account's request limit
// finishes near the limit's pace with few throttled (and so repeated)
// requests.
//
// A Pacer starts unlimited. A throttled answer lowers the rate: to
// AcceptedShare of the rate at which answers were accepted over the last
// Recent, when enough were — while the service throttles, that is its limit,
// and it becomes the ceiling — or else to Backoff times the rate in force
// (when still unlimited, the rate answers were arriving at), leaving the
// ceiling unknown. Throttles closer together than DecreaseEvery count as
// one. Between throttles the rate grows, fast (FastIncrease per second)
// while under NearCeiling of the ceiling or with no ceiling known, slowly
// (IncreasePerSecond) above it; after ProbeAfter without a throttle the
// ceiling is forgotten. That is additive-increase/multiplicative-decrease on
// a rate, anchored to the measured limit, with a fast recovery like TCP's
// slow start.
package pace

import (
	"context"
	"sync"
	"time"
)

// Tuning.
const (
	Backoff           = 0.8                    // a throttle sets the rate to Backoff × the rate in force
	NearCeiling       = 0.9                    // above this share of the ceiling, grow slowly
	IncreasePerSecond = 0.05                   // slow growth, share per second
	FastIncrease      = 1.0                    // fast growth, share per second
	DecreaseEvery     = 100 * time.Millisecond // throttles closer together than this are one event
	ProbeAfter        = 3 * time.Second        // without a throttle this long, grow fast again
	minRate           = 0.5                    // requests per second
	startRate         = 20                     // the first rate when too few answers measure one
	window            = 32                     // answers the unlimited rate is measured over
	Recent            = 500 * time.Millisecond // the accepted rate is measured over this span
	AcceptedShare     = 0.95                   // a throttle caps the rate at this share of the accepted rate
)

// Pacer spaces requests out. It is safe for concurrent use; create it with New.
type Pacer struct {
	mu           sync.Mutex
	now          func() time.Time
	rate         float64 // requests per second; 0 = unlimited
	ceiling      float64 // the rate in force at the last throttle
	next         time.Time
	answered     [window]time.Time
	n            int // answers recorded
	accepted     [window]time.Time
	k            int // accepted answers recorded
	lastDecrease time.Time
	lastIncrease time.Time
	throttles    int
}

// New returns an unlimited Pacer. now is the clock (time.Now when nil).
func New(now func() time.Time) *Pacer {
	if now == nil {
		now = time.Now
	}
	return &Pacer{now: now}
}

// Wait blocks until the next request may start, or ctx ends.
func (p *Pacer) Wait(ctx context.Context) error {
	p.mu.Lock()
	if p.rate <= 0 {
		p.mu.Unlock()
		return ctx.Err()
	}
	now := p.now()
	at := p.next
	if at.Before(now) {
		at = now
	}
	p.next = at.Add(time.Duration(float64(time.Second) / p.rate))
	p.mu.Unlock()
	d := at.Sub(now)
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Accepted records an answer that was not throttled and lets the rate grow.
func (p *Pacer) Accepted() {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	p.record(now)
	p.accepted[p.k%window] = now
	p.k++
	if p.rate <= 0 {
		return
	}
	if dt := now.Sub(p.lastIncrease); dt >= DecreaseEvery {
		grow := IncreasePerSecond
		if p.ceiling <= 0 || p.rate < NearCeiling*p.ceiling || now.Sub(p.lastDecrease) >= ProbeAfter {
			grow = FastIncrease
		}
		p.rate *= 1 + grow*dt.Seconds()
		p.lastIncrease = now
	}
}

// Throttled records a throttled answer and lowers the rate.
func (p *Pacer) Throttled() {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	p.record(now)
	if !p.lastDecrease.IsZero() && now.Sub(p.lastDecrease) < DecreaseEvery {
		return
	}
	p.throttles++
	p.lastDecrease, p.lastIncrease = now, now
	if acc := p.acceptedRate(now); acc > 0 {
		p.ceiling = acc
		p.rate = max(acc*AcceptedShare, minRate)
		return
	}
	cur := p.rate
	if cur <= 0 {
		// The answer rate can span a slow start (listing, back-off): never
		// start below startRate.
		cur = max(p.answerRate(now), startRate)
	}
	p.ceiling = 0
	p.rate = max(cur*Backoff, minRate)
}

func (p *Pacer) record(now time.Time) {
	p.answered[p.n%window] = now
	p.n++
}

// answerRate is the rate of the last answers, or 0 if too few.
func (p *Pacer) answerRate(now time.Time) float64 {
	k := min(p.n, window)
	if k < 4 {
		return 0
	}
	span := now.Sub(p.answered[(p.n-k)%window]).Seconds()
	if span <= 0 {
		return 0
	}
	return float64(k) / span
}

// acceptedRate is the rate of the answers accepted within Recent, or 0 if
// fewer than 8.
func (p *Pacer) acceptedRate(now time.Time) float64 {
	n := 0
	var oldest time.Time
	for i := 1; i <= min(p.k, window); i++ {
		t := p.accepted[(p.k-i)%window]
		if now.Sub(t) > Recent {
			break
		}
		n, oldest = n+1, t
	}
	if n < 8 {
		return 0
	}
	span := now.Sub(oldest).Seconds()
	if span <= 0 {
		return 0
	}
	return float64(n) / span
}

// Rate returns the current rate in requests per second (0 = unlimited).
func (p *Pacer) Rate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.rate
}

// Throttles returns how many throttle events lowered the rate.
func (p *Pacer) Throttles() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.throttles
}

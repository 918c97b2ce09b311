// Package pace spaces out one invocation's requests when the service
// throttles them, so that a run close to the account's request limit
// finishes near the limit's pace with few throttled (and so repeated)
// requests.
//
// It starts unlimited. The first throttled answer sets a rate: a little
// under the rate at which answers were being accepted, measured over the
// last accepted requests. Every further throttled answer cuts the rate the
// same way (at most once per DecreaseEvery); every quiet interval raises it
// by IncreasePerSecond. That is additive-increase/multiplicative-decrease on
// a rate, with the decrease anchored to the measured accepted rate rather
// than to the rate that was being attempted.
package pace

import (
	"context"
	"sync"
	"time"
)

// Tuning.
const (
	window            = 32                     // accepted answers the rate is measured over
	Backoff           = 0.9                    // a throttle sets the rate to Backoff × the accepted rate
	IncreasePerSecond = 0.05                   // the rate grows by this share per second without throttling
	DecreaseEvery     = 100 * time.Millisecond // throttles closer together than this are one event
)

// Pacer spaces requests out. The zero value is not usable; call New.
type Pacer struct {
	mu           sync.Mutex
	now          func() time.Time
	rate         float64 // requests per second; 0 = unlimited
	next         time.Time
	accepted     [window]time.Time
	n            int // accepted answers recorded
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

// Accepted records an answer that was not throttled.
func (p *Pacer) Accepted() {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	p.accepted[p.n%window] = now
	p.n++
	if p.rate > 0 {
		if dt := now.Sub(p.lastIncrease); dt >= DecreaseEvery {
			p.rate *= 1 + IncreasePerSecond*dt.Seconds()
			p.lastIncrease = now
		}
	}
}

// Throttled records a throttled answer and lowers the rate.
func (p *Pacer) Throttled() {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if !p.lastDecrease.IsZero() && now.Sub(p.lastDecrease) < DecreaseEvery {
		return
	}
	p.throttles++
	p.lastDecrease, p.lastIncrease = now, now
	target := p.acceptedRate(now) * Backoff
	if p.rate > 0 && (target <= 0 || p.rate*Backoff < target) {
		target = p.rate * Backoff
	}
	if target <= 0 {
		target = 1
	}
	p.rate = max(target, 0.5)
}

// acceptedRate is the rate of the last accepted answers, or 0 if too few.
func (p *Pacer) acceptedRate(now time.Time) float64 {
	k := min(p.n, window)
	if k < 4 {
		return 0
	}
	oldest := p.accepted[(p.n-k)%window]
	span := now.Sub(oldest).Seconds()
	if span <= 0 {
		return 0
	}
	return float64(k) / span
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

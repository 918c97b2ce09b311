package pace

import (
	"context"
	"math"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }
func near(a, b float64) bool         { return math.Abs(a-b) < 1e-6*math.Max(1, math.Abs(b)) }
func newTest() (*Pacer, *clock)      { c := &clock{t: time.Unix(1000, 0)}; return New(c.now), c }
func canceled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}
func (p *Pacer) nextAt() time.Time    { p.mu.Lock(); defer p.mu.Unlock(); return p.next }
func (p *Pacer) ceilingRate() float64 { p.mu.Lock(); defer p.mu.Unlock(); return p.ceiling }

func TestUnlimitedUntilThrottled(t *testing.T) {
	p, c := newTest()
	for range 100 {
		if err := p.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		p.Accepted()
		c.add(time.Millisecond)
	}
	if p.Rate() != 0 || p.Throttles() != 0 {
		t.Fatalf("rate %v after no throttle, want unlimited", p.Rate())
	}
}

func TestThrottleAnchorsToTheAcceptedRate(t *testing.T) {
	p, c := newTest()
	for range 30 { // accepted 10 ms apart: 100 per second
		c.add(10 * time.Millisecond)
		p.Accepted()
	}
	c.add(10 * time.Millisecond)
	p.Throttled()
	// The last 30 accepted answers span 300 ms up to now.
	acc := 30 / 0.3
	if !near(p.Rate(), acc*AcceptedShare) || !near(p.ceilingRate(), acc) || p.Throttles() != 1 {
		t.Fatalf("rate %v ceiling %v, want %v and %v", p.Rate(), p.ceilingRate(), acc*AcceptedShare, acc)
	}
	// Throttles within DecreaseEvery are one event.
	c.add(DecreaseEvery / 2)
	p.Throttled()
	if !near(p.Rate(), acc*AcceptedShare) || p.Throttles() != 1 {
		t.Fatalf("rate %v after a second throttle within %v, want unchanged", p.Rate(), DecreaseEvery)
	}
	// Long after the last accepted answer, too few are recent: back off from the rate in force.
	c.add(2 * Recent)
	before := p.Rate()
	p.Throttled()
	if !near(p.Rate(), before*Backoff) || p.ceilingRate() != 0 || p.Throttles() != 2 {
		t.Fatalf("rate %v ceiling %v, want %v and none", p.Rate(), p.ceilingRate(), before*Backoff)
	}
}

func TestFirstThrottleWithFewAnswers(t *testing.T) {
	p, _ := newTest()
	p.Throttled()
	if !near(p.Rate(), startRate*Backoff) || p.ceilingRate() != 0 {
		t.Fatalf("rate %v ceiling %v, want %v and none", p.Rate(), p.ceilingRate(), startRate*Backoff)
	}
}

func TestGrowthIsFastFarFromTheCeilingAndSlowNearIt(t *testing.T) {
	p, c := newTest()
	p.Throttled()
	c.add(time.Second)
	before := p.Rate()
	p.Accepted() // no ceiling known: fast
	if !near(p.Rate(), before*(1+FastIncrease)) {
		t.Errorf("no ceiling: rate %v, want %v", p.Rate(), before*(1+FastIncrease))
	}
	p.mu.Lock()
	p.rate, p.ceiling = 10, 100 // far below
	p.mu.Unlock()
	p.lastDecrease = c.now() // a recent throttle
	c.add(time.Second)
	p.Accepted()
	if !near(p.Rate(), 10*(1+FastIncrease)) {
		t.Errorf("far from the ceiling: rate %v, want %v", p.Rate(), 10*(1+FastIncrease))
	}
	p.mu.Lock()
	p.rate = 95 // near
	p.mu.Unlock()
	c.add(time.Second)
	p.Accepted()
	if !near(p.Rate(), 95*(1+IncreasePerSecond)) {
		t.Errorf("near the ceiling: rate %v, want %v", p.Rate(), 95*(1+IncreasePerSecond))
	}
	// Long without a throttle, the ceiling no longer holds the rate down.
	c.add(ProbeAfter)
	before = p.Rate()
	p.Accepted()
	if want := before * (1 + FastIncrease*ProbeAfter.Seconds()); !near(p.Rate(), want) {
		t.Errorf("after %v without a throttle: rate %v, want %v", ProbeAfter, p.Rate(), want)
	}
}

func TestWaitSpacesRequests(t *testing.T) {
	p, c := newTest()
	p.mu.Lock()
	p.rate = 50
	p.mu.Unlock()
	ctx := canceled() // reserve slots without sleeping
	start := c.now()
	for range 10 {
		p.Wait(ctx)
	}
	if got, want := p.nextAt().Sub(start), 200*time.Millisecond; got != want {
		t.Errorf("10 slots at 50/s end %v after the first, want %v", got, want)
	}
}

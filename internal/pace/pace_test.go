package pace_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/picbucket/picbucket/internal/pace"
)

// The thresholds of TestLearnsTheLimit. Measured with this simulation
// (seeds 1-5, 8 and 16 workers, latency 2 ms + up to 2 ms): at most 6.6 %
// of the answers throttled (token bucket, limit 1, 16 workers: the first
// burst of 16 alone is 15 throttles of a 400-request run) and at least
// 0.86 of the limit accepted (token bucket, limit 5: the first throttles
// only show its burst of one, so the pacer learns the rate by growing).
// Slower networks cost more: with latency 30 ms the worst were 6.4 % and
// 0.86; with 100 ms + up to 50 ms, 7.4 % and 0.82; with 200 ms + up to
// 100 ms, 9.9 % and 0.75. BenchmarkExplore reproduces these.
const (
	maxThrottledShare = 0.10
	minAcceptedShare  = 0.80
)

var caps = []float64{1, 2, 5, 20, 50, 100, 200, 500, 2000}

func newLimiter(kind string, qps float64) limiter {
	if kind == "token" {
		return newTokenBucket(qps, simStart)
	}
	return &slidingWindow{qps: qps}
}

// runLength is long enough for the first burst and the learning to be a
// small part: 40 s, or 400 requests at the limit.
func runLength(qps float64) time.Duration {
	return max(40*time.Second, time.Duration(400/qps*float64(time.Second)))
}

func TestLearnsTheLimit(t *testing.T) {
	for _, kind := range []string{"token", "window"} {
		for _, workers := range []int{8, 16} {
			for _, qps := range caps {
				t.Run(fmt.Sprintf("%s/%d workers/%g QPS", kind, workers, qps), func(t *testing.T) {
					t.Parallel()
					// Latency 2-4 ms: 8 workers could send 2,600 per second, above every limit.
					s := simulation{workers: workers, latency: 2 * time.Millisecond, jitter: 2 * time.Millisecond, duration: runLength(qps), seed: 1}
					r := s.run(newLimiter(kind, qps), func(now func() time.Time) *pace.Pacer { return pace.NewLimited(now, 0) })
					t.Logf("%d sent, %.1f%% throttled, accepted %.3f of the limit, %d throttle events, final rate %.3g",
						r.sent, 100*r.throttledShare(), r.acceptedRate()/qps, r.throttleEvents, r.finalRate)
					if r.throttledShare() > maxThrottledShare {
						t.Errorf("%.1f%% of the answers throttled, want at most %.0f%%", 100*r.throttledShare(), 100*maxThrottledShare)
					}
					if r.acceptedRate() < minAcceptedShare*qps {
						t.Errorf("accepted %.3g per second, want at least %.2f of the limit %g", r.acceptedRate(), minAcceptedShare, qps)
					}
				})
			}
		}
	}
}

func TestKnownLimitThrottlesNothing(t *testing.T) {
	for _, kind := range []string{"token", "window"} {
		for _, qps := range caps {
			t.Run(fmt.Sprintf("%s/%g QPS", kind, qps), func(t *testing.T) {
				t.Parallel()
				s := simulation{workers: 16, latency: 2 * time.Millisecond, jitter: 2 * time.Millisecond, duration: runLength(qps) / 2, seed: 1}
				r := s.run(newLimiter(kind, qps), func(now func() time.Time) *pace.Pacer { return pace.NewLimited(now, qps) })
				if r.throttled != 0 || r.throttleEvents != 0 {
					t.Errorf("%d throttled (%d events), want none", r.throttled, r.throttleEvents)
				}
				// The rate stays at Share of the limit, less the first
				// request's slot.
				if r.acceptedRate() < 0.97*pace.Share*qps {
					t.Errorf("accepted %.3g per second, want about %.3g", r.acceptedRate(), pace.Share*qps)
				}
				if got := r.finalRate; got != pace.Share*qps {
					t.Errorf("final rate %v, want %v", got, pace.Share*qps)
				}
			})
		}
	}
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *clock { return &clock{t: simStart} }

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestUnlimitedUntilThrottled(t *testing.T) {
	c := newClock()
	p := pace.NewLimited(c.now, 0)
	for range 100 {
		if d, ok := p.Reserve(); d != 0 || !ok {
			t.Fatalf("Reserve = %v, %v; want an immediate start", d, ok)
		}
		if err := p.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		p.Accepted()
		c.add(time.Millisecond)
	}
	if p.Rate() != 0 || p.Throttles() != 0 {
		t.Fatalf("rate %v, %d throttles after no throttle; want unlimited", p.Rate(), p.Throttles())
	}
}

func TestReserveSpacesStartsWithinTheHorizon(t *testing.T) {
	c := newClock()
	p := pace.NewLimited(c.now, 50/pace.Share) // 50 per second: 20 ms apart
	if !near(p.Rate(), 50) {
		t.Fatalf("rate %v, want 50", p.Rate())
	}
	// Starts are booked up to pace.Hold (100 ms) ahead.
	for i := range 6 {
		d, ok := p.Reserve()
		if want := time.Duration(i) * 20 * time.Millisecond; d != want || !ok {
			t.Fatalf("start %d: Reserve = %v, %v; want %v, booked", i, d, ok, want)
		}
	}
	// The next one, 120 ms away, is not booked: ask again in 20 ms.
	if d, ok := p.Reserve(); d != 20*time.Millisecond || ok {
		t.Fatalf("start 6: Reserve = %v, %v; want 20ms, not booked", d, ok)
	}
	c.add(20 * time.Millisecond)
	if d, ok := p.Reserve(); d != 100*time.Millisecond || !ok {
		t.Fatalf("start 6 asked again: Reserve = %v, %v; want 100ms, booked", d, ok)
	}
}

func TestWaitReturnsAtOnceWhenTheStartIsPastTheDeadline(t *testing.T) {
	c := newClock()
	p := pace.NewLimited(c.now, 1/(60*pace.Share)) // 1 per minute
	if err := p.Wait(context.Background()); err != nil {
		t.Fatalf("first Wait: %v", err)
	}
	// The next start is a minute away on the Pacer's clock, past a
	// deadline 10 s away: Wait must say so without waiting for the
	// deadline. (10 s, not the 50 ms it was: a 50 ms stall under -race on
	// a busy machine made "Wait waited for the deadline" fail.)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := p.Wait(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait = %v, want an error matching context.DeadlineExceeded", err)
	}
	if ctx.Err() != nil {
		t.Fatalf("Wait waited for the deadline")
	}
	// Nothing was booked: the start a minute away is still the next one.
	if d, ok := p.Reserve(); d != time.Minute || !ok {
		t.Fatalf("Reserve after the refused Wait = %v, %v; want 1m, booked", d, ok)
	}

	canceled, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if err := p.Wait(canceled); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait(canceled) = %v, want context.Canceled", err)
	}
	if err := pace.NewLimited(c.now, 0).Wait(canceled); !errors.Is(err, context.Canceled) {
		t.Fatalf("unlimited Wait(canceled) = %v, want context.Canceled", err)
	}
}

func TestThrottleAnchorsToTheAcceptedRate(t *testing.T) {
	c := newClock()
	p := pace.NewLimited(c.now, 0)
	for range 50 { // accepted 20 ms apart: 50 per second
		c.add(20 * time.Millisecond)
		p.Reserve()
		p.Accepted()
	}
	c.add(time.Millisecond)
	p.Throttled()
	// 50 accepted in the last second.
	if want := pace.Share * 50; !near(p.Rate(), want) || p.Throttles() != 1 {
		t.Fatalf("rate %v, %d throttles; want %v, 1", p.Rate(), p.Throttles(), want)
	}
	// Throttles right after are answers to requests sent before: the same event.
	c.add(pace.Hold / 2)
	p.Throttled()
	if want := pace.Share * 50; !near(p.Rate(), want) || p.Throttles() != 1 {
		t.Fatalf("after a second throttle within the hold: rate %v, %d throttles; want %v, 1", p.Rate(), p.Throttles(), want)
	}
}

func TestGrowthIsFastBelowTheCeilingAndSlowNearIt(t *testing.T) {
	c := newClock()
	p := pace.NewLimited(c.now, 0)
	accept := func(n int) { // n answers accepted 10 ms apart
		for range n {
			c.add(10 * time.Millisecond)
			p.Accepted()
		}
	}
	accept(100)
	p.Throttled() // unlimited: no ceiling yet
	r0 := p.Rate()
	// Growth comes with starts booked while no throttle is pending.
	c.add(time.Second)
	if _, ok := p.Reserve(); !ok {
		t.Fatal("start not booked")
	}
	if want := r0 * (1 + pace.FastStep); !near(p.Rate(), want) {
		t.Fatalf("no ceiling known: rate %v after a start, want %v", p.Rate(), want)
	}
	// A throttle while pacing, the first in a while: at least Share² of
	// the rate in force, which becomes the ceiling.
	r1 := p.Rate()
	accept(50)
	p.Throttled()
	if want := pace.Share * pace.Share * r1; !near(p.Rate(), want) {
		t.Fatalf("after a throttle at %v with 50 per second accepted: rate %v, want %v", r1, p.Rate(), want)
	}
	r2 := p.Rate()
	c.add(time.Second)
	p.Reserve()
	if want := r2 * (1 + pace.SlowStep); !near(p.Rate(), want) {
		t.Fatalf("near the ceiling: rate %v after a start, want %v", p.Rate(), want)
	}
	// Growth per second is bounded.
	r3 := p.Rate()
	c.add(time.Millisecond)
	p.Reserve()
	if want := r3 * (1 + pace.SlowPerSecond/1000); !near(p.Rate(), want) {
		t.Fatalf("a start 1 ms after the last: rate %v, want %v", p.Rate(), want)
	}
}

func TestAThrottleSoonAfterAnotherAnchorsToTheAcceptedRate(t *testing.T) {
	c := newClock()
	p := pace.NewLimited(c.now, 0)
	for range 100 { // 100 per second
		c.add(10 * time.Millisecond)
		p.Accepted()
	}
	p.Throttled()
	// 950 ms later, only the answers of the last 50 ms of that second are
	// within the span: 5 per second. The rate in force does not hold the
	// rate up: the estimate it gave was too high.
	c.add(950 * time.Millisecond)
	p.Throttled()
	if want := pace.Share * 5; !near(p.Rate(), want) || p.Throttles() != 2 {
		t.Fatalf("rate %v, %d throttles; want %v, 2", p.Rate(), p.Throttles(), want)
	}
}

func TestThrottleWithNothingAccepted(t *testing.T) {
	c := newClock()
	p := pace.NewLimited(c.now, 0)
	for range 40 { // started 25 ms apart, answered with errors the Pacer does not see
		c.add(25 * time.Millisecond)
		p.Reserve()
	}
	p.Throttled()
	if want := pace.Share * 40 / 2; !near(p.Rate(), want) {
		t.Fatalf("rate %v, want %v: Share of half the 40 starts of the last second", p.Rate(), want)
	}
	// Paced, with nothing accepted still, a throttle after the hold halves the rate.
	r := p.Rate()
	c.add(2 * time.Second)
	p.Throttled()
	if !near(p.Rate(), r/2) || p.Throttles() != 2 {
		t.Fatalf("rate %v, %d throttles; want %v, 2", p.Rate(), p.Throttles(), r/2)
	}
}

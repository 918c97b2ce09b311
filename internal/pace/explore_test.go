package pace_test

import (
	"os"
	"testing"
	"time"

	"github.com/picbucket/picbucket/internal/pace"
)

// BenchmarkExplore measures the worst throttled share and accepted rate
// over the table of TestLearnsTheLimit for seeds 1-5 and a latency of your
// choice; it is how the thresholds of TestLearnsTheLimit were chosen. The
// time is simulated, so one iteration takes a few seconds of CPU whatever
// the latency:
//
//	LATENCY=100ms JITTER=50ms go test -run '^$' -bench Explore -benchtime 1x ./internal/pace/
//
// It reports worst-throttled-% (the largest share of answers throttled, in
// percent) and worst-accepted/limit (the smallest accepted rate as a share
// of the limit). Limits above 0.8 of what the workers could send at that
// latency are left out: they measure the workers, not the pacer.
func BenchmarkExplore(b *testing.B) {
	lat, err := time.ParseDuration(os.Getenv("LATENCY"))
	if err != nil {
		lat = 2 * time.Millisecond
	}
	jit, err := time.ParseDuration(os.Getenv("JITTER"))
	if err != nil {
		jit = 0
	}
	var worstThrottled, worstAccepted float64
	for range b.N {
		worstThrottled, worstAccepted = explore(b, lat, jit)
	}
	b.ReportMetric(100*worstThrottled, "worst-throttled-%")
	b.ReportMetric(worstAccepted, "worst-accepted/limit")
	b.Logf("latency %s + up to %s: worst throttled %.1f%%, worst accepted %.3f of the limit", lat, jit, 100*worstThrottled, worstAccepted)
}

// explore runs the table once and returns the worst throttled share and the
// worst accepted rate as a share of the limit.
func explore(b *testing.B, lat, jit time.Duration) (worstThrottled, worstAccepted float64) {
	worstAccepted = 1.0
	for seed := uint64(1); seed <= 5; seed++ {
		for _, kind := range []string{"token", "window"} {
			for _, workers := range []int{8, 16} {
				for _, qps := range caps {
					if float64(workers)/(lat+jit/2).Seconds() < qps/0.8 {
						continue
					}
					s := simulation{workers: workers, latency: lat, jitter: jit, duration: runLength(qps), seed: seed}
					r := s.run(newLimiter(kind, qps), func(now func() time.Time) *pace.Pacer { return pace.NewLimited(now, 0) })
					if sh := r.throttledShare(); sh > worstThrottled {
						worstThrottled = sh
						b.Logf("worst throttled so far: %s, %d workers, %g QPS, seed %d: %.1f%%", kind, workers, qps, seed, 100*sh)
					}
					if a := r.acceptedRate() / qps; a < worstAccepted {
						worstAccepted = a
						b.Logf("worst accepted so far: %s, %d workers, %g QPS, seed %d: %.3f of the limit", kind, workers, qps, seed, a)
					}
				}
			}
		}
	}
	return worstThrottled, worstAccepted
}

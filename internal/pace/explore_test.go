package pace_test

import (
	"os"
	"testing"
	"time"

	"github.com/picbucket/picbucket/internal/pace"
)

// TestExplore measures the worst throttled share and accepted rate over
// the table of TestLearnsTheLimit for seeds 1-5 and a latency of your
// choice; it is how the thresholds were chosen. It runs only when asked:
//
//	PACE_EXPLORE=1 LATENCY=100ms JITTER=50ms go test -run TestExplore -v ./internal/pace/
//
// Limits above 0.8 of what the workers could send at that latency are
// left out: they measure the workers, not the pacer.
func TestExplore(t *testing.T) {
	if os.Getenv("PACE_EXPLORE") == "" {
		t.Skip("set PACE_EXPLORE=1 (and LATENCY, JITTER) to run")
	}
	lat, err := time.ParseDuration(os.Getenv("LATENCY"))
	if err != nil {
		lat = 2 * time.Millisecond
	}
	jit, err := time.ParseDuration(os.Getenv("JITTER"))
	if err != nil {
		jit = 0
	}
	worstThrottled, worstAccepted := 0.0, 1.0
	for seed := uint64(1); seed <= 5; seed++ {
		for _, kind := range []string{"token", "window"} {
			for _, workers := range []int{8, 16} {
				for _, qps := range caps {
					if float64(workers)/(lat+jit/2).Seconds() < qps/0.8 {
						continue
					}
					s := simulation{workers: workers, latency: lat, jitter: jit, duration: runLength(qps), seed: seed}
					r := s.run(newLimiter(kind, qps), func(now func() time.Time) *pace.Pacer { return pace.New(now) })
					if sh := r.throttledShare(); sh > worstThrottled {
						worstThrottled = sh
						t.Logf("worst throttled so far: %s, %d workers, %g QPS, seed %d: %.1f%%", kind, workers, qps, seed, 100*sh)
					}
					if a := r.acceptedRate() / qps; a < worstAccepted {
						worstAccepted = a
						t.Logf("worst accepted so far: %s, %d workers, %g QPS, seed %d: %.3f of the limit", kind, workers, qps, seed, a)
					}
				}
			}
		}
	}
	t.Logf("latency %s + up to %s: worst throttled %.1f%%, worst accepted %.3f of the limit", lat, jit, 100*worstThrottled, worstAccepted)
}

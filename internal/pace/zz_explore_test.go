package pace_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/picbucket/picbucket/internal/pace"
)

func TestExplore(t *testing.T) {
	if os.Getenv("EXPLORE") == "" {
		t.Skip()
	}
	lat, _ := time.ParseDuration(os.Getenv("LAT"))
	jit, _ := time.ParseDuration(os.Getenv("JIT"))
	var worstT, worstA float64 = 0, 9
	for seed := 1; seed <= 5; seed++ {
		for _, kind := range []string{"token", "window"} {
			for _, w := range []int{8, 16} {
				for _, c := range caps {
					demand := float64(w) / (lat + jit/2).Seconds()
					if demand < 1.2*c {
						continue
					}
					s := simulation{workers: w, latency: lat, jitter: jit, duration: runLength(c), seed: uint64(seed)}
					r := s.run(newLimiter(kind, c), func(now func() time.Time) *pace.Pacer { return pace.New(now) })
					if r.throttledShare() > worstT {
						worstT = r.throttledShare()
						fmt.Printf("worst thr %s w%d c%g seed%d: %.3f\n", kind, w, c, seed, worstT)
					}
					if a := r.acceptedRate() / c; a < worstA {
						worstA = a
						fmt.Printf("worst acc %s w%d c%g seed%d: %.3f\n", kind, w, c, seed, worstA)
					}
				}
			}
		}
	}
	fmt.Printf("LAT %v JIT %v: worst throttled %.3f, worst accepted %.3f\n", lat, jit, worstT, worstA)
}

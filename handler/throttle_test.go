package handler

import (
	"testing"
	"time"

	"github.com/picbucket/picbucket/internal/emulator"
)

// TestThrottledRunsFailNoBucket: a reconciliation of 60 buckets against a
// service capped at 20 requests per second, with each kind of limiter a
// service may use. Throttled answers wait for the pacer instead of spending
// the buckets' attempts: every bucket ends enabled, none failed.
func TestThrottledRunsFailNoBucket(t *testing.T) {
	for _, kind := range []string{emulator.LimiterWindow, emulator.LimiterToken} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			h, emu, _ := newTest(t, emulator.Options{QPS: 20, Limiter: kind, Latency: 5 * time.Millisecond}, 60,
				map[string]string{"PICBUCKET_CONCURRENCY": "8"})
			res, err := h.Handle(ctxWithTimeout(t, 60*time.Second), timer)
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			st := emu.Stats()
			t.Logf("%s at 20 QPS: %d requests, %d throttled, summary %+v", kind, st.Total, st.Throttled, res.Summary)
			if res.Summary.Enabled != 60 || res.Summary.Failed != 0 || res.Summary.Deferred != 0 {
				t.Errorf("summary %+v: want all 60 enabled", res.Summary)
			}
			for _, b := range res.Results {
				if b.Attempts < 1 {
					t.Errorf("%s: %d attempts", b.Bucket, b.Attempts)
				}
			}
		})
	}
}

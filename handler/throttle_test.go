package handler

import (
	"strings"
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

// TestThrottledRunDefersAtTheDeadline: at 5 requests per second, 60 buckets
// cannot be done in 3 seconds. The unfinished ones are deferred with the
// reason, none failed, and the invocation succeeds.
func TestThrottledRunDefersAtTheDeadline(t *testing.T) {
	t.Parallel()
	h, emu, _ := newTest(t, emulator.Options{QPS: 5, Limiter: emulator.LimiterWindow}, 60,
		map[string]string{"PICBUCKET_CONCURRENCY": "8", "PICBUCKET_DEADLINE_MARGIN": "500ms"})
	res, err := h.Handle(ctxWithTimeout(t, 3*time.Second), timer)
	if err != nil {
		t.Fatalf("err = %v: deferral is no failure", err)
	}
	s := res.Summary
	t.Logf("summary %+v, %d requests, %d throttled", s, emu.Stats().Total, emu.Stats().Throttled)
	if s.Failed != 0 || s.Deferred == 0 || s.Enabled == 0 || s.Enabled+s.Deferred != 60 {
		t.Errorf("summary %+v: want some enabled, the rest deferred, none failed", s)
	}
	for _, b := range res.Results {
		if b.Outcome == Deferred && !strings.Contains(b.Reason, "deadline") && !strings.Contains(b.Reason, "throttled") {
			t.Errorf("%s deferred for %q", b.Bucket, b.Reason)
		}
	}
	on := 0
	for _, b := range emu.Buckets() {
		if b.Enabled {
			on++
		}
	}
	if on != s.Enabled {
		t.Errorf("the emulator has %d buckets enabled, the result says %d", on, s.Enabled)
	}
}

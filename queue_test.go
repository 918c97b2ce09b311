package main_test

// Issue 19, item 5: CI's queue answers (403 QueueSaturated, QueuePaused)
// never count toward an account-wide refusal, through the SCF runtime
// protocol against the COS/CI emulator.

import (
	"strings"
	"testing"

	"github.com/picbucket/picbucket/handler"
	"github.com/picbucket/picbucket/internal/emulator"
)

// TestFullQueueIsNoRefusal: every Create answers 403 QueueSaturated, more
// times than the retries. Old code counted the 403 toward the streak and
// stopped the run with "the account refuses it … CAM policy", buckets
// failed. Now the invocation succeeds, every bucket deferred naming CI's
// queue, and each bucket got its Create (no stop).
func TestFullQueueIsNoRefusal(t *testing.T) {
	f := start(t, emulator.Options{}, "PICBUCKET_CONCURRENCY=8")
	f.emu.SeedDemo(appID, 8, []string{"ap-guangzhou"}, 0)
	f.emu.Inject(emulator.Fault{Action: emulator.ActionCreatePicProcessBucket, Status: 403, Code: "QueueSaturated", Times: 1 << 20})
	res, msg := f.invoke(hourly)
	if res == nil {
		t.Fatalf("error %q: want the invocation to succeed with the buckets deferred", msg)
	}
	if res.Summary.Deferred != 8 || res.Summary.Failed != 0 {
		t.Errorf("summary %+v: want every bucket deferred", res.Summary)
	}
	for _, b := range res.Results {
		if b.Outcome != handler.Deferred || !strings.Contains(b.Reason, "CI's queue is full (QueueSaturated)") {
			t.Errorf("%s: %s %q, want deferred naming CI's queue", b.Bucket, b.Outcome, b.Reason)
		}
	}
	if strings.Contains(f.logs(), "refuses it") {
		t.Error("a log line takes the full queue for the account's refusal")
	}
	for _, b := range f.emu.Buckets() {
		if count(f.emu, emulator.ActionCreatePicProcessBucket, b.Name) == 0 {
			t.Errorf("%s: no Create: the run stopped", b.Name)
		}
	}
}

package handler

import (
	"strings"
	"testing"
	"time"

	"github.com/picbucket/picbucket/internal/emulator"
)

// TestAccountWideRefusalStopsTheRun: every Create answers 403
// AccessDenied (the CAM policy lacks ci:CreatePicProcessBucket). After the
// same code answers 3 buckets in a row the run stops starting buckets: 200
// buckets at concurrency 8 cost a few dozen requests, the rest are
// deferred, and the error names the code and the fix.
func TestAccountWideRefusalStopsTheRun(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 200, map[string]string{"PICBUCKET_CONCURRENCY": "8"})
	emu.Inject(emulator.Fault{Action: emulator.ActionCreatePicProcessBucket, Status: 403, Code: "AccessDenied", Times: 1 << 20})
	res, err := h.Handle(ctxWithTimeout(t, 20*time.Second), timer)
	if err == nil || !strings.Contains(err.Error(), "AccessDenied") || !strings.Contains(err.Error(), "CAM policy") {
		t.Fatalf("err = %v, want one naming AccessDenied and the CAM policy", err)
	}
	st := emu.Stats()
	creates, describes := st.ByAction[emulator.ActionCreatePicProcessBucket], st.ByAction[emulator.ActionDescribePicProcessBuckets]
	t.Logf("%d Creates, %d Describes (2 listings + read-backs), %d requests in all; summary %+v", creates, describes, st.Total, res.Summary)
	if st.Total > 40 {
		t.Errorf("%d requests for 200 refused buckets, want at most a few dozen", st.Total)
	}
	s := res.Summary
	if s.Failed+s.Deferred != 200 || s.Deferred < 180 {
		t.Errorf("summary %+v: want the buckets not started deferred", s)
	}
	for _, b := range res.Results {
		if b.Outcome == Deferred && (!strings.Contains(b.Reason, "answered AccessDenied on") || !strings.Contains(b.Reason, "the account refuses it")) {
			t.Errorf("%s deferred for %q (%+v)", b.Bucket, b.Reason, b)
			break
		}
	}
}

// TestRefusalStreakNeedsTheSameCode: refusals with different codes, or
// with a success between them, do not stop the run.
func TestRefusalStreakNeedsTheSameCode(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 6, map[string]string{"PICBUCKET_CONCURRENCY": "1"})
	// photos-00 and -02 ... are in ap-guangzhou, the odd ones in ap-shanghai.
	for i, code := range []string{"AccessDenied", "InvalidArgument", "AccessDenied", "InvalidArgument"} {
		emu.Inject(emulator.Fault{Action: emulator.ActionCreatePicProcessBucket, Bucket: demoName(i), Status: 403, Code: code})
	}
	res, err := h.Handle(ctxWithTimeout(t, 20*time.Second), timer)
	if err == nil || !strings.Contains(err.Error(), "4 of 6 buckets failed") {
		t.Fatalf("err = %v, want the 4 failures reported, not a stop", err)
	}
	if res.Summary.Failed != 4 || res.Summary.Enabled != 2 || res.Summary.Deferred != 0 {
		t.Errorf("summary %+v", res.Summary)
	}
}

func demoName(i int) string { return "photos-0" + string(rune('0'+i)) + "-" + appID }

// TestThrottledDescribeDefersItsRegion: ap-shanghai's enabled list stays
// throttled past the time left. Its buckets are deferred, no Create goes to
// ap-shanghai, and the invocation succeeds. (The throttles slow the whole
// account's pace, so ap-guangzhou's buckets are enabled or deferred.)
func TestThrottledDescribeDefersItsRegion(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 10, map[string]string{"PICBUCKET_DEADLINE_MARGIN": "500ms"})
	emu.Inject(emulator.Fault{Action: emulator.ActionDescribePicProcessBuckets, Region: "ap-shanghai", Status: 429, Code: "SlowDown", Times: 1 << 20})
	res, err := h.Handle(ctxWithTimeout(t, 3*time.Second), timer)
	if err != nil {
		t.Fatalf("err = %v: deferral is no failure", err)
	}
	for _, b := range res.Results {
		switch b.Region {
		case "ap-shanghai":
			if b.Outcome != Deferred || !strings.Contains(b.Reason, "throttled") {
				t.Errorf("%s@%s: %s %q, want deferred for throttling", b.Bucket, b.Region, b.Outcome, b.Reason)
			}
		case "ap-guangzhou":
			if b.Outcome != Enabled && b.Outcome != Deferred {
				t.Errorf("%s@%s: %s, want enabled or deferred", b.Bucket, b.Region, b.Outcome)
			}
		}
	}
	for _, r := range emu.Requests() {
		if r.Action == emulator.ActionCreatePicProcessBucket && strings.Contains(r.Host, ".ap-shanghai.") {
			t.Errorf("a Create went to %s", r.Host)
		}
	}
	if res.Summary.Failed != 0 || res.Summary.Deferred < 5 || res.Summary.Enabled+res.Summary.Deferred != 10 {
		t.Errorf("summary %+v, want ap-shanghai's 5 deferred and none failed", res.Summary)
	}
}

// TestListingRefusedDefersItsRegion: a permission error on a region's
// Describe does not lose its buckets: they are deferred, not turned into
// Creates that would be refused too.
func TestListingRefusedDefersItsRegion(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 4, nil)
	emu.Inject(emulator.Fault{Action: emulator.ActionDescribePicProcessBuckets, Region: "ap-shanghai", Status: 403, Code: "AccessDenied", Times: 100})
	res, err := h.Handle(ctxWithTimeout(t, 10*time.Second), timer)
	if err != nil {
		t.Fatalf("err = %v", err)
	}
	if res.Summary.Deferred != 2 || res.Summary.Enabled != 2 {
		t.Errorf("summary %+v, want ap-shanghai's 2 buckets deferred", res.Summary)
	}
}

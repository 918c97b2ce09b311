package main_test

// Per-bucket judgement and owners' tags, through the SCF RPC path against
// the COS/CI emulator: a bucket that can never be enabled costs only
// itself, only a refusal proven account-wide stops a run, buckets unbound
// from CI by hand are left alone, the deadline defers, and bucket owners
// decide by tag.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/picbucket/picbucket/handler"
	"github.com/picbucket/picbucket/internal/emulator"
)

// hourly is the timer event.
var hourly = []byte(`{"Type":"Timer","TriggerName":"hourly","Time":"2026-12-06T00:15:00Z","Message":""}`)

// demo returns the name of demo bucket i of SeedDemo (fewer than 100).
func demo(i int) string { return fmt.Sprintf("photos-%02d-%s", i, appID) }

// count returns how many logged requests have action (and, if set, go to bucket's host).
func count(emu *emulator.Server, action, bucket string) int {
	n := 0
	for _, r := range emu.Requests() {
		if r.Action == action && (bucket == "" || strings.HasPrefix(r.Host, bucket+".")) {
			n++
		}
	}
	return n
}

// TestStuckBucketsCostOnlyThemselves: ten missing buckets, one worker, the
// first three (in the order they are worked on) answering the same unknown
// 4xx on every Create. The seven others are enabled in the same run; the
// three fail, and the invocation's error names them.
func TestStuckBucketsCostOnlyThemselves(t *testing.T) {
	f := start(t, emulator.Options{}, "PICBUCKET_CONCURRENCY=1")
	f.emu.SeedDemo(appID, 10, []string{"ap-guangzhou", "ap-shanghai"}, 0)
	stuck := []string{demo(0), demo(2), demo(4)} // ap-guangzhou, listed first
	for _, b := range stuck {
		f.emu.Inject(emulator.Fault{Action: emulator.ActionCreatePicProcessBucket, Bucket: b, Status: 400, Code: "InvalidArgument", Times: 1 << 20})
	}
	for run := 1; run <= 2; run++ {
		res, msg := f.invoke(hourly)
		if res != nil || msg == "" {
			t.Fatalf("run %d: want the invocation failed for the stuck buckets, got %+v", run, res)
		}
		for _, b := range stuck {
			if !strings.Contains(msg, b) {
				t.Errorf("run %d: error %q does not name %s", run, msg, b)
			}
		}
		if strings.Contains(msg, "CAM") || strings.Contains(msg, "stopped") {
			t.Errorf("run %d: error %q blames the account", run, msg)
		}
	}
	for i := range 10 {
		want := i != 0 && i != 2 && i != 4
		if f.emu.Enabled(demo(i)) != want {
			t.Errorf("%s enabled = %v, want %v", demo(i), !want, want)
		}
	}
	// The second run sent Creates only to the three stuck buckets.
	if n := count(f.emu, emulator.ActionCreatePicProcessBucket, ""); n != 7+3+3 {
		t.Errorf("%d Creates over two runs, want 13 (7 + 3 stuck, then the 3 stuck again)", n)
	}
}

// TestBucketScopedAccessDenied: a CAM policy scoped to some bucket names
// refuses the first three Creates with AccessDenied; the seven after them
// are allowed, and are enabled in the same run.
func TestBucketScopedAccessDenied(t *testing.T) {
	// One region, so that the order the buckets are worked in is the
	// listing's, and the three refused ones come first, in a row. (Over two
	// regions the order depended on which region's listing answered first,
	// and the streak formed only some of the time.)
	f := start(t, emulator.Options{}, "PICBUCKET_CONCURRENCY=1")
	f.emu.SeedDemo(appID, 10, []string{"ap-guangzhou"}, 0)
	for _, b := range []string{demo(0), demo(1), demo(2)} {
		f.emu.Inject(emulator.Fault{Action: emulator.ActionCreatePicProcessBucket, Bucket: b, Status: 403, Code: "AccessDenied", Times: 1 << 20})
	}
	res, msg := f.invoke(hourly)
	if res != nil {
		t.Fatalf("want the invocation failed for the three refused buckets, got %+v", res.Summary)
	}
	if !strings.Contains(msg, "3 of 10 buckets failed") {
		t.Errorf("error %q, want the three failures reported, not a stop", msg)
	}
	on := 0
	for _, b := range f.emu.Buckets() {
		if b.Enabled {
			on++
		}
	}
	if on != 7 {
		t.Errorf("%d buckets enabled, want the 7 the policy allows", on)
	}
	if !strings.Contains(f.logs(), "trying a few across the rest of the work") {
		t.Error("no log line says the streak was being confirmed")
	}
}

// TestEveryBucketRefused: 200 buckets whose Creates all answer
// AccessDenied. The streak is confirmed account-wide by probes and the run
// stops: at most 40 requests in all, the rest deferred, and the error names
// the code and the CAM policy.
func TestEveryBucketRefused(t *testing.T) {
	f := start(t, emulator.Options{}, "PICBUCKET_CONCURRENCY=8")
	f.emu.SeedDemo(appID, 200, []string{"ap-guangzhou", "ap-shanghai"}, 0)
	f.emu.Inject(emulator.Fault{Action: emulator.ActionCreatePicProcessBucket, Status: 403, Code: "AccessDenied", Times: 1 << 20})
	res, msg := f.invoke(hourly)
	if res != nil || !strings.Contains(msg, "AccessDenied") || !strings.Contains(msg, "CAM policy") {
		t.Fatalf("result %v, error %q: want an error naming AccessDenied and the CAM policy", res, msg)
	}
	st := f.emu.Stats()
	t.Logf("%d requests (%d Creates)", st.Total, st.ByAction[emulator.ActionCreatePicProcessBucket])
	if st.Total > 40 {
		t.Errorf("%d requests for 200 refused buckets, want at most 40", st.Total)
	}
	deferred := strings.Count(f.logs(), `"outcome":"deferred"`)
	if deferred < 200-40 {
		t.Errorf("%d bucket lines deferred, want the buckets not started deferred", deferred)
	}
}

// TestUnboundBucketsSkipped: buckets unbound from CI by hand answer a code
// ending in UnBinded. Each is skipped with a reason saying how to bind it
// again; they count toward no stop (three in a row, one worker), the
// others are enabled and the invocation succeeds.
func TestUnboundBucketsSkipped(t *testing.T) {
	f := start(t, emulator.Options{}, "PICBUCKET_CONCURRENCY=1")
	f.emu.SeedDemo(appID, 8, []string{"ap-guangzhou"}, 0)
	codes := map[string]string{demo(0): "PicBucketUnBinded", demo(1): "MediaBucketUnBinded", demo(2): "AIBucketUnbinded", demo(3): "1111"}
	for b, code := range codes {
		f.emu.Inject(emulator.Fault{Action: emulator.ActionCreatePicProcessBucket, Bucket: b, Status: 400, Code: code, Times: 1 << 20})
	}
	res, msg := f.invoke(hourly)
	if res == nil {
		t.Fatalf("invocation failed: %s", msg)
	}
	for _, b := range res.Results {
		_, unbound := codes[b.Bucket]
		switch {
		case unbound && (b.Outcome != handler.Skipped || !strings.Contains(b.Reason, "unbound from Cloud Infinite by hand") || !strings.Contains(b.Reason, "console")):
			t.Errorf("%s: %s %q, want skipped as unbound by hand, with how to bind it again", b.Bucket, b.Outcome, b.Reason)
		case !unbound && b.Outcome != handler.Enabled:
			t.Errorf("%s: %s, want enabled", b.Bucket, b.Outcome)
		}
	}
	if s := res.Summary; s.Skipped != 4 || s.Enabled != 4 || s.Failed+s.Deferred != 0 {
		t.Errorf("summary %+v", s)
	}
}

// TestNoSuchBucketWindowCutDefers: a bucket the event names that CI does
// not know yet answers NoSuchBucket; the deadline comes inside its
// visibility window: it is deferred, not skipped as missing. Through the
// binary, on the real clock, only the outcome is asserted; the exact count
// of Creates the window sends before the deadline is asserted on a fake
// clock (handler's TestNoSuchBucketWindowCutDefers).
func TestNoSuchBucketWindowCutDefers(t *testing.T) {
	f := start(t, emulator.Options{}, "PICBUCKET_DEADLINE_MARGIN=200ms")
	name := "fresh-" + appID
	f.emu.AddBucket(name, "ap-guangzhou", false)
	f.emu.Inject(emulator.Fault{Action: emulator.ActionCreatePicProcessBucket, Bucket: name, Status: 404, Code: "NoSuchBucket", Times: 1 << 20})
	res, msg := f.invokeWith([]byte(`{"buckets":[{"bucket":"`+name+`","region":"ap-guangzhou"}]}`), defaultCreds, 1500*time.Millisecond)
	if res == nil {
		t.Fatalf("invocation failed: %s", msg)
	}
	// Deferred for the window ("NoSuchBucket"), or, if a Create was still
	// in flight when the time ran out, for the deadline.
	if len(res.Results) != 1 || res.Results[0].Outcome != handler.Deferred ||
		(!strings.Contains(res.Results[0].Reason, "NoSuchBucket") && !strings.Contains(res.Results[0].Reason, "deadline")) {
		t.Fatalf("results %+v, want %s deferred inside the NoSuchBucket window", res.Results, name)
	}
	if n := count(f.emu, emulator.ActionCreatePicProcessBucket, name); n < 1 || n >= 5 {
		t.Errorf("%d Creates, want fewer than the window's 5", n)
	}
}

// seedTagged adds three missing buckets (tagged picbucket=off, tagged
// picbucket=on, untagged) and one enabled bucket tagged picbucket=off.
func seedTagged(emu *emulator.Server) (off, on, untagged, enabled string) {
	off, on, untagged, enabled = "optout-"+appID, "optin-"+appID, "plain-"+appID, "done-"+appID
	for _, b := range []string{off, on, untagged} {
		emu.AddBucket(b, "ap-guangzhou", false)
	}
	emu.AddBucket(enabled, "ap-guangzhou", true)
	emu.SetTags(off, map[string]string{"picbucket": "off", "team": "media"})
	emu.SetTags(on, map[string]string{"picbucket": "on"})
	emu.SetTags(enabled, map[string]string{"picbucket": "off"})
	return
}

// TestOwnersDecideByTag: PICBUCKET_SKIP_TAG and PICBUCKET_REQUIRE_TAG.
func TestOwnersDecideByTag(t *testing.T) {
	t.Run("skip tag", func(t *testing.T) {
		f := start(t, emulator.Options{}, "PICBUCKET_SKIP_TAG=picbucket=off")
		off, on, untagged, enabled := seedTagged(f.emu)
		res, msg := f.invoke(hourly)
		if res == nil {
			t.Fatalf("invocation failed: %s", msg)
		}
		if got := count(f.emu, emulator.ActionGetBucketTagging, ""); got != 3 {
			t.Errorf("%d tag reads, want exactly 3 (the missing buckets)", got)
		}
		if count(f.emu, emulator.ActionGetBucketTagging, enabled) != 0 {
			t.Errorf("the tags of %s, already enabled, were read", enabled)
		}
		for b, want := range map[string]int{off: 0, on: 1, untagged: 1} {
			if got := count(f.emu, emulator.ActionCreatePicProcessBucket, b); got != want {
				t.Errorf("%d Creates to %s, want %d", got, b, want)
			}
		}
		for _, b := range res.Results {
			if b.Bucket == off && (b.Outcome != handler.Skipped || !strings.Contains(b.Reason, "picbucket=off")) {
				t.Errorf("%s: %s %q, want skipped naming the tag", off, b.Outcome, b.Reason)
			}
		}
		for _, r := range f.emu.Requests() {
			if r.Action == emulator.ActionGetBucketTagging && (!r.SignatureValid || r.Token != defaultCreds.token) {
				t.Errorf("tag read to %s not signed with the function's key", r.Host)
			}
		}
	})
	t.Run("dry run reads tags too", func(t *testing.T) {
		f := start(t, emulator.Options{}, "PICBUCKET_SKIP_TAG=picbucket=off", "PICBUCKET_DRY_RUN=true")
		off, _, _, _ := seedTagged(f.emu)
		res, msg := f.invoke(hourly)
		if res == nil {
			t.Fatalf("invocation failed: %s", msg)
		}
		if res.Summary.WouldEnable != 2 || res.Summary.Skipped != 1 || count(f.emu, emulator.ActionCreatePicProcessBucket, "") != 0 {
			t.Errorf("summary %+v: want 2 would_enable and %s skipped, no Create", res.Summary, off)
		}
	})
	t.Run("no settings, no tag reads", func(t *testing.T) {
		f := start(t, emulator.Options{})
		seedTagged(f.emu)
		if res, msg := f.invoke(hourly); res == nil || res.Summary.Enabled != 3 {
			t.Fatalf("result %v, %s: want the 3 missing enabled", res, msg)
		}
		if got := count(f.emu, emulator.ActionGetBucketTagging, ""); got != 0 {
			t.Errorf("%d tag reads without a tag setting", got)
		}
	})
	t.Run("require tag", func(t *testing.T) {
		f := start(t, emulator.Options{}, "PICBUCKET_REQUIRE_TAG=picbucket")
		off, on, untagged, _ := seedTagged(f.emu)
		res, msg := f.invoke(hourly)
		if res == nil {
			t.Fatalf("invocation failed: %s", msg)
		}
		if !f.emu.Enabled(off) || !f.emu.Enabled(on) || f.emu.Enabled(untagged) {
			t.Errorf("enabled: %s %v, %s %v, %s %v; want only the buckets carrying the key",
				off, f.emu.Enabled(off), on, f.emu.Enabled(on), untagged, f.emu.Enabled(untagged))
		}
		if res.Summary.Filtered != 1 {
			t.Errorf("summary %+v: want the untagged bucket counted as filtered", res.Summary)
		}
		// Named by an event, a bucket lacking the tag is skipped, saying why.
		res, msg = f.invoke([]byte(`{"buckets":[{"bucket":"` + untagged + `","region":"ap-guangzhou"}]}`))
		if res == nil || len(res.Results) != 1 || res.Results[0].Outcome != handler.Skipped || !strings.Contains(res.Results[0].Reason, "lacks the tag picbucket") {
			t.Errorf("result %+v, %s: want %s skipped as lacking the tag", res, msg, untagged)
		}
	})
	t.Run("tag reads refused", func(t *testing.T) {
		f := start(t, emulator.Options{}, "PICBUCKET_SKIP_TAG=picbucket=off")
		seedTagged(f.emu)
		f.emu.Inject(emulator.Fault{Action: emulator.ActionGetBucketTagging, Status: 403, Code: "AccessDenied", Times: 1 << 20})
		res, msg := f.invoke(hourly)
		if res == nil {
			t.Fatalf("invocation failed: %s", msg)
		}
		if n := count(f.emu, emulator.ActionCreatePicProcessBucket, ""); n != 0 {
			t.Errorf("%d Creates for buckets whose tags could not be read", n)
		}
		if res.Summary.Deferred != 3 {
			t.Errorf("summary %+v: want the 3 deferred", res.Summary)
		}
		for _, b := range res.Results {
			if b.Outcome == handler.Deferred && !strings.Contains(b.Reason, "cos:GetBucketTagging") {
				t.Errorf("%s deferred for %q: want the missing permission named", b.Bucket, b.Reason)
			}
		}
	})
}

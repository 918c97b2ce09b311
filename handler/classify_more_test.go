package handler

// Classification cases no other handler test reaches: the binding age's
// slack, a throttle that reaches a Create's judgement without a cut, each
// fix a refusal names, and a refused key on a region's listing.

import (
	"strings"
	"testing"
	"time"

	"github.com/picbucket/picbucket/internal/cosapi"
	"github.com/picbucket/picbucket/internal/emulator"
)

// TestBindingAgeSlack: a 200 answer whose binding is less than 10 minutes
// older than the Create (clocks differ) counts as enabled now; an older
// one as enabled before.
func TestBindingAgeSlack(t *testing.T) {
	sent := time.Unix(1_700_000_000, 0)
	for _, tc := range []struct {
		age  time.Duration
		want Outcome
	}{
		{-time.Minute, Enabled}, // CI's clock ahead of ours
		{0, Enabled},
		{9 * time.Minute, Enabled},
		{11 * time.Minute, AlreadyEnabled},
		{30 * 24 * time.Hour, AlreadyEnabled},
	} {
		b := BucketResult{Bucket: "b-1250000000", Region: "ap-guangzhou"}
		createOutcome(&b, job{}, cosapi.Enabled{CreateTime: sent.Add(-tc.age)}, nil, false, sent, sent.Add(time.Second))
		if b.Outcome != tc.want {
			t.Errorf("binding %s older than the Create: %s, want %s", tc.age, b.Outcome, tc.want)
		}
	}
}

// TestThrottledCreateWithoutCut: a throttle that ends a Create's retries
// without the deadline (the loop gives throttles no attempt budget, so only
// a caller's own loop could) still defers the bucket, naming the code.
func TestThrottledCreateWithoutCut(t *testing.T) {
	b := BucketResult{Bucket: "b-1250000000", Region: "ap-guangzhou"}
	createOutcome(&b, job{}, cosapi.Enabled{}, answer(429, "SlowDown", ""), false, time.Time{}, time.Time{})
	if b.Outcome != Deferred || b.Reason != "throttled (SlowDown) until the time left ran out; the next run picks it up" || b.Code != "SlowDown" {
		t.Errorf("%+v", b)
	}
}

// TestFixFor: each refusal names its own fix.
func TestFixFor(t *testing.T) {
	for _, tc := range []struct{ op, code, want string }{
		{opCreate, "CIRoleNotExist", "authorize Cloud Infinite's service role"},
		{opTags, "CIRoleNotExist", "authorize Cloud Infinite's service role"},
		{opTags, "AccessDenied", "cos:GetBucketTagging"},
		{opTags, "UnauthorizedOperation", "cos:GetBucketTagging"},
		{opTags, "ResourceAccessDenied", "ci:CreatePicProcessBucket"},
		{opCreate, "AccessDenied", "ci:CreatePicProcessBucket"},
		{opCreate, "ResourceAccessDenied", "ci:CreatePicProcessBucket"},
		{opCreate, "UnauthorizedOperation", "ci:CreatePicProcessBucket"},
		{opCreate, "CINotActivated", "activate Cloud Infinite"},
		{opCreate, "ServiceNotActivated", "activate Cloud Infinite"},
		{opCreate, "Forbidden", "check the CAM policy"},
	} {
		got := fixFor(tc.op, tc.code)
		if !strings.Contains(got, tc.want) {
			t.Errorf("fixFor(%s, %s) = %q, want it to name %q", tc.op, tc.code, got, tc.want)
		}
		if tc.want != "cos:GetBucketTagging" && strings.Contains(got, "cos:GetBucketTagging") {
			t.Errorf("fixFor(%s, %s) = %q names the tag permission", tc.op, tc.code, got)
		}
	}
}

// TestListingDeferral: each failed listing that defers its region says why.
func TestListingDeferral(t *testing.T) {
	for _, tc := range []struct {
		err  error
		cut  bool
		want string
		ok   bool
	}{
		{answer(429, "SlowDown", ""), true, "stayed throttled until the time left ran out (SlowDown)", true},
		{answer(503, "ServiceUnavailable", ""), true, "was cut by the invocation deadline", true},
		{answer(400, "ExpiredToken", ""), false, "refused the credentials (ExpiredToken)", true},
		{answer(403, "AccessDenied", ""), false, "was refused (AccessDenied): grant", true},
		{answer(503, "ServiceUnavailable", ""), false, "", false},
		{answer(429, "SlowDown", ""), false, "", false},
	} {
		got, ok := listingDeferral("DescribePicProcessBuckets", tc.err, tc.cut)
		if ok != tc.ok || !strings.HasPrefix(got, tc.want) {
			t.Errorf("listingDeferral(%v, cut %v) = %q, %v; want %q, %v", tc.err, tc.cut, got, ok, tc.want, tc.ok)
		}
	}
}

// TestRefusedKeyOnAListingStopsTheRun: a region's listing answers
// ExpiredToken: its buckets are deferred naming the refusal, the run
// stops (no Create is sent with the refused key), and the invocation fails
// naming the code.
func TestRefusedKeyOnAListingStopsTheRun(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 6, map[string]string{"PICBUCKET_REGIONS": "ap-shanghai"})
	emu.Inject(emulator.Fault{Action: emulator.ActionDescribePicProcessBuckets, Status: 400, Code: "ExpiredToken", Times: 100})
	res, err := h.Handle(ctxWithTimeout(t, 10*time.Second), timer)
	if err == nil || !strings.Contains(err.Error(), "credentials refused (ExpiredToken)") {
		t.Fatalf("err = %v, want the run stopped on the refused key", err)
	}
	for _, b := range res.Results {
		if b.Outcome != Deferred || b.Reason != "not started: DescribePicProcessBuckets in ap-shanghai refused the credentials (ExpiredToken)" {
			t.Errorf("%+v", b)
		}
	}
	if res.Summary.Deferred != 3 || creates(emu, "") != 0 {
		t.Errorf("summary %+v, %d Creates: want ap-shanghai's 3 deferred, no Create", res.Summary, creates(emu, ""))
	}
}

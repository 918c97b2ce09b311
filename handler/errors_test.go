package handler

import (
	"strings"
	"testing"
	"time"

	"github.com/picbucket/picbucket/internal/emulator"
)

func TestUnknownAnswerIsReadBack(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 0, nil)
	emu.AddBucket("on-1250000000", "ap-guangzhou", true)
	emu.AddBucket("off-1250000000", "ap-guangzhou", false)
	for _, b := range []string{"on-1250000000", "off-1250000000"} {
		emu.Inject(emulator.Fault{Action: emulator.ActionCreatePicProcessBucket, Bucket: b, Status: 400, Code: "SomethingNew", Times: 1})
	}
	res, err := h.Handle(ctxWithTimeout(t, 10*time.Second), []byte(
		`{"buckets":[{"bucket":"on-1250000000","region":"ap-guangzhou"},{"bucket":"off-1250000000","region":"ap-guangzhou"}]}`))
	if err == nil || !strings.Contains(err.Error(), "off-1250000000") {
		t.Errorf("err = %v, want one naming off-1250000000", err)
	}
	got := map[string]BucketResult{}
	for _, b := range res.Results {
		got[b.Bucket] = b
	}
	if on := got["on-1250000000"]; on.Outcome != AlreadyEnabled || on.Attempts != 1 {
		t.Errorf("enabled bucket: %+v, want already_enabled after one Create and a read-back", on)
	}
	if off := got["off-1250000000"]; off.Outcome != Failed || off.Code != "SomethingNew" || off.Status != 400 || off.Attempts != 1 {
		t.Errorf("disabled bucket: %+v, want failed with code SomethingNew after one Create", off)
	}
	by := emu.Stats().ByAction
	if by["CreatePicProcessBucket"] != 2 || by["DescribePicProcessBuckets"] != 2 {
		t.Errorf("requests %v, want 2 Creates (not retried) and 2 read-backs", by)
	}
}

func TestListingFailureFailsTheInvocation(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 4, nil)
	emu.Inject(emulator.Fault{Action: emulator.ActionGetService, Status: 500, Code: "InternalError", Times: 1000})
	_, err := h.Handle(ctxWithTimeout(t, 10*time.Second), timer)
	if err == nil || !strings.Contains(err.Error(), "listing buckets") || !strings.Contains(err.Error(), "InternalError") {
		t.Fatalf("err = %v, want a listing error naming InternalError", err)
	}
	by := emu.Stats().ByAction
	if by["GetService"] != h.Retry.Attempts || by["CreatePicProcessBucket"] != 0 {
		t.Errorf("requests %v, want %d GetService attempts and no Create", by, h.Retry.Attempts)
	}
}

func TestDescribeFailureFallsBackToCreates(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 0, nil)
	seed(emu, map[string]int{"ap-guangzhou": 4}, map[string]int{"ap-guangzhou": 2})
	emu.Inject(emulator.Fault{Action: emulator.ActionDescribePicProcessBuckets, Status: 503, Code: "ServiceUnavailable", Times: 1000})
	res, err := h.Handle(ctxWithTimeout(t, 10*time.Second), timer)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Enabled != 2 || res.Summary.AlreadyEnabled != 2 {
		t.Errorf("summary %+v, want 2 enabled and 2 already enabled (told by the Create answers)", res.Summary)
	}
	if emu.Stats().ByAction["CreatePicProcessBucket"] != 4 {
		t.Errorf("%d Creates, want one per bucket of the region", emu.Stats().ByAction["CreatePicProcessBucket"])
	}
	if len(res.Notes) != 1 || !strings.Contains(res.Notes[0], "sending a Create for each") {
		t.Errorf("notes %q, want the fallback named", res.Notes)
	}
}

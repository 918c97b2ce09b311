package main_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/picbucket/picbucket/internal/ciservice"
	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/retry"
)

// TestOrganizationServices: the binary, through net/rpc, in an organization
// run without fan-out and PICBUCKET_SERVICES=pic,media: every reconciled
// account's buckets get both services, each pair with its own line carrying
// account and service, every request signed by the bucket owner's key.
func TestOrganizationServices(t *testing.T) {
	f := startOrg(t, "PICBUCKET_ACCOUNTS=org", "PICBUCKET_EXCLUDE_ACCOUNTS="+memberExcl+","+memberNoRol, "PICBUCKET_FANOUT=false",
		"PICBUCKET_SERVICES=pic,media")
	res, errMsg := f.invoke(readEvent(t, "timer.json"))
	if errMsg != "" {
		t.Fatalf("timer: %s\n%s", errMsg, f.out)
	}
	for _, name := range []string{"photos-1250000000", "old-1250000000", "a-1250000011", "b-1250000011", "c-1250000011", "d-1250000012"} {
		for _, id := range []ciservice.ID{ciservice.Pic, ciservice.Media} {
			if !f.emu.ServiceEnabled(name, id) {
				t.Errorf("%s: %s not enabled", name, id)
			}
		}
	}
	if f.emu.ServiceEnabled("e-1250000013", ciservice.Media) || f.emu.ServiceEnabled("f-1250000014", ciservice.Media) {
		t.Error("an excluded account's bucket got media processing")
	}
	pairs := map[string]bool{}
	for _, b := range res.Results {
		if b.Account == "" || b.Service == "" {
			t.Errorf("result without account or service: %+v", b)
		}
		pairs[b.Bucket+" "+b.Service] = true
	}
	if len(pairs) != 12 || len(res.Results) != 12 {
		t.Errorf("%d results, %d pairs; want 12 (6 buckets x 2 services)", len(res.Results), len(pairs))
	}
	if s := res.Summary.ByService["media"]; s.Enabled != 6 {
		t.Errorf("media summary %+v, want 6 enabled", s)
	}
	if n := strings.Count(f.logs(), `"service":"media","outcome"`); n != 6 {
		t.Errorf("%d media bucket lines, want 6", n)
	}
	f.checkSigners()
	checkNoAssumedSecrets(t, f)
}

// TestServicesSmallerServerPages: the binary, through net/rpc, against CI
// listings that serve 40 buckets a page whatever pageSize asks (and echo
// the pageSize asked, as the documents describe PageSize): every listed
// pair is read from the listing, none gets a Create, and a dry run says
// would_enable only for the pairs that are really missing.
func TestServicesSmallerServerPages(t *testing.T) {
	for _, dry := range []bool{false, true} {
		t.Run(fmt.Sprintf("dry run %v", dry), func(t *testing.T) {
			settings := []string{"PICBUCKET_SERVICES=pic,media"}
			if dry {
				settings = append(settings, "PICBUCKET_DRY_RUN=true")
			}
			f := start(t, emulator.Options{ListPageSize: 40}, settings...)
			// 130 buckets: all have pic, the first 120 have media.
			for i := range 130 {
				name := fmt.Sprintf("b%03d-%s", i, appID)
				f.emu.AddBucket(name, "ap-guangzhou", true)
				if i < 120 {
					f.emu.EnableService(name, ciservice.Media)
				}
			}
			res, errMsg := f.invoke(readEvent(t, "timer.json"))
			if errMsg != "" {
				t.Fatalf("timer: %s\n%s", errMsg, f.out)
			}
			by := f.emu.Stats().ByAction
			// 130 pic listed over 4 pages of 40; 120 media over 3 pages.
			if by["DescribePicProcessBuckets"] != 4 || by["DescribeMediaProcessBuckets"] != 3 {
				t.Errorf("listings %v, want 4 pic pages and 3 media pages", by)
			}
			pic, media := res.Summary.ByService["pic"], res.Summary.ByService["media"]
			if pic.AlreadyEnabled != 130 || by["CreatePicProcessBucket"] != 0 {
				t.Errorf("pic: %+v, %d Creates; want all 130 listed, no Create", pic, by["CreatePicProcessBucket"])
			}
			missing := media.Enabled
			if dry {
				missing = media.WouldEnable
			}
			if media.AlreadyEnabled != 120 || missing != 10 {
				t.Errorf("media: %+v; want 120 already enabled, 10 missing", media)
			}
			if want := map[bool]int{false: 10, true: 0}[dry]; by["CreateMediaProcessBucket"] != want {
				t.Errorf("%d media Creates, want %d", by["CreateMediaProcessBucket"], want)
			}
		})
	}
}

// TestOrganizationServicesFiltered: in an organization run without
// fan-out, the summary's byService counts the buckets a filter left out,
// as the total does: each bucket outside PICBUCKET_REGIONS once per
// service.
func TestOrganizationServicesFiltered(t *testing.T) {
	f := startOrg(t, "PICBUCKET_ACCOUNTS=org", "PICBUCKET_EXCLUDE_ACCOUNTS="+memberExcl+","+memberNoRol, "PICBUCKET_FANOUT=false",
		"PICBUCKET_SERVICES=pic,media", "PICBUCKET_REGIONS=ap-guangzhou")
	res, errMsg := f.invoke(readEvent(t, "timer.json"))
	if errMsg != "" {
		t.Fatalf("timer: %s\n%s", errMsg, f.out)
	}
	// old-1250000000, b-1250000011 and c-1250000011 are in ap-shanghai.
	if res.Summary.Filtered != 6 {
		t.Errorf("summary filtered %d, want 6 (3 buckets x 2 services)", res.Summary.Filtered)
	}
	for _, id := range []string{"pic", "media"} {
		if s := res.Summary.ByService[id]; s.Filtered != 3 || s.Enabled != 3 {
			t.Errorf("%s: %+v, want 3 enabled and 3 filtered", id, s)
		}
	}
	if !strings.Contains(f.logs(), `"byService":{"pic":{`) {
		t.Errorf("no byService in the summary line")
	}
}

// TestServicesShareFailedReads: the binary, through net/rpc, with three
// services: a GetService listing or a tag read that fails is one read
// (with its retries) for every service, not one per service; a
// failed read costs each of its pairs only itself (deferred).
func TestServicesShareFailedReads(t *testing.T) {
	seed := func(f *fixture) {
		for i := range 5 {
			f.emu.AddBucket(fmt.Sprintf("b%d-%s", i, appID), "ap-guangzhou", false)
		}
	}
	t.Run("tag read", func(t *testing.T) {
		f := start(t, emulator.Options{}, "PICBUCKET_SERVICES=pic,media,doc", "PICBUCKET_SKIP_TAG=picbucket=off", "PICBUCKET_CONCURRENCY=15")
		seed(f)
		f.emu.Inject(emulator.Fault{Action: "GetBucketTagging", Status: 500, Code: "InternalError", Times: 1000})
		res, _ := f.invoke(readEvent(t, "timer.json"))
		one := 0 // the requests one bucket's read costs: its attempts
		for _, r := range f.emu.Requests() {
			if r.Action == "GetBucketTagging" && strings.HasPrefix(r.Host, "b0-") {
				one++
			}
		}
		if one == 0 || one > retry.Default.Attempts {
			t.Errorf("bucket b0's tags read %d times; want one read (at most %d attempts) for its 3 services", one, retry.Default.Attempts)
		}
		if res == nil || res.Summary.Deferred != 15 {
			t.Errorf("result %+v, want every pair deferred", res)
		}
	})
	t.Run("GetService", func(t *testing.T) {
		f := start(t, emulator.Options{}, "PICBUCKET_SERVICES=pic,media,doc")
		seed(f)
		f.emu.Inject(emulator.Fault{Action: "GetService", Status: 500, Code: "InternalError", Times: 1000})
		if _, errMsg := f.invoke(readEvent(t, "timer.json")); errMsg == "" {
			t.Error("the invocation succeeded without a bucket listing")
		}
		if n := f.emu.Stats().ByAction["GetService"]; n == 0 || n > retry.Default.Attempts {
			t.Errorf("GetService sent %d times; want one listing (at most %d attempts) for the 3 services", n, retry.Default.Attempts)
		}
	})
}

// TestServicesAICreateAsDocumented: the binary, through net/rpc, against a
// CI whose POST /ai_bucket answers 200 with the body Tencent's pages print
// (its CreateTime element is not XML): the binding CI made is reported
// enabled, after the listing confirms it, not failed.
func TestServicesAICreateAsDocumented(t *testing.T) {
	f := start(t, emulator.Options{AICreateAsDocumented: true}, "PICBUCKET_SERVICES=pic,ai")
	for i := range 3 {
		f.emu.AddBucket(fmt.Sprintf("b%d-%s", i, appID), "ap-guangzhou", false)
	}
	res, errMsg := f.invoke(readEvent(t, "timer.json"))
	if errMsg != "" {
		t.Fatalf("timer: %s\n%s", errMsg, f.out)
	}
	if s := res.Summary.ByService["ai"]; s.Enabled != 3 || s.Failed != 0 {
		t.Errorf("ai: %+v, want 3 enabled", s)
	}
	by := f.emu.Stats().ByAction
	if by["CreateAIProcessBucket"] != 3 {
		t.Errorf("%d AI Creates, want 3 (one per bucket, none repeated): %v", by["CreateAIProcessBucket"], by)
	}
}

// TestServicesASRListedAsSpeechBuckets: the binary, through net/rpc,
// against a GET /asrbucket that answers with <SpeechBucketList> elements,
// as the DescribeSpeechBuckets page prints them (cos-go-sdk-v5 reads only
// <AsrBucketList>): the listed buckets are read from the listing, so only
// the missing pairs get a Create, and a dry run says would_enable only for
// them.
func TestServicesASRListedAsSpeechBuckets(t *testing.T) {
	for _, dry := range []bool{false, true} {
		t.Run(fmt.Sprintf("dry run %v", dry), func(t *testing.T) {
			settings := []string{"PICBUCKET_SERVICES=asr"}
			if dry {
				settings = append(settings, "PICBUCKET_DRY_RUN=true")
			}
			f := start(t, emulator.Options{ASRListElement: "SpeechBucketList"}, settings...)
			for i := range 7 {
				name := fmt.Sprintf("b%d-%s", i, appID)
				f.emu.AddBucket(name, "ap-guangzhou", false)
				if i < 5 {
					f.emu.EnableService(name, ciservice.ASR)
				}
			}
			res, errMsg := f.invoke(readEvent(t, "timer.json"))
			if errMsg != "" {
				t.Fatalf("timer: %s\n%s", errMsg, f.out)
			}
			s := res.Summary.ByService["asr"]
			missing := map[bool]int{false: s.Enabled, true: s.WouldEnable}[dry]
			if s.AlreadyEnabled != 5 || missing != 2 {
				t.Errorf("asr: %+v; want 5 listed, 2 missing", s)
			}
			if want, got := map[bool]int{false: 2, true: 0}[dry], f.emu.Stats().ByAction["CreateASRProcessBucket"]; got != want {
				t.Errorf("%d ASR Creates, want %d", got, want)
			}
		})
	}
}

// TestServicesKeyRefusedInListing: the binary, through net/rpc: a key
// refused by one service's listing stops every service, as a key refused
// by a Create does: the image-processing pipeline, whose listing answers
// later, sends no Create.
func TestServicesKeyRefusedInListing(t *testing.T) {
	f := start(t, emulator.Options{}, "PICBUCKET_SERVICES=pic,media", "PICBUCKET_CONCURRENCY=1")
	for i := range 10 {
		f.emu.AddBucket(fmt.Sprintf("b%d-%s", i, appID), "ap-guangzhou", false)
	}
	f.emu.Inject(emulator.Fault{Action: "DescribePicProcessBuckets", Delay: 300 * time.Millisecond})
	f.emu.Inject(emulator.Fault{Action: "DescribeMediaProcessBuckets", Status: 400, Code: "ExpiredToken", Times: 1000})
	_, errMsg := f.invoke(readEvent(t, "timer.json"))
	if !strings.Contains(errMsg, "ExpiredToken") || strings.Count(errMsg, "credentials refused") != 1 {
		t.Errorf("error %q, want the refused key named once", errMsg)
	}
	if n := f.emu.Stats().ByAction["CreatePicProcessBucket"]; n != 0 {
		t.Errorf("%d image-processing Creates after the key was refused, want 0", n)
	}
	if !strings.Contains(f.logs(), `"deferred":20`) {
		t.Errorf("the summary does not defer all 20 pairs:\n%s", f.out)
	}
}

package handler

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/picbucket/picbucket/internal/emulator"
)

// seed adds perRegion[r] buckets to region r, the first enabled[r] of them enabled.
func seed(emu *emulator.Server, perRegion map[string]int, enabled map[string]int) {
	for region, n := range perRegion {
		for i := range n {
			emu.AddBucket(fmt.Sprintf("b-%s-%05d-%s", region[3:], i, appID), region, i < enabled[region])
		}
	}
}

// minimum is the fewest requests a reconciliation can make.
func minimum(perRegion, enabled map[string]int) (getService, describe, creates int) {
	total := 0
	for region, n := range perRegion {
		total += n
		if n > 0 {
			describe += max(1, (enabled[region]+99)/100)
		}
		creates += n - enabled[region]
	}
	return max(1, (total+1999)/2000), describe, creates
}

func TestReconcileMakesTheMinimumRequests(t *testing.T) {
	tests := []struct {
		name               string
		perRegion, enabled map[string]int
	}{
		{"one bucket", map[string]int{"ap-guangzhou": 1}, nil},
		{"all enabled", map[string]int{"ap-guangzhou": 30, "ap-shanghai": 20}, map[string]int{"ap-guangzhou": 30, "ap-shanghai": 20}},
		{"exactly 100 enabled", map[string]int{"ap-guangzhou": 150}, map[string]int{"ap-guangzhou": 100}},
		{"101 enabled", map[string]int{"ap-guangzhou": 150}, map[string]int{"ap-guangzhou": 101}},
		{"exactly 2000 buckets", map[string]int{"ap-guangzhou": 1000, "ap-shanghai": 1000}, map[string]int{"ap-guangzhou": 990, "ap-shanghai": 1000}},
		{"2001 buckets", map[string]int{"ap-guangzhou": 1001, "ap-shanghai": 1000}, map[string]int{"ap-guangzhou": 1000, "ap-shanghai": 1000}},
		{"ten regions, 40% enabled", map[string]int{
			"ap-guangzhou": 30, "ap-shanghai": 30, "ap-beijing": 30, "ap-chengdu": 30, "ap-chongqing": 30,
			"ap-nanjing": 30, "ap-hongkong": 30, "ap-singapore": 30, "ap-tokyo": 30, "eu-frankfurt": 30,
		}, map[string]int{
			"ap-guangzhou": 12, "ap-shanghai": 12, "ap-beijing": 12, "ap-chengdu": 12, "ap-chongqing": 12,
			"ap-nanjing": 12, "ap-hongkong": 12, "ap-singapore": 12, "ap-tokyo": 12, "eu-frankfurt": 12,
		}},
		{"4500 buckets", map[string]int{"ap-guangzhou": 2500, "ap-shanghai": 2000}, map[string]int{"ap-guangzhou": 2450, "ap-shanghai": 1990}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, emu, _ := newTest(t, emulator.Options{}, 0, map[string]string{"PICBUCKET_CONCURRENCY": "16"})
			seed(emu, tt.perRegion, tt.enabled)
			res, err := h.Handle(ctxWithTimeout(t, 60*time.Second), timer)
			if err != nil {
				t.Fatal(err)
			}
			gs, desc, creates := minimum(tt.perRegion, tt.enabled)
			by := emu.Stats().ByAction
			if by["GetService"] != gs || by["DescribePicProcessBuckets"] != desc || by["CreatePicProcessBucket"] != creates {
				t.Errorf("requests %v, want GetService %d, Describe %d, Create %d", by, gs, desc, creates)
			}
			if int(res.Requests) != gs+desc+creates || res.Summary.Enabled != creates {
				t.Errorf("result: %d requests, summary %+v; want %d requests, %d enabled", res.Requests, res.Summary, gs+desc+creates, creates)
			}
			for _, b := range emu.Buckets() {
				if !b.Enabled {
					t.Errorf("%s not enabled", b.Name)
				}
			}
		})
	}
}

func TestBucketEventMakesOneRequest(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 3, nil)
	ev := []byte(`{"specversion":"1.0","source":"cos.cloud.tencent","type":"cos:CloudEvent:ApiCall","region":"ap-guangzhou",` +
		`"data":{"eventName":"PutBucket","errorCode":0,"resourceName":"photos-00-1250000000","eventRegion":"ap-guangzhou"}}`)
	res, err := h.Handle(ctxWithTimeout(t, 10*time.Second), ev)
	if err != nil {
		t.Fatal(err)
	}
	if emu.Stats().Total != 1 || res.Summary.Enabled != 1 {
		t.Errorf("%d requests, summary %+v; want 1 request enabling the bucket", emu.Stats().Total, res.Summary)
	}
}

func TestRegionsCIDoesNotServeAreSkipped(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 0, nil)
	seed(emu, map[string]int{"ap-guangzhou": 2, "ap-jakarta": 3}, nil)
	res, err := h.Handle(ctxWithTimeout(t, 10*time.Second), timer)
	if err != nil {
		t.Fatal(err)
	}
	if res.Summary.Enabled != 2 || res.Summary.Skipped != 3 {
		t.Errorf("summary %+v, want 2 enabled and 3 skipped", res.Summary)
	}
	for _, r := range emu.Requests() {
		if strings.Contains(r.Host, "ap-jakarta") {
			t.Errorf("request to %s", r.Host)
		}
	}
	emu.ResetRequests()
	res, err = h.Handle(ctxWithTimeout(t, 10*time.Second), []byte(`{"buckets":[{"bucket":"b-beijing-1-1250000000","region":"ap-beijing-1"}]}`))
	if err != nil || res.Summary.Skipped != 1 || len(emu.Requests()) != 0 {
		t.Errorf("explicit bucket in ap-beijing-1: %v %+v, %d requests; want skipped, none sent", err, res, len(emu.Requests()))
	}
}

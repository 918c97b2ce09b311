package handler

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/picbucket/picbucket/internal/ciservice"
	"github.com/picbucket/picbucket/internal/emulator"
)

// seedServices adds perRegion[r] buckets to region r; on[id][r] of them
// (the first) have service id enabled.
func seedServices(emu *emulator.Server, perRegion map[string]int, on map[ciservice.ID]map[string]int) {
	for region, n := range perRegion {
		for i := range n {
			name := fmt.Sprintf("b-%s-%05d-%s", region[3:], i, appID)
			emu.AddBucket(name, region, false)
			for id, m := range on {
				if i < m[region] {
					emu.EnableService(name, id)
				}
			}
		}
	}
}

// TestServicesMakeTheMinimumRequests: one GetService listing, each chosen
// service listed once per region (all its pages), one Create per missing
// pair; every pair enabled after.
func TestServicesMakeTheMinimumRequests(t *testing.T) {
	ids := []ciservice.ID{ciservice.Pic, ciservice.Media, ciservice.Doc}
	tests := []struct {
		name      string
		perRegion map[string]int
		on        map[ciservice.ID]map[string]int
	}{
		{"one bucket", map[string]int{"ap-guangzhou": 1}, nil},
		{"some of each", map[string]int{"ap-guangzhou": 30, "ap-shanghai": 20},
			map[ciservice.ID]map[string]int{ciservice.Pic: {"ap-guangzhou": 30}, ciservice.Media: {"ap-shanghai": 5}, ciservice.Doc: {"ap-guangzhou": 7, "ap-shanghai": 20}}},
		{"paging edges", map[string]int{"ap-guangzhou": 150, "ap-beijing": 120},
			map[ciservice.ID]map[string]int{ciservice.Pic: {"ap-guangzhou": 100}, ciservice.Media: {"ap-guangzhou": 101, "ap-beijing": 120}, ciservice.Doc: {"ap-beijing": 99}}},
		{"2001 buckets", map[string]int{"ap-guangzhou": 1001, "ap-shanghai": 1000},
			map[ciservice.ID]map[string]int{ciservice.Pic: {"ap-guangzhou": 1000, "ap-shanghai": 1000}, ciservice.Media: {"ap-guangzhou": 1001, "ap-shanghai": 990}, ciservice.Doc: {"ap-guangzhou": 1001, "ap-shanghai": 1000}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, emu, out := newTest(t, emulator.Options{}, 0, map[string]string{"PICBUCKET_CONCURRENCY": "16", "PICBUCKET_SERVICES": "pic,media,doc"})
			seedServices(emu, tt.perRegion, tt.on)
			res, err := h.Handle(ctxWithTimeout(t, 60*time.Second), timer)
			if err != nil {
				t.Fatal(err)
			}
			total := 0
			for _, n := range tt.perRegion {
				total += n
			}
			want := map[string]int{"GetService": max(1, (total+1999)/2000)}
			wantAll := want["GetService"]
			for _, id := range ids {
				s := ciservice.Get(id)
				creates := 0
				for region, n := range tt.perRegion {
					on := tt.on[id][region]
					want[s.ListOp] += max(1, (on+99)/100)
					creates += n - on
				}
				want[s.CreateOp] = creates
				wantAll += want[s.ListOp] + creates
				if got := res.Summary.ByService[string(id)]; got.Enabled != creates || got.AlreadyEnabled != total-creates {
					t.Errorf("%s: summary %+v, want %d enabled, %d already", id, got, creates, total-creates)
				}
			}
			by := emu.Stats().ByAction
			for action, n := range want {
				if by[action] != n {
					t.Errorf("%s: %d requests, want %d (all: %v)", action, by[action], n, by)
				}
			}
			if int(res.Requests) != wantAll || emu.Stats().Total != wantAll {
				t.Errorf("%d requests (emulator %d), want %d", res.Requests, emu.Stats().Total, wantAll)
			}
			if len(res.Results) != total*len(ids) {
				t.Errorf("%d results, want one per pair (%d)", len(res.Results), total*len(ids))
			}
			for _, b := range emu.Buckets() {
				for _, id := range ids {
					if !emu.ServiceEnabled(b.Name, id) {
						t.Errorf("%s: %s not enabled", b.Name, id)
					}
				}
			}
			// One line per pair, each with its service; the summary by service.
			lines := 0
			for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				var m map[string]any
				if err := json.Unmarshal([]byte(l), &m); err != nil {
					t.Fatalf("log line %q: %v", l, err)
				}
				switch m["message"] {
				case "bucket":
					lines++
					if m["service"] == nil {
						t.Errorf("bucket line without service: %s", l)
					}
				case "summary":
					if bs, _ := m["byService"].(map[string]any); len(bs) != len(ids) {
						t.Errorf("summary line byService = %v", m["byService"])
					}
				}
			}
			if lines != total*len(ids) {
				t.Errorf("%d bucket lines, want %d", lines, total*len(ids))
			}
		})
	}
}

// TestServicesShareOneTagRead: with a tag setting, each bucket's tags are
// read once for all its services; an opted-out bucket gets no Create.
func TestServicesShareOneTagRead(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 0, map[string]string{"PICBUCKET_SERVICES": "pic,media,asr", "PICBUCKET_SKIP_TAG": "picbucket=off"})
	seedServices(emu, map[string]int{"ap-guangzhou": 6, "ap-shanghai": 4}, map[ciservice.ID]map[string]int{ciservice.Media: {"ap-shanghai": 4}})
	emu.SetTags("b-guangzhou-00002-"+appID, map[string]string{"picbucket": "off"})
	res, err := h.Handle(ctxWithTimeout(t, 30*time.Second), timer)
	if err != nil {
		t.Fatal(err)
	}
	by := emu.Stats().ByAction
	// Every bucket lacks pic and asr: each is read once.
	if by["GetBucketTagging"] != 10 {
		t.Errorf("%d tag reads, want 10 (one per bucket): %v", by["GetBucketTagging"], by)
	}
	if by["CreatePicProcessBucket"] != 9 || by["CreateASRProcessBucket"] != 9 || by["CreateMediaProcessBucket"] != 5 {
		t.Errorf("creates %v, want 9 pic, 9 asr, 5 media", by)
	}
	if s := res.Summary.ByService["asr"]; s.Skipped != 1 || s.Enabled != 9 {
		t.Errorf("asr summary %+v", s)
	}
}

// TestServiceRefusalStaysWithService: a policy without the media Create
// stops media alone; image processing and documents go on.
func TestServiceRefusalStaysWithService(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 0, map[string]string{"PICBUCKET_SERVICES": "pic,media,doc", "PICBUCKET_CONCURRENCY": "2"})
	seedServices(emu, map[string]int{"ap-guangzhou": 20}, nil)
	emu.Inject(emulator.Fault{Action: "CreateMediaProcessBucket", Status: 403, Code: "AccessDenied", Times: 1000})
	res, err := h.Handle(ctxWithTimeout(t, 30*time.Second), timer)
	if err == nil || !strings.Contains(err.Error(), "CreateMediaProcessBucket answered AccessDenied") || !strings.Contains(err.Error(), "ci:CreateMediaBucket") {
		t.Fatalf("err = %v; want the media refusal, naming ci:CreateMediaBucket", err)
	}
	if strings.Contains(err.Error(), "CreatePicProcessBucket") || strings.Contains(err.Error(), "CreateDocProcessBucket") {
		t.Errorf("err names another service: %v", err)
	}
	for _, id := range []string{"pic", "doc"} {
		if s := res.Summary.ByService[id]; s.Enabled != 20 {
			t.Errorf("%s: %+v, want all 20 enabled", id, s)
		}
	}
	m := res.Summary.ByService["media"]
	if m.Enabled != 0 || m.Failed+m.Deferred != 20 || m.Deferred == 0 {
		t.Errorf("media: %+v, want failed then the rest deferred", m)
	}
	if n := emu.Stats().ByAction["CreateMediaProcessBucket"]; n >= 20 {
		t.Errorf("%d media Creates: the stop saved none", n)
	}
}

// TestServicesEventBucket: a bucket an event names gets one Create per
// service; a Create answered "already bound" is already_enabled.
func TestServicesEventBucket(t *testing.T) {
	h, emu, out := newTest(t, emulator.Options{}, 0, map[string]string{"PICBUCKET_SERVICES": "pic,media,doc"})
	name := "photos-" + appID
	emu.AddBucket(name, "ap-guangzhou", true)
	ev := []byte(`{"specversion":"1.0","source":"cos.cloud.tencent","type":"cos:CloudEvent:ApiCall","region":"ap-guangzhou",` +
		`"data":{"eventName":"PutBucket","errorCode":0,"resourceName":"` + name + `","eventRegion":"ap-guangzhou"}}`)
	res, err := h.Handle(ctxWithTimeout(t, 10*time.Second), ev)
	if err != nil {
		t.Fatal(err)
	}
	if emu.Stats().Total != 3 || len(res.Results) != 3 {
		t.Fatalf("%d requests, %d results; want 3 Creates, 3 results: %s", emu.Stats().Total, len(res.Results), out)
	}
	want := []string{"pic already_enabled", "media enabled", "doc enabled"}
	for i, b := range res.Results {
		if got := b.Service + " " + string(b.Outcome); got != want[i] {
			t.Errorf("result %d: %s, want %s", i, got, want[i])
		}
	}
}

// TestServicesRegionNotServedCostsNothing: a region without CI skips every
// pair there, and no service lists it.
func TestServicesRegionNotServedCostsNothing(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 0, map[string]string{"PICBUCKET_SERVICES": "media,ai"})
	seedServices(emu, map[string]int{"ap-guangzhou": 2, "ap-jakarta": 3}, nil)
	res, err := h.Handle(ctxWithTimeout(t, 10*time.Second), timer)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"media", "ai"} {
		if s := res.Summary.ByService[id]; s.Enabled != 2 || s.Skipped != 3 {
			t.Errorf("%s: %+v, want 2 enabled, 3 skipped", id, s)
		}
	}
	for _, r := range emu.Requests() {
		if strings.Contains(r.Host, "ap-jakarta") {
			t.Errorf("request to %s", r.Host)
		}
	}
}

// TestServicesDryRunAndCap: a dry run reports would_enable per pair; the
// cap counts the Creates of every pair.
func TestServicesDryRunAndCap(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 0, map[string]string{"PICBUCKET_SERVICES": "pic,file", "PICBUCKET_DRY_RUN": "true"})
	seedServices(emu, map[string]int{"ap-guangzhou": 4}, nil)
	res, err := h.Handle(ctxWithTimeout(t, 10*time.Second), timer)
	if err != nil || res.Summary.WouldEnable != 8 || emu.Stats().ByAction["CreateFileProcessBucket"] != 0 {
		t.Errorf("dry run: %v %+v %v", err, res.Summary, emu.Stats().ByAction)
	}

	h, emu, _ = newTest(t, emulator.Options{}, 0, map[string]string{"PICBUCKET_SERVICES": "pic,file", "PICBUCKET_MAX_ENABLE": "5", "PICBUCKET_CONCURRENCY": "1"})
	seedServices(emu, map[string]int{"ap-guangzhou": 4}, nil)
	res, err = h.Handle(ctxWithTimeout(t, 10*time.Second), timer)
	by := emu.Stats().ByAction
	if err != nil || res.Summary.Enabled != 5 || res.Summary.Deferred != 3 || by["CreatePicProcessBucket"]+by["CreateFileProcessBucket"] != 5 {
		t.Errorf("cap: %v %+v %v", err, res.Summary, by)
	}
}

// TestServicesUnknownRefused: an unknown id sends nothing and names the
// nearest.
func TestServicesUnknownRefused(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 2, map[string]string{"PICBUCKET_SERVICES": "pic,meda"})
	_, err := h.Handle(ctxWithTimeout(t, 10*time.Second), timer)
	if err == nil || !strings.Contains(err.Error(), `did you mean "media"?`) || emu.Stats().Total != 0 {
		t.Errorf("err = %v, %d requests", err, emu.Stats().Total)
	}
}

// TestServicesCOSEventsUseEachServiceCache: a burst of COS object events
// costs each service one Create per bucket; the warm instance then trusts
// each service's own confirmation.
func TestServicesCOSEventsUseEachServiceCache(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 0, map[string]string{"PICBUCKET_SERVICES": "pic,doc"})
	emu.AddBucket("photos-"+appID, "ap-guangzhou", false)
	emu.AddBucket("logs-"+appID, "ap-shanghai", false)
	ev, err := os.ReadFile("../events/cos-records.json")
	if err != nil {
		t.Fatal(err)
	}
	res, err := h.Handle(ctxWithTimeout(t, 10*time.Second), ev)
	if err != nil || res.Summary.Enabled != 4 || emu.Stats().Total != 4 {
		t.Fatalf("first: %v %+v, %d requests; want 2 buckets x 2 services enabled by 4 Creates", err, res.Summary, emu.Stats().Total)
	}
	res, err = h.Handle(ctxWithTimeout(t, 10*time.Second), ev)
	if err != nil || res.Summary.AlreadyEnabled != 4 || emu.Stats().Total != 4 {
		t.Fatalf("second: %v %+v, %d requests in all; want every pair confirmed by the cache, no request", err, res.Summary, emu.Stats().Total)
	}
}

// TestServicesKeyRefusedStopsEveryService: a refused key stops every
// service: after the first refusal no service sends a Create.
func TestServicesKeyRefusedStopsEveryService(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{}, 0, map[string]string{"PICBUCKET_SERVICES": "pic,media,doc", "PICBUCKET_CONCURRENCY": "1"})
	seedServices(emu, map[string]int{"ap-guangzhou": 20}, nil)
	emu.Inject(emulator.Fault{Action: "CreateMediaProcessBucket", Status: 400, Code: "ExpiredToken", Times: 1000})
	emu.Inject(emulator.Fault{Action: "CreatePicProcessBucket", Status: 400, Code: "ExpiredToken", Times: 1000})
	emu.Inject(emulator.Fault{Action: "CreateDocProcessBucket", Status: 400, Code: "ExpiredToken", Times: 1000})
	res, err := h.Handle(ctxWithTimeout(t, 10*time.Second), timer)
	if err == nil || !strings.Contains(err.Error(), "credentials refused (ExpiredToken)") {
		t.Fatalf("err = %v", err)
	}
	by := emu.Stats().ByAction
	if n := by["CreatePicProcessBucket"] + by["CreateMediaProcessBucket"] + by["CreateDocProcessBucket"]; n != 1 {
		t.Errorf("%d Creates after the key was refused (%v), want 1", n, by)
	}
	if res.Summary.Deferred != 60 {
		t.Errorf("summary %+v, want every pair deferred", res.Summary)
	}
	if strings.Count(err.Error(), "credentials refused") != 1 {
		t.Errorf("the refusal is repeated: %v", err)
	}
}

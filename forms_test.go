package main_test

// The event forms of Tencent's documents (testdata/forms, sources in its
// README.md), each sent through the SCF runtime protocol to the function
// against the COS/CI emulator: the exact requests, the outcome of every
// bucket, and no error where none is due.

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/picbucket/picbucket/handler"
	"github.com/picbucket/picbucket/internal/emulator"
)

func readForm(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "forms", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seedForms adds the buckets the forms name. photos-1250000000 lives in
// ap-shanghai here, so that a Create sent to the event bus's region
// (ap-guangzhou) would fail.
func seedForms(emu *emulator.Server) {
	for _, b := range []struct{ name, region string }{
		{"uploads-1250000000", "ap-guangzhou"},
		{"newbucket-1250000000", "ap-shanghai"},
		{"bucketname-1250000000", "ap-guangzhou"},
		{"photos-1250000000", "ap-shanghai"},
		{"videos-1250000000", "ap-shanghai"},
		{"logs-1250000000", "ap-shanghai"},
		{"media-1250000000", "ap-singapore"},
		{"assets-1250000000", "ap-singapore"},
		{"fresh-1250000000", "ap-guangzhou"},
	} {
		emu.AddBucket(b.name, b.region, false)
	}
}

func TestDocumentedForms(t *testing.T) {
	tests := []struct {
		file     string
		faults   []emulator.Fault
		want     map[string]handler.Outcome
		reasons  map[string]string // bucket@region (or "@" for a record naming none) -> part of its reason
		requests []string
	}{
		{file: "01a-resourcename-star.json",
			want:     map[string]handler.Outcome{"uploads-1250000000@ap-guangzhou": handler.Enabled},
			requests: []string{ci("uploads-1250000000", "ap-guangzhou")}},
		{file: "01b-resourcename-policy.json",
			want:     map[string]handler.Outcome{"newbucket-1250000000@ap-shanghai": handler.Enabled},
			requests: []string{ci("newbucket-1250000000", "ap-shanghai")}},
		{file: "02-subject-eventbridge-sample.json",
			want:     map[string]handler.Outcome{"bucketname-1250000000@ap-guangzhou": handler.Enabled},
			requests: []string{ci("bucketname-1250000000", "ap-guangzhou")}},
		{file: "03-params-without-appid.json",
			want:     map[string]handler.Outcome{"newbucket-1250000000@ap-shanghai": handler.Enabled},
			requests: []string{ci("newbucket-1250000000", "ap-shanghai")}},
		{file: "04-bucket-without-region.json",
			want:     map[string]handler.Outcome{"photos-1250000000@ap-shanghai": handler.Enabled},
			requests: []string{ci("photos-1250000000", "ap-shanghai"), getService}},
		{file: "05-batch-one-unreadable.json",
			want:     map[string]handler.Outcome{"videos-1250000000@ap-shanghai": handler.Enabled, "@": handler.Skipped},
			reasons:  map[string]string{"@": `unreadable record: EventList[1].data.resourceName: invalid bucket name: "photos-1250000000.cos.ap-guangzhou.myqcloud.com"`},
			requests: []string{ci("videos-1250000000", "ap-shanghai")}},
		{file: "06-cos-records-full-region.json",
			want: map[string]handler.Outcome{"logs-1250000000@ap-shanghai": handler.Enabled,
				"media-1250000000@ap-singapore": handler.Enabled, "assets-1250000000@ap-singapore": handler.Enabled},
			requests: []string{ci("assets-1250000000", "ap-singapore"), ci("logs-1250000000", "ap-shanghai"), ci("media-1250000000", "ap-singapore")}},
		{file: "08-manual-bucket-and-reconcile.json",
			want: map[string]handler.Outcome{"uploads-1250000000@ap-guangzhou": handler.Enabled,
				"bucketname-1250000000@ap-guangzhou": handler.Enabled, "fresh-1250000000@ap-guangzhou": handler.Enabled},
			requests: []string{ci("bucketname-1250000000", "ap-guangzhou"), ci("fresh-1250000000", "ap-guangzhou"),
				ci("uploads-1250000000", "ap-guangzhou"), describe("ap-guangzhou"), getService}},
		{file: "08b-batch-bucket-and-its-region.json",
			want: map[string]handler.Outcome{"uploads-1250000000@ap-guangzhou": handler.Enabled,
				"bucketname-1250000000@ap-guangzhou": handler.Enabled, "fresh-1250000000@ap-guangzhou": handler.Enabled},
			requests: []string{ci("bucketname-1250000000", "ap-guangzhou"), ci("fresh-1250000000", "ap-guangzhou"),
				ci("uploads-1250000000", "ap-guangzhou"), describe("ap-guangzhou"), getService}},
		{file: "09-timer-plain-text.json",
			want: map[string]handler.Outcome{
				"uploads-1250000000@ap-guangzhou": handler.Enabled, "newbucket-1250000000@ap-shanghai": handler.Enabled,
				"bucketname-1250000000@ap-guangzhou": handler.Enabled, "photos-1250000000@ap-shanghai": handler.Enabled,
				"videos-1250000000@ap-shanghai": handler.Enabled, "logs-1250000000@ap-shanghai": handler.Enabled,
				"media-1250000000@ap-singapore": handler.Enabled, "assets-1250000000@ap-singapore": handler.Enabled,
				"fresh-1250000000@ap-guangzhou": handler.Enabled},
			requests: []string{ci("assets-1250000000", "ap-singapore"), ci("bucketname-1250000000", "ap-guangzhou"),
				ci("fresh-1250000000", "ap-guangzhou"), ci("logs-1250000000", "ap-shanghai"), ci("media-1250000000", "ap-singapore"),
				ci("newbucket-1250000000", "ap-shanghai"), ci("photos-1250000000", "ap-shanghai"),
				ci("uploads-1250000000", "ap-guangzhou"), ci("videos-1250000000", "ap-shanghai"),
				describe("ap-guangzhou"), describe("ap-shanghai"), describe("ap-singapore"), getService}},
		{file: "11-putbucket-not-visible-yet.json",
			faults: []emulator.Fault{{Action: emulator.ActionCreatePicProcessBucket, Bucket: "fresh-1250000000", Status: 404, Code: "NoSuchBucket", Times: 2}},
			want:   map[string]handler.Outcome{"fresh-1250000000@ap-guangzhou": handler.Enabled},
			requests: []string{ci("fresh-1250000000", "ap-guangzhou"), ci("fresh-1250000000", "ap-guangzhou"),
				ci("fresh-1250000000", "ap-guangzhou")}},
		{file: "11b-putbucket-never-visible.json",
			want:     map[string]handler.Outcome{"ghost-1250000000@ap-guangzhou": handler.Skipped},
			reasons:  map[string]string{"ghost-1250000000@ap-guangzhou": "bucket does not exist: CreatePicProcessBucket answered NoSuchBucket 5 times"},
			requests: slices.Repeat([]string{ci("ghost-1250000000", "ap-guangzhou")}, 5)},
	}
	files, _ := filepath.Glob("testdata/forms/*.json")
	if len(files) != len(tests) {
		t.Errorf("testdata/forms has %d files, the table covers %d: cover every form", len(files), len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			f := start(t, emulator.Options{})
			seedForms(f.emu)
			for _, fault := range tt.faults {
				f.emu.Inject(fault)
			}
			res, errMsg := f.invoke(readForm(t, tt.file))
			if errMsg != "" {
				t.Fatalf("invocation failed: %s\nlogs:\n%s", errMsg, f.out)
			}
			if got := outcomes(res); !equalMaps(got, tt.want) {
				t.Errorf("outcomes = %v, want %v", got, tt.want)
			}
			for key, part := range tt.reasons {
				found := false
				for _, b := range res.Results {
					if b.Bucket+"@"+b.Region == key && strings.Contains(b.Reason, part) {
						found = true
					}
				}
				if !found {
					t.Errorf("no result %s with a reason containing %q in %+v", key, part, res.Results)
				}
			}
			if got := f.requests(defaultCreds); !slices.Equal(got, tt.requests) {
				t.Errorf("requests:\n got %q\nwant %q", got, tt.requests)
			}
			if res.Summary.Failed != 0 {
				t.Errorf("summary %+v has failures", res.Summary)
			}
			checkLogs(t, f.logs(), len(res.Results), "req-1")
		})
	}
}

// TestCacheNeverAnswersPutBucket: a COS object event confirms a bucket and
// fills the warm instance's cache; the bucket is deleted and created again
// (as a new, not enabled bucket); the PutBucket that follows must send a
// Create rather than answer already_enabled from the cache.
func TestCacheNeverAnswersPutBucket(t *testing.T) {
	f := start(t, emulator.Options{})
	f.emu.AddBucket("photos-1250000000", "ap-guangzhou", false)
	if res, errMsg := f.invoke(readEvent(t, "cos-records.json")); errMsg != "" || outcomes(res)["photos-1250000000@ap-guangzhou"] != handler.Enabled {
		t.Fatalf("COS event: %v %s", res, errMsg)
	}
	// A second COS event inside the cache TTL is answered from the cache.
	f.emu.ResetRequests()
	if res, _ := f.invoke(readEvent(t, "cos-records.json")); outcomes(res)["photos-1250000000@ap-guangzhou"] != handler.AlreadyEnabled {
		t.Fatalf("second COS event: %v", res)
	}
	for _, r := range f.emu.Requests() {
		if strings.HasPrefix(r.Host, "photos-1250000000.") {
			t.Errorf("cache hit for a COS event still sent %s %s", r.Action, r.Host)
		}
	}
	f.emu.AddBucket("photos-1250000000", "ap-guangzhou", false) // deleted and created again
	f.emu.ResetRequests()
	res, errMsg := f.invoke(readEvent(t, "eventbridge-putbucket.json"))
	if errMsg != "" {
		t.Fatalf("PutBucket: %s", errMsg)
	}
	if got := outcomes(res)["photos-1250000000@ap-guangzhou"]; got != handler.Enabled {
		t.Errorf("PutBucket after re-creation: outcome %s, want enabled (the cache must not answer a PutBucket)", got)
	}
	if got, want := f.requests(defaultCreds), []string{ci("photos-1250000000", "ap-guangzhou")}; !slices.Equal(got, want) {
		t.Errorf("requests %q, want %q", got, want)
	}
	if !f.emu.Enabled("photos-1250000000") {
		t.Error("the re-created bucket is not enabled")
	}
}

// TestNoSuchBucketOnReconcile: a bucket deleted after GetService listed it
// is skipped at once (one Create), and the invocation succeeds.
func TestNoSuchBucketOnReconcile(t *testing.T) {
	f := start(t, emulator.Options{})
	f.emu.AddBucket("photos-1250000000", "ap-guangzhou", false)
	f.emu.AddBucket("gone-1250000000", "ap-guangzhou", false)
	f.emu.Inject(emulator.Fault{Action: emulator.ActionCreatePicProcessBucket, Bucket: "gone-1250000000", Status: 404, Code: "NoSuchBucket"})
	res, errMsg := f.invoke(readEvent(t, "timer.json"))
	if errMsg != "" {
		t.Fatalf("invocation failed: %s", errMsg)
	}
	want := map[string]handler.Outcome{"photos-1250000000@ap-guangzhou": handler.Enabled, "gone-1250000000@ap-guangzhou": handler.Skipped}
	if got := outcomes(res); !equalMaps(got, want) {
		t.Errorf("outcomes %v, want %v", got, want)
	}
	for _, b := range res.Results {
		if b.Bucket == "gone-1250000000" && (b.Attempts != 1 || !strings.Contains(b.Reason, "deleted since it was listed")) {
			t.Errorf("gone: attempts %d reason %q, want 1 Create and the deleted-since-listed reason", b.Attempts, b.Reason)
		}
	}
}

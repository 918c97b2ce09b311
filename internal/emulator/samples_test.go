package emulator

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/picbucket/picbucket/internal/bucket"
)

// The forms in which the sample events name a bucket of the sample account.
var (
	// A full name, "<name>-1250000000", anywhere in a string (URLs included).
	sampleFullName = regexp.MustCompile(`(?:^|[^a-z0-9-])([a-z0-9](?:[a-z0-9-]*[a-z0-9])?-` + SampleAppID + `)(?:$|[^a-z0-9-])`)
	// A COS resource, qcs::cos:<region>:uid[/]1250000000:<bucket>, the
	// bucket with or without its -APPID (EventBridge's own sample has none).
	sampleResource = regexp.MustCompile(`qcs::cos:([a-z0-9-]+):uid/?` + SampleAppID + `:([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:$|[^a-z0-9/-])`)
	// A bucket's COS host, <bucket>.cos.<region>.myqcloud.com.
	sampleHost = regexp.MustCompile(`([a-z0-9](?:[a-z0-9-]*[a-z0-9])?-` + SampleAppID + `)\.cos\.([a-z0-9-]+)\.myqcloud\.com`)
)

// namedBuckets returns the buckets of the sample account a sample event
// names, each with the regions the event states for it (none when it
// states none).
func namedBuckets(t *testing.T, payload []byte) map[string][]string {
	t.Helper()
	var v any
	if err := json.Unmarshal(payload, &v); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	found := map[string][]string{}
	add := func(name, region string) {
		if !strings.HasSuffix(name, "-"+SampleAppID) {
			name += "-" + SampleAppID
		}
		if _, ok := found[name]; !ok {
			found[name] = nil
		}
		if strings.HasPrefix(region, "ap-") || strings.HasPrefix(region, "na-") || strings.HasPrefix(region, "eu-") || strings.HasPrefix(region, "sa-") {
			if !slices.Contains(found[name], region) {
				found[name] = append(found[name], region)
			}
		}
	}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			// {"bucket": …, "region": …} (manual events, CloudAudit
			// requestParameters) and COS records' cosBucket.
			name, _ := firstString(v, "bucket", "Bucket").(string)
			if n, _ := v["name"].(string); n != "" && v["appid"] == SampleAppID {
				name = n
			}
			if strings.HasSuffix(name, "-"+SampleAppID) || (name != "" && v["appid"] == SampleAppID) {
				region, _ := firstString(v, "cosRegion", "region", "Region").(string)
				add(name, region)
			}
			for _, e := range v {
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		case string:
			// CloudAudit's data and requestParameters may be JSON in a string.
			var inner any
			if s := strings.TrimSpace(v); (strings.HasPrefix(s, "{") || strings.HasPrefix(s, "[")) && json.Unmarshal([]byte(s), &inner) == nil {
				walk(inner)
			}
			for _, m := range sampleFullName.FindAllStringSubmatch(v, -1) {
				add(m[1], "")
			}
			for _, m := range sampleResource.FindAllStringSubmatch(v, -1) {
				add(m[2], m[1])
			}
			for _, m := range sampleHost.FindAllStringSubmatch(v, -1) {
				add(m[1], m[2])
			}
		}
	}
	walk(v)
	return found
}

// firstString returns the first non-empty string among m's keys.
func firstString(m map[string]any, keys ...string) any {
	for _, k := range keys {
		if s, ok := m[k].(string); ok && s != "" {
			return s
		}
	}
	return nil
}

// TestSampleBucketsCoverEvents fails when a file in events/ names a bucket
// of the sample account that SampleBuckets lacks, or names it in another
// region: add the bucket to SampleBuckets (internal/emulator/demo.go).
func TestSampleBucketsCoverEvents(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no events/*.json: %v", err)
	}
	listed := map[string]string{}
	for _, b := range SampleBuckets {
		listed[b.Name] = b.Region
	}
	named := 0
	for _, f := range files {
		payload, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		found := namedBuckets(t, payload)
		names := make([]string, 0, len(found))
		for n := range found {
			names = append(names, n)
		}
		sort.Strings(names)
		t.Logf("%s names %v", filepath.Base(f), names)
		for _, name := range names {
			named++
			region, ok := listed[name]
			if !ok {
				t.Errorf("%s names bucket %s (regions %v), which emulator.SampleBuckets lacks: add it there", filepath.Base(f), name, found[name])
				continue
			}
			for _, r := range found[name] {
				if r != region {
					t.Errorf("%s puts %s in %s; SampleBuckets says %s", filepath.Base(f), name, r, region)
				}
			}
		}
	}
	if named == 0 {
		t.Error("no sample names a bucket: the extraction is broken")
	}
}

// TestNamedBuckets checks the extraction on the forms Tencent's documents show.
func TestNamedBuckets(t *testing.T) {
	for _, c := range []struct {
		event string
		want  map[string][]string
	}{
		{`{"subject":"qcs::cos:ap-guangzhou:uid1250000000:bucketname"}`, map[string][]string{"bucketname-1250000000": {"ap-guangzhou"}}},
		{`{"resources":"qcs::cos:ap-shanghai:uid/1250000000:videos-1250000000"}`, map[string][]string{"videos-1250000000": {"ap-shanghai"}}},
		{`{"data":"{\"requestParameters\":\"{\\\"bucket\\\":\\\"a-1250000000\\\",\\\"region\\\":\\\"ap-beijing\\\"}\"}"}`, map[string][]string{"a-1250000000": {"ap-beijing"}}},
		{`{"cosBucket":{"region":"gz","cosRegion":"ap-guangzhou","name":"photos","appid":"1250000000"}}`, map[string][]string{"photos-1250000000": {"ap-guangzhou"}}},
		{`{"url":"http://logs-1250000000.cos.ap-shanghai.myqcloud.com/x"}`, map[string][]string{"logs-1250000000": {"ap-shanghai"}}},
		{`{"buckets":[{"bucket":"docs-1250000000","region":"ap-shanghai"}]}`, map[string][]string{"docs-1250000000": {"ap-shanghai"}}},
		// Not the sample account's, or not a bucket.
		{`{"resource":["qcs::eb:ap-guangzhou:uid1250000000:eventbusid/eventruleid"],"b":"other-1250000001","key":"/1250000000/photos/x.jpg"}`, map[string][]string{}},
	} {
		got := namedBuckets(t, []byte(c.event))
		if len(got) != len(c.want) {
			t.Errorf("%s: got %v, want %v", c.event, got, c.want)
			continue
		}
		for n, r := range c.want {
			if !slices.Equal(got[n], r) {
				t.Errorf("%s: got %v, want %v", c.event, got, c.want)
			}
		}
	}
}

func TestSeedSamples(t *testing.T) {
	s := New(Options{})
	got := s.SeedSamples()
	if len(got) != len(SampleBuckets) {
		t.Fatalf("seeded %d, want %d", len(got), len(SampleBuckets))
	}
	seen := map[string]bool{}
	for i, b := range got {
		if err := bucket.ValidateName(b.Name); err != nil || !strings.HasSuffix(b.Name, "-"+SampleAppID) {
			t.Errorf("%s: not a bucket of APPID %s (%v)", b.Name, SampleAppID, err)
		}
		if seen[b.Name] {
			t.Errorf("%s listed twice", b.Name)
		}
		seen[b.Name] = true
		if i > 0 && got[i-1].Name > b.Name {
			t.Errorf("not in name order: %s before %s", got[i-1].Name, b.Name)
		}
		if b.Enabled || s.Enabled(b.Name) {
			t.Errorf("%s is enabled", b.Name)
		}
	}
	for _, want := range []BucketState{
		{Name: "photos-1250000000", Region: "ap-guangzhou"},
		{Name: "bucketname-1250000000", Region: "ap-guangzhou"},
		{Name: "uploads-1250000000", Region: "ap-shanghai"},
		{Name: "newbucket-1250000000", Region: "ap-shanghai"},
	} {
		if !slices.Contains(s.Buckets(), want) {
			t.Errorf("%s in %s is not seeded", want.Name, want.Region)
		}
	}
}

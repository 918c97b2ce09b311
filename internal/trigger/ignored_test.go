package trigger

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/picbucket/picbucket/internal/trigger/shapes"
)

// TestIgnoredRecordsMemoryNotSizedByDistinctValues: a CLS document of
// MaxCLSRecords records that are not a successful COS PutBucket, each with
// its own eventName (or resourceType), costs no more heap to read than the
// same document whose records all share one: what the ignored records are
// counted by is bounded, not one map entry per distinct value of the input.
func TestIgnoredRecordsMemoryNotSizedByDistinctValues(t *testing.T) {
	if testing.Short() {
		t.Skip("parses 100,000 records four times")
	}
	n, fields := MaxCLSRecords, []string{"eventName", "resourceType"}
	if raceEnabled {
		// The race detector makes each parse of 100,000 records take 20 s;
		// half as many still shows a map entry per distinct value.
		n, fields = MaxCLSRecords/2, fields[:1]
	}
	for _, field := range fields {
		t.Run(field, func(t *testing.T) {
			prefix := `{"timestamp":"1","content":{"` + field + `":"`
			same := peakHeapOver(t, n, shapes.CLSEvent(shapes.Records(prefix, `"}}`, n, func(int) string { return strings.Repeat("x", 80) })))
			distinct := peakHeapOver(t, n, shapes.CLSEvent(shapes.Records(prefix, `"}}`, n, shapes.Distinct80)))
			t.Logf("peak heap over the payload: %.1f MiB with one %s, %.1f MiB with %d distinct ones", mib(same), field, mib(distinct), n)
			if distinct > 2*same+2<<20 {
				t.Errorf("%d distinct %s values cost %.1f MiB of heap, one shared value %.1f MiB: the decoder keeps something per distinct value",
					n, field, mib(distinct), mib(same))
			}
		})
	}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }

// peakHeapOver parses payload and returns the peak heap in use while it
// runs, above the heap in use before.
func peakHeapOver(t *testing.T, n int, payload []byte) uint64 {
	t.Helper()
	debug.FreeOSMemory()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	heap := sampleHeap()
	req, err := ParseWith(payload, Options{AppID: "1250000000"})
	inuse, _ := heap.stop()
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("ignored %d records", n); len(req.Notes) == 0 || !strings.Contains(req.Notes[len(req.Notes)-1], want) {
		t.Fatalf("notes %q: want the %d ignored records counted", req.Notes, n)
	}
	runtime.KeepAlive(req)
	return inuse - min(inuse, before.HeapInuse)
}

func TestIgnoredTallyNote(t *testing.T) {
	var tally ignoredTally
	for i := 0; i < 3; i++ {
		tally.add("eventName \"PutObject\"")
	}
	for i := 0; i < maxIgnoredReasons+10; i++ {
		tally.add(distinctReason(i))
	}
	want := `ignored 45 records that are not a successful COS PutBucket (eventName "PutObject": 3, `
	got := tally.note()
	if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, ", other reasons: 38)") {
		t.Errorf("note = %q\nwant %q… ending in \", other reasons: 38)\"", got, want)
	}
	if len(tally.by) > maxIgnoredReasons {
		t.Errorf("%d reasons kept apart, want at most %d", len(tally.by), maxIgnoredReasons)
	}
}

// distinctReason is a distinct reason for each i.
func distinctReason(i int) string { return "eventName " + quote(shapes.Distinct80(i)) }

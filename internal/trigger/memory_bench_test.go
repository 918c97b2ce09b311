package trigger

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/picbucket/picbucket/internal/trigger/shapes"
)

// BenchmarkWorstShapes parses each adversarial event of package shapes
// (6 MB payloads; CLS documents of 16 MiB) and reports the peak heap in
// use while ParseWith runs, above the heap before it (the payload), as
// sampled by heapSampler.
func BenchmarkWorstShapes(b *testing.B) {
	for _, s := range shapes.All() {
		b.Run(s.Name, func(b *testing.B) {
			payload := s.Payload()
			debug.FreeOSMemory()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			heap := sampleHeap()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				ParseWith(payload, Options{AppID: "1250000000"})
			}
			b.StopTimer()
			inuse, fromOS := heap.stop()
			b.ReportMetric(float64(len(payload))/(1<<20), "payload-MiB")
			b.ReportMetric(float64(inuse-min(inuse, before.HeapInuse))/(1<<20), "peak-heap-over-before-MiB")
			b.ReportMetric(float64(fromOS)/(1<<20), "peak-heap-from-OS-MiB")
		})
	}
}

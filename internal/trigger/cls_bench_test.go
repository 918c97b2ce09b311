package trigger

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"
)

// heapSampler samples runtime.MemStats every 200 µs until stopped and
// keeps the peaks of the heap in use and of the heap obtained from the OS
// (HeapSys - HeapReleased). A sample can miss a peak shorter than its
// interval; the process's own high-water mark is measured by the
// repository's memory_test.go.
type heapSampler struct {
	done               chan struct{}
	wg                 sync.WaitGroup
	mu                 sync.Mutex
	peakInuse, peakSys uint64
}

func sampleHeap() *heapSampler {
	h := &heapSampler{done: make(chan struct{})}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			h.mu.Lock()
			h.peakInuse = max(h.peakInuse, ms.HeapInuse)
			h.peakSys = max(h.peakSys, ms.HeapSys-ms.HeapReleased)
			h.mu.Unlock()
			select {
			case <-h.done:
				return
			case <-time.After(200 * time.Microsecond):
			}
		}
	}()
	return h
}

// stop ends the sampling and returns the peaks.
func (h *heapSampler) stop() (inuse, fromOS uint64) {
	close(h.done)
	h.wg.Wait()
	return h.peakInuse, h.peakSys
}

// clsBenchDoc builds a CLS document of exactly MaxCLSDocument bytes of
// successful PutBucket records, each content a JSON string as CLS delivers
// it: 100 accounts, 10,000 distinct buckets in all (MaxTargets), so that
// every record is read and none is skipped. It returns the document and
// its number of records.
func clsBenchDoc() ([]byte, int) {
	regions := []string{"ap-guangzhou", "ap-shanghai", "ap-beijing", "ap-chengdu", "ap-singapore"}
	var sb strings.Builder
	sb.Grow(MaxCLSDocument)
	sb.WriteString(`{"topic_id":"a1b2c3d4-0000-4000-8000-000000000000","topic_name":"cloudaudit","records":[`)
	const tail = `]}`
	n := 0
	for ; ; n++ {
		j := n % MaxTargets
		account := fmt.Sprintf("1000000%05d", j%100)
		region := regions[j%len(regions)]
		params, _ := json.Marshal(map[string]string{"bucket": fmt.Sprintf("photos%05d-12500%05d", j, j%100), "region": region})
		content, _ := json.Marshal(map[string]any{"eventName": "PutBucket", "resourceType": "cos", "errorCode": 0,
			"eventRegion": region, "requestParameters": string(params), "eventTime": 1716200102 + n,
			"requestID": fmt.Sprintf("%08x-0000-4000-8000-%012x", n, n), "sourceIPAddress": "10.0.0.1",
			"userIdentity": map[string]any{"accountId": account, "type": "root", "principalId": account}})
		rec, _ := json.Marshal(map[string]string{"timestamp": fmt.Sprint(1716200102000000 + int64(n)), "content": string(content)})
		sep := ""
		if n > 0 {
			sep = ","
		}
		if sb.Len()+len(sep)+len(rec)+len(tail) > MaxCLSDocument {
			break
		}
		sb.WriteString(sep)
		sb.Write(rec)
	}
	sb.WriteString(strings.Repeat(" ", MaxCLSDocument-sb.Len()-len(tail)))
	sb.WriteString(tail)
	return []byte(sb.String()), n
}

// BenchmarkCLSDecode16MiB parses a CLS event whose document is
// MaxCLSDocument (16 MiB) of PutBucket records and reports the peak heap in
// use while it runs (runtime.MemStats.HeapInuse sampled every 200 µs) and
// the peak heap obtained from the OS (HeapSys - HeapReleased), besides B/op.
// The document (clsBenchDoc) compresses to a payload of about 1.1 MB: more
// than the 128 KB of an asynchronous event, within MaxPayload.
func BenchmarkCLSDecode16MiB(b *testing.B) {
	doc, n := clsBenchDoc()
	payload := clsEvent(doc)
	debug.FreeOSMemory() // return the setup's heap (the document), so that the peak is the parse's
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	heap := sampleHeap()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, err := ParseWith(payload, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			targets := 0
			for _, a := range req.Accounts {
				targets += len(a.Targets)
			}
			if len(req.Accounts) != 100 || targets != MaxTargets || len(req.Skipped) != 0 {
				b.Fatalf("%d accounts, %d targets, %d skipped: want 100, %d, 0", len(req.Accounts), targets, len(req.Skipped), MaxTargets)
			}
		}
	}
	b.StopTimer()
	peakInuse, peakSys := heap.stop()
	b.ReportMetric(float64(len(payload))/1024, "payload-KiB")
	b.ReportMetric(float64(n), "records")
	b.ReportMetric(float64(before.HeapInuse)/(1<<20), "heap-inuse-before-MiB")
	b.ReportMetric(float64(peakInuse)/(1<<20), "peak-heap-inuse-MiB")
	b.ReportMetric(float64(peakSys)/(1<<20), "peak-heap-from-OS-MiB")
}

package main_test

// The return value (SCF's RetMsg) within SCF's synchronous response limit:
// "同步请求响应大小 6MB" (https://cloud.tencent.com/document/product/583/11637,
// 函数运行环境的限制). A return value over it is not delivered, so the
// caller gets no answer at all for work that was done.

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/picbucket/picbucket/handler"
	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/scfrpc"
)

// TestReturnValueWithinResponseLimit: a CLS event of 150 KB (10,000
// unreadable records and 10,000 buckets of accounts out of scope) makes a
// result of 20,000 bucket rows, over 6 MB as JSON. The return value stays
// under the limit, still JSON, with a summary that counts every bucket, the
// rows that matter most kept, and a note saying how many were left out.
func TestReturnValueWithinResponseLimit(t *testing.T) {
	f := start(t, emulator.Options{})
	payload := manyRowsCLSEvent(t)
	resp, err := f.proc.Invoke(scfrpc.Invocation{Payload: payload, RequestID: "r", Timeout: 60 * time.Second,
		Environment: defaultCreds.env(), AppID: appID, Uin: mgmtUin, Region: "ap-guangzhou", Function: "picbucket"})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Error != nil {
		t.Fatalf("invocation error: %.300s", resp.Error.Message)
	}
	t.Logf("%d-byte event: %d-byte return value", len(payload), len(resp.Payload))
	if len(resp.Payload) > 6_000_000 {
		t.Errorf("return value of %d bytes, over SCF's synchronous response limit (6 MB)", len(resp.Payload))
	}
	var res handler.Result
	if err := json.Unmarshal(resp.Payload, &res); err != nil {
		t.Fatalf("return value is not a Result: %v", err)
	}
	if s := res.Summary; s.Skipped != 20000 {
		t.Errorf("summary %+v: want every one of the 20,000 rows counted (skipped)", s)
	}
	if res.ResultsOmitted == 0 || len(res.Results)+res.ResultsOmitted != 20000 {
		t.Errorf("%d rows kept and %d omitted, want some omitted and 20,000 in all", len(res.Results), res.ResultsOmitted)
	}
	note := false
	for _, n := range res.Notes {
		note = note || strings.Contains(n, fmt.Sprintf("%d of 20000 bucket results", res.ResultsOmitted))
	}
	if !note {
		t.Errorf("no note names the rows left out: %q", res.Notes)
	}
}

// TestManyRowsWithinDeployedMemory: the same small event, whose answer is
// 20,000 rows (and as many log lines), is answered within the memory
// serverless.yml deploys, told to the function as SCF tells it (the
// request's MemoryLimitInMb), in each of three fresh processes (the peak
// depends on when the collector runs).
func TestManyRowsWithinDeployedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes")
	}
	mb := deployedMemoryMB(t)
	payload := manyRowsCLSEvent(t)
	for i := range 3 {
		f := start(t, emulator.Options{})
		idle, err := f.proc.PeakRSS()
		if err != nil {
			t.Skipf("no peak RSS on this system: %v", err)
		}
		resp, err := f.proc.Invoke(scfrpc.Invocation{Payload: payload, RequestID: "r", Timeout: 60 * time.Second, MemoryMB: int32(mb),
			Environment: defaultCreds.env(), AppID: appID, Uin: mgmtUin, Region: "ap-guangzhou", Function: "picbucket"})
		if err != nil {
			t.Fatal(err)
		}
		peak, err := f.proc.PeakRSS()
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("process %d: %d-byte event, %d-byte answer: peak RSS %.1f MiB (%.1f MiB before)", i, len(payload), len(resp.Payload),
			float64(peak)/(1<<20), float64(idle)/(1<<20))
		if peak >= mb<<20 {
			t.Errorf("process %d: peak RSS %.1f MiB, want under the deployed %d MiB", i, float64(peak)/(1<<20), mb)
		}
	}
}

// manyRowsCLSEvent is a CLS event of about 190 KB whose answer has 20,000
// rows: 10,000 unreadable records (a resourceName that is no qcs resource
// string) and 10,000 buckets of 100 accounts out of scope.
func manyRowsCLSEvent(t *testing.T) []byte {
	var audits []map[string]any
	for i := range 10000 {
		account := fmt.Sprintf("1000%08d", 100+i%100)
		audits = append(audits, putBucketAudit(account, fmt.Sprintf("b%s%05d-1250000011", strings.Repeat("x", 13), i), "ap-guangzhou"))
		bad := putBucketAudit(account, "photos-1250000011", "ap-guangzhou")
		bad["resourceName"] = "qcs:" + strings.Repeat("x", 76) + fmt.Sprint(i) // not a qcs resource string: unreadable
		audits = append(audits, bad)
	}
	return clsPayload(t, audits...)
}

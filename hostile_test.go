package main_test

// Hostile events through the SCF RPC path (issue #4): every one must end in
// a clear invocation error or an explicit "skipped" result with a reason,
// send no request outside *.myqcloud.com (checked with the emulator's log
// and with a catch-all proxy that would see any request leaving the
// process), keep the process's memory bounded and leave the process able
// to serve the next valid event.

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picbucket/picbucket/handler"
	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/scfrpc"
	"github.com/picbucket/picbucket/internal/trigger"
)

// catchAll is an HTTP server that records every request it gets,
// including proxy CONNECTs, and refuses them all.
type catchAll struct {
	srv *httptest.Server
	mu  sync.Mutex
	got []string // "METHOD host"
}

func newCatchAll(t *testing.T) *catchAll {
	c := &catchAll{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.got = append(c.got, r.Method+" "+r.Host)
		c.mu.Unlock()
		http.Error(w, "catch-all: refused", http.StatusForbidden)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *catchAll) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.got
	c.got = nil
	return g
}

// peakRSSKB reads VmHWM (peak resident set size, kB) of a process.
func peakRSSKB(t *testing.T, pid int) int {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			if err != nil {
				t.Fatalf("VmHWM %q: %v", v, err)
			}
			return n
		}
	}
	t.Fatalf("no VmHWM in /proc/%d/status", pid)
	return 0
}

// Event builders.

func manualEvent(bucketJSON, regionJSON string) string {
	return `{"buckets":[{"bucket":` + bucketJSON + `,"region":` + regionJSON + `}]}`
}

func cosEvent(nameJSON, appidJSON, regionJSON string) string {
	return `{"Records":[{"cos":{"cosSchemaVersion":"1.0","cosObject":{"key":"/k"},"cosBucket":{"name":` + nameJSON +
		`,"appid":` + appidJSON + `,"region":` + regionJSON + `}},"event":{"eventName":"cos:ObjectCreated:Put"}}]}`
}

// putBucketEnvelope is one CloudAudit PutBucket envelope; data holds the
// members of data after eventName.
func putBucketEnvelope(data string) string {
	return `{"specversion":"1.0","id":"x","source":"cos.cloud.tencent","type":"cos:CloudEvent:ApiCall","subject":"",` +
		`"time":1716200102000,"region":"ap-guangzhou","datacontenttype":"application/json;charset=utf-8",` +
		`"data":{"eventName":"PutBucket","eventType":"ApiCall"` + data + `}}`
}

func timerEvent(messageJSON string) string {
	return `{"Type":"Timer","TriggerName":"t","Time":"2024-05-20T10:00:00Z","Message":` + messageJSON + `}`
}

// eventList joins n envelopes made by mk into {"EventList":[…]}.
func eventList(n int, mk func(i int) string) []byte {
	var b bytes.Buffer
	b.WriteString(`{"EventList":[`)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(mk(i))
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// failedPutBucket is a CloudAudit record of a PutBucket call that failed.
func failedPutBucket(i int) string {
	return putBucketEnvelope(fmt.Sprintf(`,"errorCode":403,"apiErrorCode":"BucketAlreadyExists","errorMessage":"taken",`+
		`"requestParameters":{"Bucket":"taken%d-1250000000","Region":"ap-guangzhou"}`, i))
}

// paddedFailedList is an EventList of failed PutBucket records whose
// errorMessage pads the payload to exactly size bytes.
func paddedFailedList(t *testing.T, size, records int) []byte {
	t.Helper()
	base := eventList(records, func(i int) string {
		return putBucketEnvelope(fmt.Sprintf(`,"errorCode":403,"requestParameters":{"Bucket":"taken%d-1250000000"},"errorMessage":"%%s"`, i))
	})
	// Each record carries one %s; spread the padding over them.
	pad := size - (len(base) - 2*records)
	if pad < records {
		t.Fatalf("cannot pad to %d bytes", size)
	}
	args := make([]any, records)
	for i := range records {
		n := pad / records
		if i == 0 {
			n += pad % records
		}
		args[i] = strings.Repeat("x", n)
	}
	out := fmt.Appendf(nil, string(base), args...)
	if len(out) != size {
		t.Fatalf("padded payload is %d bytes, want %d", len(out), size)
	}
	return out
}

// hostileCase is one hostile payload and what must come of it: an
// invocation error containing wantErr, or (wantErr == "") a result whose
// every bucket is skipped, skipped of them, each reason containing reason.
type hostileCase struct {
	name    string
	payload []byte
	wantErr string
	skipped int
	reason  string
}

func hostileCases(t *testing.T) []hostileCase {
	e := func(name, payload, wantErr string) hostileCase {
		return hostileCase{name: name, payload: []byte(payload), wantErr: wantErr}
	}
	s := func(name, payload string, skipped int, reason string) hostileCase {
		return hostileCase{name: name, payload: []byte(payload), skipped: skipped, reason: reason}
	}
	putBucket := string(readEvent(t, "eventbridge-putbucket.json"))
	otherAccount := eventList(trigger.MaxEventList, func(i int) string {
		return putBucketEnvelope(fmt.Sprintf(`,"errorCode":0,"resourceName":"b%d-1250000001","eventRegion":"ap-guangzhou"`, i))
	})
	return []hostileCase{
		// Not JSON, or not one JSON object.
		e("not JSON", `photos please`, "not valid JSON"),
		e("empty payload", ``, "empty payload"),
		e("only white space", " \r\n\t ", "empty payload"),
		e("truncated manual", `{"buckets":[{"bucket":"photos-1250000000"`, "not valid JSON"),
		e("truncated EventBridge", putBucket[:len(putBucket)/2], "not valid JSON"),
		e("JSON array", `[{"bucket":"photos-1250000000","region":"ap-guangzhou"}]`, "JSON array"),
		e("JSON string", `"photos-1250000000"`, "JSON string"),
		e("JSON null", `null`, "JSON null"),
		e("JSON number", `1250000000`, "JSON number"),
		e("two values", `{} {}`, "not valid JSON"),
		e("trailing garbage", manualEvent(`"photos-1250000000"`, `"ap-guangzhou"`)+`x`, "not valid JSON"),
		e("byte order mark", "\xef\xbb\xbf"+manualEvent(`"photos-1250000000"`, `"ap-guangzhou"`), "not valid JSON"),
		e("raw NUL in string", manualEvent("\"photos-1250000000\x00\"", `"ap-guangzhou"`), "not valid JSON"),
		e("NUL before JSON", "\x00"+manualEvent(`"photos-1250000000"`, `"ap-guangzhou"`), "not valid JSON"),
		e("invalid UTF-8 in name", manualEvent("\"\xff\xfephotos-1250000000\"", `"ap-guangzhou"`), "invalid bucket name"),
		e("escaped NUL in name", manualEvent(`"photos-1250000000\u0000"`, `"ap-guangzhou"`), "invalid bucket name"),
		// Size.
		{name: "6 MiB + 1", payload: paddedFailedList(t, trigger.MaxPayload+1, 100), wantErr: "MaxPayload"},
		{name: "6 MiB exactly", payload: paddedFailedList(t, trigger.MaxPayload, 100), skipped: 100, reason: "PutBucket failed"},
		// Depth.
		e("100k nested arrays", strings.Repeat("[", 100000)+strings.Repeat("]", 100000), "not valid JSON"),
		e("100k nested objects in a bucket", manualEvent(strings.Repeat(`{"a":`, 100000)+`1`+strings.Repeat(`}`, 100000), `"ap-guangzhou"`), "not valid JSON"),
		e("nested object as bucket", manualEvent(`{"a":{"b":{"c":"photos-1250000000"}}}`, `"ap-guangzhou"`), "want a JSON string"),
		e("deep data string", `{"source":"cos.cloud.tencent","data":"`+strings.Repeat(`{\"a\":`, 20000)+`1`+strings.Repeat(`}`, 20000)+`"}`, "not JSON"),
		// EventList size.
		{name: "EventList 10,000 failed PutBucket", payload: eventList(trigger.MaxEventList, failedPutBucket),
			skipped: trigger.MaxEventList, reason: "PutBucket failed"},
		{name: "EventList 10,000 of another account", payload: otherAccount,
			skipped: trigger.MaxEventList, reason: "other account"},
		{name: "EventList 10,001", payload: eventList(trigger.MaxEventList+1, failedPutBucket), wantErr: "more than 10000"},
		e("EventList empty", `{"EventList":[]}`, "at least 1"),
		e("EventList object", `{"EventList":{"0":{}}}`, "want a JSON array"),
		e("EventList of numbers", `{"EventList":[1,2,3]}`, "want a JSON object"),
		// Numbers for strings and the reverse.
		e("number for bucket", manualEvent(`1250000000`, `"ap-guangzhou"`), "want a JSON string"),
		e("number for region", manualEvent(`"photos-1250000000"`, `1`), "want a JSON string"),
		e("array for bucket", manualEvent(`["photos-1250000000"]`, `"ap-guangzhou"`), "want a JSON string"),
		e("bool for bucket", manualEvent(`true`, `"ap-guangzhou"`), "want a JSON string"),
		e("string for dryRun", `{"buckets":[{"bucket":"photos-1250000000","region":"ap-guangzhou"}],"dryRun":"false"}`, "want true or false"),
		e("object for timer Message", timerEvent(`{"regions":["ap-guangzhou"]}`), "Message"),
		e("number for timer region", timerEvent(`"{\"regions\":[1]}"`), "want a JSON string"),
		e("bool for COS appid", cosEvent(`"photos"`, `true`, `"gz"`), "appid"),
		e("float for COS appid", cosEvent(`"photos"`, `1.25e9`, `"gz"`), "appid"),
		e("number for COS region", cosEvent(`"photos"`, `"1250000000"`, `12`), "want a JSON string"),
		e("number for resourceName", putBucketEnvelope(`,"errorCode":0,"resourceName":1250000000`), "want a JSON string"),
		s("string error code", putBucketEnvelope(`,"errorCode":"AccessDenied","resourceName":"photos-1250000000"`), 1, "PutBucket failed"),
		s("huge error code", putBucketEnvelope(`,"errorCode":1e999,"resourceName":"photos-1250000000"`), 1, "PutBucket failed"),
		s("object error code", putBucketEnvelope(`,"errorCode":{"code":0},"resourceName":"photos-1250000000"`), 1, "PutBucket failed"),
		// Duplicate keys: the last one wins, and it is validated.
		e("duplicate bucket key, evil last", `{"buckets":[{"bucket":"photos-1250000000","bucket":"photos@evil.com","region":"ap-guangzhou"}]}`, "invalid bucket name"),
		s("duplicate bucket key, other account last", `{"buckets":[{"bucket":"photos@evil.com","bucket":"photos-1250000001","region":"ap-guangzhou"}]}`, 1, "other account"),
		e("duplicate buckets array, evil last", `{"buckets":[{"bucket":"photos-1250000000","region":"ap-guangzhou"}],"buckets":[{"bucket":"evil.com-1","region":"ap-guangzhou"}]}`, "invalid bucket name"),
		e("duplicate key in another case", `{"buckets":[{"bucket":"photos-1250000001","region":"ap-guangzhou"}],"Buckets":[]}`, "unknown key"),
		e("duplicate region key, evil last", `{"buckets":[{"bucket":"photos-1250000000","region":"ap-guangzhou","region":"ap-guangzhou.evil.com"}]}`, "invalid region"),
		s("duplicate errorCode, failure last", putBucketEnvelope(`,"errorCode":0,"errorCode":1,"resourceName":"photos-1250000000"`), 1, "PutBucket failed"),
		// CR/LF and control characters.
		e("CRLF in bucket", manualEvent(`"photos-1250000000\r\nHost: evil.com"`, `"ap-guangzhou"`), "invalid bucket name"),
		e("LF after bucket", manualEvent(`"photos-1250000000\n"`, `"ap-guangzhou"`), "invalid bucket name"),
		e("CRLF in region", manualEvent(`"photos-1250000000"`, `"ap-guangzhou\r\n"`), "invalid region"),
		e("CRLF in COS name", cosEvent(`"photos\r\nX: y"`, `"1250000000"`, `"gz"`), "invalid bucket name"),
		e("CRLF in resourceName", putBucketEnvelope(`,"errorCode":0,"resourceName":"photos-1250000000\r\n.evil.com"`), "invalid bucket name"),
		e("tab in region", manualEvent(`"photos-1250000000"`, `"ap-\tguangzhou"`), "invalid region"),
		// Look-alikes and case.
		e("Cyrillic o", manualEvent(`"phоtos-1250000000"`, `"ap-guangzhou"`), "invalid bucket name"),
		e("fullwidth letters", manualEvent(`"ｐｈｏｔｏｓ-1250000000"`, `"ap-guangzhou"`), "invalid bucket name"),
		e("fullwidth digits", manualEvent(`"photos-１２５００００００"`, `"ap-guangzhou"`), "invalid bucket name"),
		e("zero-width space", manualEvent(`"photos\u200b-1250000000"`, `"ap-guangzhou"`), "invalid bucket name"),
		e("dotless i", manualEvent(`"ımages-1250000000"`, `"ap-guangzhou"`), "invalid bucket name"),
		e("Cyrillic o in region", manualEvent(`"photos-1250000000"`, `"ap-guangzhоu"`), "invalid region"),
		e("uppercase bucket", manualEvent(`"Photos-1250000000"`, `"ap-guangzhou"`), "invalid bucket name"),
		e("uppercase region", manualEvent(`"photos-1250000000"`, `"AP-GUANGZHOU"`), "invalid region"),
		e("uppercase COS short region", cosEvent(`"photos"`, `"1250000000"`, `"GZ"`), "invalid region"),
		e("uppercase COS name", cosEvent(`"PHOTOS"`, `"1250000000"`, `"gz"`), "invalid bucket name"),
		// Paths, user info, ports and foreign hosts in names and regions.
		e("bucket/../x", manualEvent(`"photos/../x-1250000000"`, `"ap-guangzhou"`), "invalid bucket name"),
		e("bucket-appid/../x", manualEvent(`"photos-1250000000/../x"`, `"ap-guangzhou"`), "invalid bucket name"),
		e("bucket@evil.com", manualEvent(`"photos@evil.com"`, `"ap-guangzhou"`), "invalid bucket name"),
		e("bucket-appid@evil.com", manualEvent(`"photos-1250000000@evil.com"`, `"ap-guangzhou"`), "invalid bucket name"),
		e("dotted bucket", manualEvent(`"evil.com-1250000000"`, `"ap-guangzhou"`), "invalid bucket name"),
		e("bucket with port", manualEvent(`"photos-1250000000:443"`, `"ap-guangzhou"`), "invalid bucket name"),
		e("bucket with fragment", manualEvent(`"evil.com#-1"`, `"ap-guangzhou"`), "invalid bucket name"),
		e("region .evil.com", manualEvent(`"photos-1250000000"`, `"ap-guangzhou.evil.com"`), "invalid region"),
		e("region :443", manualEvent(`"photos-1250000000"`, `"ap-guangzhou:443"`), "invalid region"),
		e("region localhost", manualEvent(`"photos-1250000000"`, `"localhost"`), "invalid region"),
		e("region 127.0.0.1", manualEvent(`"photos-1250000000"`, `"127.0.0.1"`), "invalid region"),
		e("region @evil.com", manualEvent(`"photos-1250000000"`, `"ap-guangzhou@evil.com"`), "invalid region"),
		e("region path", manualEvent(`"photos-1250000000"`, `"ap-guangzhou/../../x"`), "invalid region"),
		e("COS region gz.evil.com", cosEvent(`"photos"`, `"1250000000"`, `"gz.evil.com"`), "invalid region"),
		e("COS name @evil.com", cosEvent(`"photos@evil.com"`, `"1250000000"`, `"gz"`), "invalid bucket name"),
		e("COS appid with host", cosEvent(`"photos"`, `"1250000000.evil.com"`, `"gz"`), "appid"),
		e("qcs region .evil.com", putBucketEnvelope(`,"errorCode":0,"resourceName":"qcs::cos:ap-guangzhou.evil.com:uid/1250000000:photos-1250000000"`), "invalid region"),
		e("qcs bucket @evil.com", putBucketEnvelope(`,"errorCode":0,"resources":"qcs::cos:ap-guangzhou:uid/1250000000:photos@evil.com"`), "invalid bucket name"),
		e("eventRegion localhost", putBucketEnvelope(`,"errorCode":0,"resourceName":"photos-1250000000","eventRegion":"localhost"`), "invalid region"),
		e("requestParameters bucket with host", putBucketEnvelope(`,"errorCode":0,"requestParameters":"{\"bucket\":\"photos-1250000000.cos.ap-guangzhou.myqcloud.com.evil.com\"}"`), "invalid bucket name"),
		e("timer region :443", timerEvent(`"{\"regions\":[\"ap-guangzhou:443\"]}"`), "invalid region"),
		e("timer include outside the alphabet", timerEvent(`"{\"include\":[\"../*\"]}"`), "can never match"),
		e("manual reconcile localhost", `{"reconcile":{"regions":["localhost"]}}`, "invalid region"),
		// Another account, failed calls, other events.
		s("manual bucket of another APPID", manualEvent(`"photos-1250000001"`, `"ap-guangzhou"`), 1, "other account"),
		s("PutBucket of another APPID", putBucketEnvelope(`,"errorCode":0,"resourceName":"photos-1250000001","eventRegion":"ap-guangzhou"`), 1, "other account"),
		s("COS record of another APPID", cosEvent(`"photos"`, `"1250000001"`, `"gz"`), 1, "other account"),
		s("failed PutBucket", putBucketEnvelope(`,"errorCode":403,"apiErrorCode":"BucketAlreadyExists","requestParameters":{"Bucket":"photos-1250000000","Region":"ap-guangzhou"}`), 1, "PutBucket failed"),
		s("failed PutBucket naming an evil host", putBucketEnvelope(`,"errorCode":1,"resourceName":"photos@evil.com","eventRegion":"ap-guangzhou.evil.com"`), 1, "PutBucket failed"),
		s("not a COS event", `{"specversion":"1.0","source":"cvm.cloud.tencent","data":{"eventName":"RunInstances"}}`, 1, "source"),
		s("DeleteBucket", `{"specversion":"1.0","source":"cos.cloud.tencent","data":{"eventName":"DeleteBucket","resourceName":"photos-1250000000"}}`, 1, "eventName"),
		// Shapes.
		e("ambiguous shape", `{"buckets":[{"bucket":"photos-1250000000","region":"ap-guangzhou"}],"Records":[]}`, "ambiguous"),
		e("unknown shape", `{"hello":"world"}`, "unrecognised event"),
		e("timer of another type", `{"Type":"Timerx","Message":""}`, "Timer"),
	}
}

// checkHostile runs every case on f and checks its outcome, that nothing
// reached the emulator (when useEmu) or the catch-all, and that the process
// still serves a valid event midway and at the end (control, which checks
// its own requests).
func checkHostile(t *testing.T, f *fixture, catch *catchAll, useEmu bool, control func(t *testing.T)) {
	cases := hostileCases(t)
	if len(cases) < 40 {
		t.Fatalf("%d hostile cases, want at least 40", len(cases))
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f.emu.ResetRequests()
			f.t = t
			res, errMsg := f.invoke(c.payload)
			switch {
			case c.wantErr != "":
				if res != nil || errMsg == "" {
					t.Fatalf("accepted: %+v", res.Summary)
				}
				if !strings.Contains(errMsg, c.wantErr) {
					t.Errorf("error %q does not mention %q", errMsg, c.wantErr)
				}
				if len(errMsg) > 1000 {
					t.Errorf("error is %d bytes long: %.200s…", len(errMsg), errMsg)
				}
			default:
				if errMsg != "" {
					t.Fatalf("invocation error %q, want %d skipped", errMsg, c.skipped)
				}
				if res.Summary.Skipped != c.skipped || len(res.Results) != c.skipped {
					t.Errorf("summary %+v with %d results, want %d skipped", res.Summary, len(res.Results), c.skipped)
				}
				for _, b := range res.Results {
					if b.Outcome != handler.Skipped || !strings.Contains(b.Reason, c.reason) {
						t.Errorf("result %+v, want skipped with a reason mentioning %q", b, c.reason)
						break
					}
				}
				if res.Requests != 0 {
					t.Errorf("result counts %d requests", res.Requests)
				}
			}
			if useEmu {
				if n := len(f.emu.Requests()); n != 0 {
					t.Errorf("%d requests reached the emulator", n)
				}
			}
			if got := catch.take(); len(got) != 0 {
				t.Errorf("the catch-all saw %q", got)
			}
			f.logs() // the closing log line was written
		})
		if i == len(cases)/2 {
			t.Run("control midway", control)
		}
	}
	t.Run("control at the end", control)
}

// TestHostileEvents sends the hostile corpus to a function wired to the
// emulator; HTTP(S)_PROXY points at a catch-all as well, which must see
// nothing (the emulator is on 127.0.0.1, which Go never proxies, so any
// request it sees went somewhere else).
func TestHostileEvents(t *testing.T) {
	catch := newCatchAll(t)
	f := start(t, emulator.Options{}, "HTTPS_PROXY="+catch.srv.URL, "HTTP_PROXY="+catch.srv.URL, "LOG_LEVEL=debug")
	seedSamples(f.emu)
	parent := f.t
	var controls int
	checkHostile(t, f, catch, true, func(t *testing.T) {
		f.t = t
		f.emu.ResetRequests()
		controls++
		res, errMsg := f.invoke([]byte(manualEvent(`"photos-1250000000"`, `"ap-guangzhou"`)))
		if errMsg != "" {
			t.Fatalf("valid event after hostile ones: %s", errMsg)
		}
		want := handler.Enabled
		if controls > 1 {
			want = handler.AlreadyEnabled
		}
		if got := outcomes(res)["photos-1250000000@ap-guangzhou"]; got != want {
			t.Errorf("outcome %s, want %s", got, want)
		}
		if got := f.requests(defaultCreds); len(got) != 1 || got[0] != ci("photos-1250000000", "ap-guangzhou") {
			t.Errorf("requests %q, want one Create", got)
		}
		if got := catch.take(); len(got) != 0 {
			t.Errorf("the catch-all saw %q", got)
		}
	})
	f.t = parent
	kb := peakRSSKB(t, f.proc.Pid())
	t.Logf("peak RSS of the function process after the hostile corpus: %d kB", kb)
	if kb > 200<<10 {
		t.Errorf("peak RSS %d kB, want under 200 MB", kb)
	}
}

// TestHostileEventsThroughProxy runs the corpus with no PICBUCKET_ENDPOINT:
// every request the function makes would go to the real COS/CI hosts, and
// HTTPS_PROXY sends it to the catch-all instead, which records the CONNECT
// target and refuses it. Hostile events must produce no CONNECT at all; a
// valid control event must produce CONNECTs to *.myqcloud.com:443 only.
func TestHostileEventsThroughProxy(t *testing.T) {
	catch := newCatchAll(t)
	f := start(t, emulator.Options{}, "PICBUCKET_ENDPOINT=", "HTTPS_PROXY="+catch.srv.URL, "HTTP_PROXY="+catch.srv.URL,
		"NO_PROXY=", "no_proxy=")
	parent := f.t
	checkHostile(t, f, catch, false, func(t *testing.T) {
		f.t = t
		for _, ev := range []struct {
			payload []byte
			host    string
		}{
			{[]byte(manualEvent(`"photos-1250000000"`, `"ap-guangzhou"`)), "photos-1250000000.ci.ap-guangzhou.myqcloud.com:443"},
			{readEvent(t, "timer.json"), "service.cos.myqcloud.com:443"},
		} {
			_, errMsg := f.invoke(ev.payload)
			if errMsg == "" {
				t.Errorf("invocation succeeded although the proxy refuses every request")
			}
			got := catch.take()
			if len(got) == 0 {
				t.Fatalf("the valid event sent nothing through the proxy (error %q)", errMsg)
			}
			for _, g := range got {
				if g != "CONNECT "+ev.host {
					t.Errorf("proxy saw %q, want only CONNECT %s", g, ev.host)
				}
			}
			if host, _, err := net.SplitHostPort(ev.host); err != nil || !strings.HasSuffix(host, ".myqcloud.com") {
				t.Fatalf("bad expectation %q", ev.host)
			}
			t.Logf("control: %d CONNECT %s; error %q", len(got), ev.host, errMsg)
		}
	})
	f.t = parent
	kb := peakRSSKB(t, f.proc.Pid())
	t.Logf("peak RSS of the function process after the hostile corpus: %d kB", kb)
	if kb > 200<<10 {
		t.Errorf("peak RSS %d kB, want under 200 MB", kb)
	}
}

// invokeRaw is invokeWith with extra environment and the raw answer: the
// result payload as sent (nil on error) and the error message.
func invokeRaw(f *fixture, payload []byte, env map[string]string, timeout time.Duration) ([]byte, string) {
	f.t.Helper()
	f.n++
	resp, err := f.proc.Invoke(scfrpc.Invocation{
		Payload: payload, RequestID: fmt.Sprintf("req-%d", f.n), Timeout: timeout,
		Environment: env, AppID: appID, Region: "ap-guangzhou", Function: "picbucket",
	})
	if err != nil {
		f.t.Fatalf("rpc: %v", err)
	}
	if resp.Error != nil {
		return nil, resp.Error.Message
	}
	return resp.Payload, ""
}

// TestDebugEventMasking sends events that carry a caller's secrets (a COS
// upload's Authorization header and security token, CloudAudit's secretId
// and source IP) at LOG_LEVEL=debug, where the function logs the event
// text, and checks that none of the values reaches the output.
func TestDebugEventMasking(t *testing.T) {
	const sig, tok, akid, ip = "CANARYSIGf00dfeed", "CANARYTOKcafe", "AKIDCANARYcaller", "203.0.113.77"
	cosWith := func(headers string) string {
		return `{"Records":[{"cos":{"cosBucket":{"name":"photos","appid":"1250000000","region":"gz"}},` +
			`"event":{"eventName":"cos:ObjectCreated:Put","requestParameters":{"requestSourceIP":"` + ip + `","requestHeaders":` + headers + `}}}]}`
	}
	cases := []struct{ name, payload string }{
		{"COS headers", cosWith(`{"Authorization":"q-sign-algorithm=sha1&q-ak=` + akid + `&q-signature=` + sig + `","x-cos-security-token":"` + tok + `"}`)},
		{"COS headers, & escaped as \\u0026", cosWith(`{"Authorization":"q-sign-algorithm=sha1\u0026q-ak=` + akid + `\u0026q-signature=` + sig + `","x-cos-security-token":"` + tok + `"}`)},
		{"COS headers, lowercase key, spaces", cosWith(`{"authorization" : "q-signature=` + sig + `", "X-Cos-Security-Token" : "` + tok + `"}`)},
		{"CloudAudit data object", putBucketEnvelope(`,"errorCode":0,"resourceName":"photos-1250000000","eventRegion":"ap-guangzhou","sourceIPAddress":"` + ip + `","userIdentity":{"secretId":"` + akid + `","sessionToken":"` + tok + `"}`)},
		{"CloudAudit data string", `{"specversion":"0","source":"cos.cloud.tencent","data":"{\"eventName\":\"PutBucket\",\"errorCode\":0,\"resourceName\":\"photos-1250000000\",\"eventRegion\":\"ap-guangzhou\",\"sourceIPAddress\":\"` + ip + `\",\"userIdentity\":{\"secretId\":\"` + akid + `\"}}"}`},
		{"CloudAudit data string holding requestParameters string", `{"specversion":"0","source":"cos.cloud.tencent","data":"{\"eventName\":\"PutBucket\",\"errorCode\":0,\"eventRegion\":\"ap-guangzhou\",\"requestParameters\":\"{\\\"bucket\\\":\\\"photos-1250000000\\\",\\\"x-cos-security-token\\\":\\\"` + tok + `\\\",\\\"SecretId\\\":\\\"` + akid + `\\\"}\"}"}`},
	}
	f := start(t, emulator.Options{}, "LOG_LEVEL=debug")
	seedSamples(f.emu)
	parent := f.t
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f.t = t
			before := len(f.out.String())
			raw, errMsg := invokeRaw(f, []byte(c.payload), defaultCreds.env(), 30*time.Second)
			out := f.logs()[before:] + errMsg + string(raw)
			if !strings.Contains(out, `"message":"event"`) {
				t.Fatalf("no debug event line; error %q", errMsg)
			}
			var leaked []string
			for _, v := range []string{sig, tok, akid, ip} {
				if strings.Contains(out, v) {
					leaked = append(leaked, v)
				}
			}
			if len(leaked) == 0 {
				return
			}
			t.Errorf("the output holds %q:\n%s", leaked, out)
		})
	}
	f.t = parent
}

// TestSecretsNeverLeak runs every path the function has, with distinctive
// credentials at LOG_LEVEL=debug, through the SDK's error paths too: 5xx,
// throttling, dropped connections, a refused connection, a refusing proxy,
// a deadline in the middle of a call, a wrong secret key for a known id
// (SignatureDoesNotMatch), a wrong token, an unknown id, a missing token,
// expired keys, an invalid setting and an invalid event that both carry the
// key. It collects stdout and stderr of the processes, every RPC error
// message and every result payload, and looks for the secrets in any
// encoding and for signature material.
func TestSecretsNeverLeak(t *testing.T) {
	good := creds{"AKIDcanaryId0001", "LEAKCANARY-secret-key-Q7w+/=", "LEAKCANARY-session-token-Z9x+/="}
	wrongKey := creds{good.id, "LEAKCANARY-wrong-key-P3v+/=", good.token}
	wrongToken := creds{good.id, good.key, "LEAKCANARY-wrong-token-K2m"}
	unknownID := creds{"AKIDunknown00002", "LEAKCANARY-unknown-key-R5t", "LEAKCANARY-unknown-token-J8n"}
	noToken := creds{good.id, good.key, ""}
	secrets := []string{good.key, good.token, wrongKey.key, wrongToken.token, unknownID.key, unknownID.token}

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String()
	closed.Close()
	catch := newCatchAll(t)

	primary := start(t, emulator.Options{}, "LOG_LEVEL=debug")
	refused := start(t, emulator.Options{}, "LOG_LEVEL=debug", "PICBUCKET_ENDPOINT="+closedURL)
	proxied := start(t, emulator.Options{}, "LOG_LEVEL=debug", "PICBUCKET_ENDPOINT=", "HTTPS_PROXY="+catch.srv.URL)
	for _, f := range []*fixture{primary, refused, proxied} {
		f.emu.AddCredential(emulator.Credential{SecretID: good.id, SecretKey: good.key, Token: good.token, AppID: appID})
		seedSamples(f.emu)
	}
	emu := primary.emu
	var collected []string
	run := func(f *fixture, name string, c creds, extra map[string]string, timeout time.Duration, payload []byte, wantErr string) {
		t.Helper()
		env := c.env()
		for k, v := range extra {
			env[k] = v
		}
		raw, errMsg := invokeRaw(f, payload, env, timeout)
		collected = append(collected, errMsg, string(raw))
		if wantErr != "" && !strings.Contains(errMsg, wantErr) {
			t.Errorf("%s: error %q, want one containing %q", name, errMsg, wantErr)
		}
		if wantErr == "" && errMsg != "" {
			t.Errorf("%s: unexpected error %q", name, errMsg)
		}
		f.logs()
	}
	ev := func(name string) []byte { return readEvent(t, name) }
	manualOne := []byte(manualEvent(`"photos-1250000000"`, `"ap-guangzhou"`))

	// Successful runs through retried faults.
	emu.Inject(emulator.Fault{Action: emulator.ActionCreatePicProcessBucket, Bucket: "photos-1250000000", Status: 503, Times: 1})
	emu.Inject(emulator.Fault{Action: emulator.ActionCreatePicProcessBucket, Bucket: "docs-1250000000", Status: 429, Code: "SlowDown", Times: 1})
	emu.Inject(emulator.Fault{Action: emulator.ActionCreatePicProcessBucket, Bucket: "logs-1250000000", Drop: true, Times: 2})
	emu.Inject(emulator.Fault{Action: emulator.ActionGetService, Status: 500, Times: 1})
	run(primary, "timer", good, nil, 30*time.Second, ev("timer.json"), "")
	for _, name := range []string{"eventbridge-batch.json", "eventbridge-putbucket.json", "eventbridge-putbucket-nobucket.json",
		"cos-records.json", "manual-reconcile.json", "timer-options.json"} {
		run(primary, name, good, nil, 30*time.Second, ev(name), "")
	}
	// Failures that end the invocation with an error.
	emu.AddBucket("fail-1250000000", "ap-guangzhou", false)
	emu.Inject(emulator.Fault{Action: emulator.ActionCreatePicProcessBucket, Bucket: "fail-1250000000", Status: 500, Times: 100})
	run(primary, "persistent 500", good, nil, 30*time.Second, []byte(manualEvent(`"fail-1250000000"`, `"ap-guangzhou"`)), "InternalError")
	emu.AddBucket("drop-1250000000", "ap-guangzhou", false)
	emu.Inject(emulator.Fault{Action: emulator.ActionCreatePicProcessBucket, Bucket: "drop-1250000000", Drop: true, Times: 100})
	run(primary, "dropped connections", good, nil, 30*time.Second, []byte(manualEvent(`"drop-1250000000"`, `"ap-guangzhou"`)), "EOF")
	emu.AddBucket("slow-1250000000", "ap-guangzhou", false)
	emu.Inject(emulator.Fault{Action: emulator.ActionCreatePicProcessBucket, Bucket: "slow-1250000000", Delay: 10 * time.Second, Times: 100})
	// The deadline cutting a call defers the bucket: no error (issue 9).
	run(primary, "deadline during a call", good, map[string]string{"PICBUCKET_DEADLINE_MARGIN": "1s"}, 3*time.Second,
		[]byte(manualEvent(`"slow-1250000000"`, `"ap-guangzhou"`)), "")
	emu.AddBucket("other-1250000000", "ap-guangzhou", false)
	other := []byte(manualEvent(`"other-1250000000"`, `"ap-guangzhou"`))
	run(primary, "wrong secret key", wrongKey, nil, 30*time.Second, other, "SignatureDoesNotMatch")
	run(primary, "wrong token", wrongToken, nil, 30*time.Second, other, "AccessDenied")
	run(primary, "unknown secret id", unknownID, nil, 30*time.Second, other, "InvalidAccessKeyId")
	run(primary, "no token", noToken, nil, 30*time.Second, other, "AccessDenied")
	run(primary, "wrong key on GetService", wrongKey, nil, 30*time.Second, ev("timer.json"), "SignatureDoesNotMatch")
	run(primary, "setting holding the key", good, map[string]string{"PICBUCKET_REGIONS": good.key}, 30*time.Second, manualOne, "PICBUCKET_REGIONS")
	run(primary, "event holding the key and token", good, map[string]string{"PICBUCKET_REGIONS": ""}, 30*time.Second,
		[]byte(manualEvent(strconv.Quote(good.key), strconv.Quote(good.token))), "invalid")
	emu.ExpireCredential(good.id)
	run(primary, "expired key on CI", good, nil, 30*time.Second, other, "SignatureExpired")
	run(primary, "expired key on COS", good, nil, 30*time.Second, ev("timer.json"), "ExpiredToken")
	run(refused, "connection refused", good, nil, 30*time.Second, manualOne, "refused")
	run(proxied, "proxy refuses", good, nil, 30*time.Second, manualOne, "Forbidden")
	if got := catch.take(); len(got) == 0 {
		t.Error("the proxied run sent nothing to the proxy")
	}

	all := primary.out.String() + refused.out.String() + proxied.out.String() + strings.Join(collected, "\n")
	if !strings.Contains(all, `"level":"debug"`) {
		t.Fatal("no debug lines: LOG_LEVEL=debug not in force")
	}
	for _, want := range []string{"SignatureDoesNotMatch", "SignatureExpired", "connection refused", "EOF", "[redacted]"} {
		if !strings.Contains(all, want) {
			t.Errorf("output never mentions %q: the path did not run", want)
		}
	}
	var needles []string
	for _, s := range secrets {
		needles = append(needles, s, url.QueryEscape(s), base64.StdEncoding.EncodeToString([]byte(s)),
			base64.URLEncoding.EncodeToString([]byte(s)), hex.EncodeToString([]byte(s)), strings.TrimRight(s, "+/="))
	}
	needles = append(needles, "LEAKCANARY", "q-sign-algorithm", "q-ak=", "q-signature=", "q-key-time")
	for _, n := range needles {
		if i := strings.Index(all, n); i >= 0 {
			t.Errorf("output holds %q: …%s…", n, all[max(0, i-120):min(len(all), i+len(n)+40)])
		}
	}
	// "q-signature" and "Authorization" may appear only as the emulator's
	// words about a mismatch and as masked keys of a logged event.
	rest := strings.ReplaceAll(all, "does not match q-signature", "")
	rest = regexp.MustCompile(`\\"Authorization\\":\s*\\"\*\*\*\\"`).ReplaceAllString(rest, "")
	for _, n := range []string{"q-signature", "Authorization", "x-cos-security-token\":", "x-ci-security-token\":"} {
		if i := strings.Index(rest, n); i >= 0 {
			t.Errorf("output holds %q: …%s…", n, rest[max(0, i-120):min(len(rest), i+len(n)+40)])
		}
	}
	t.Logf("%d invocations, %d bytes of output and answers searched for %d needles", primary.n+refused.n+proxied.n, len(all), len(needles)+4)
}

package trigger

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/rules"
)

// clsEvent builds a CLS trigger event whose decompressed document is doc.
func clsEvent(doc []byte) []byte {
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(doc)
	w.Close()
	out, _ := json.Marshal(map[string]any{"clslogs": map[string]string{"data": base64.StdEncoding.EncodeToString(gz.Bytes())}})
	return out
}

// clsDoc builds a CLS document of the given record contents (each a JSON value).
func clsDoc(contents ...string) []byte {
	var recs []string
	for _, c := range contents {
		recs = append(recs, `{"timestamp":"1716200102000000","content":`+c+`}`)
	}
	return []byte(`{"topic_id":"t","topic_name":"n","records":[` + strings.Join(recs, ",") + `]}`)
}

// audit is a CloudAudit record as a JSON object; extra adds fields.
func audit(account, event, extra string) string {
	return `{"eventName":"` + event + `","resourceType":"cos","errorCode":0,"userIdentity":{"accountId":` + account + `}` + extra + `}`
}

// TestCLSSampleDecodesToItsSource: events/cls-audit.json holds the gzip of
// testdata/cls-audit.decoded.json, the readable form of the sample.
func TestCLSSampleDecodesToItsSource(t *testing.T) {
	payload, err := os.ReadFile(eventsDir + "/cls-audit.json")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../testdata/cls-audit.decoded.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev struct{ Clslogs struct{ Data string } }
	if err := json.Unmarshal(payload, &ev); err != nil {
		t.Fatal(err)
	}
	doc, err := gunzipBase64([]byte(ev.Clslogs.Data), "clslogs.data", 0)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimSpace(doc), bytes.TrimSpace(want)) {
		t.Errorf("events/cls-audit.json decodes to\n%s\nwant testdata/cls-audit.decoded.json", doc)
	}
}

func TestCLSAccounts(t *testing.T) {
	tests := []struct {
		name     string
		doc      []byte
		opts     Options
		accounts []AccountBuckets
		skipped  []string // reasons, in part
		notes    []string // in part
	}{
		{"grouped by account in order of first record, de-duplicated",
			clsDoc(
				`"`+strings.ReplaceAll(audit(`"100000000011"`, "PutBucket", `,"resourceName":"a-1250000011","eventRegion":"ap-shanghai"`), `"`, `\"`)+`"`,
				audit(`100000000001`, "PutBucket", `,"requestParameters":{"bucket":"b-1250000000","region":"ap-guangzhou"}`),
				audit(`100000000011`, "PutBucket", `,"resourceName":"a-1250000011","eventRegion":"ap-shanghai"`),
				audit(`100000000011`, "PutBucket", `,"requestParameters":"{\"bucket\":\"c-1250000011\"}"`)),
			Options{AppID: "1250000000"},
			[]AccountBuckets{
				{Uin: "100000000011", NeedAppID: true, Targets: []bucket.Target{tgt("a-1250000011", "ap-shanghai")}, Locate: []string{"c-1250000011"},
					Notes: []string{"PutBucket record clslogs.records[3] names bucket c-1250000011 (from clslogs.records[3].content.requestParameters.bucket) but no bucket region: locating it with GetService"}},
				{Uin: "100000000001", NeedAppID: true, Targets: []bucket.Target{tgt("b-1250000000", "ap-guangzhou")}},
			}, nil, nil},
		{"a name without its APPID is kept, even for the own account: the handler completes it",
			clsDoc(audit(`100000000012`, "PutBucket", `,"requestParameters":{"bucket":"short","region":"ap-beijing"}`),
				audit(`100000000012`, "PutBucket", `,"resourceName":"qcs::cos:ap-beijing:uid/1250000012:withqcs"`)),
			Options{AppID: "1250000000"},
			[]AccountBuckets{{Uin: "100000000012", NeedAppID: true,
				Targets: []bucket.Target{tgt("short", "ap-beijing"), tgt("withqcs-1250000012", "ap-beijing")}}}, nil, nil},
		{"a PutBucket that names no bucket reconciles its region in its account",
			clsDoc(audit(`100000000011`, "PutBucket", `,"eventRegion":"ap-chengdu"`)), Options{},
			[]AccountBuckets{{Uin: "100000000011", Reconcile: &Reconcile{Regions: []string{"ap-chengdu"}},
				Notes: []string{"PutBucket record clslogs.records[0] names no bucket: reconciling region ap-chengdu (from clslogs.records[0].content.eventRegion)"}}},
			nil, nil},
		{"unreadable records cost only themselves, each named by its path",
			clsDoc(`"not json"`, `7`,
				audit(`"12"`, "PutBucket", `,"resourceName":"a-1250000011","eventRegion":"ap-shanghai"`),
				`{"eventName":"PutBucket","resourceName":"a-1250000011","eventRegion":"ap-shanghai"}`,
				audit(`100000000011`, "PutBucket", `,"resourceName":"BAD_NAME","eventRegion":"ap-shanghai"`),
				audit(`100000000011`, "PutBucket", `,"resourceName":"ok-1250000011","eventRegion":"ap-shanghai"`)),
			Options{},
			[]AccountBuckets{{Uin: "100000000011", NeedAppID: true, Targets: []bucket.Target{tgt("ok-1250000011", "ap-shanghai")}}},
			[]string{"clslogs.records[0].content: want a JSON object or a string holding one, got a string that is not JSON (invalid character 'o' in literal null (expecting 'u') at line 1, column 2)",
				"clslogs.records[1].content: want a JSON object or a string holding one, got a number",
				"clslogs.records[2].content.userIdentity.accountId: want an account ID (UIN), 5 to 20 digits",
				"clslogs.records[3].content.userIdentity: required",
				"clslogs.records[4].content.resourceName"}, nil},
		{"records that are not a successful COS PutBucket are counted in one note",
			clsDoc(audit(`100000000011`, "PutObject", ``), audit(`100000000011`, "PutObject", ``),
				audit(`100000000011`, "PutBucket", `,"errorCode":403,"resourceName":"a-1250000011"`),
				`{"eventName":"PutBucket","resourceType":"cvm","userIdentity":{"accountId":100000000011}}`,
				audit(`100000000011`, "DeleteBucket", ``)),
			Options{}, nil, nil,
			[]string{`ignored 5 records that are not a successful COS PutBucket (eventName "PutObject": 2, eventName "DeleteBucket": 1, failed PutBucket: 1, resourceType "cvm": 1)`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := ParseWith(clsEvent(tc.doc), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if req.Kind != KindCLS || len(req.Targets)+len(req.Locate) != 0 || req.Reconcile != nil {
				t.Errorf("kind %q targets %v locate %v reconcile %v: want a CLS request with its buckets in Accounts", req.Kind, req.Targets, req.Locate, req.Reconcile)
			}
			if !reflect.DeepEqual(req.Accounts, tc.accounts) {
				t.Errorf("Accounts\n%+v\nwant\n%+v", req.Accounts, tc.accounts)
			}
			if len(req.Skipped) != len(tc.skipped) {
				t.Errorf("skipped %+v, want %d", req.Skipped, len(tc.skipped))
			}
			for i, s := range req.Skipped {
				if i < len(tc.skipped) && !strings.Contains(s.Reason, tc.skipped[i]) {
					t.Errorf("skip %d: %q, want it to contain %q", i, s.Reason, tc.skipped[i])
				}
			}
			for i, n := range tc.notes {
				if i >= len(req.Notes) || req.Notes[i] != n {
					t.Errorf("notes %q, want %q", req.Notes, tc.notes)
				}
			}
		})
	}
}

func TestCLSInvalid(t *testing.T) {
	if raceEnabled { // see TestCLSDocumentLimit
		defer func(old int64) { clsDocumentLimit = old }(clsDocumentLimit)
		clsDocumentLimit = 1 << 20
	}
	var bomb bytes.Buffer
	w, _ := gzip.NewWriterLevel(&bomb, gzip.BestCompression)
	w.Write([]byte(`{"records":[`))
	w.Write(bytes.Repeat([]byte(" "), 64<<20))
	w.Write([]byte(`]}`))
	w.Close()
	bombEvent := []byte(`{"clslogs":{"data":"` + base64.StdEncoding.EncodeToString(bomb.Bytes()) + `"}}`)
	if len(bombEvent) > 128<<10 {
		t.Fatalf("the bomb event is %d bytes, more than the 128 KB an asynchronous event may be", len(bombEvent))
	}
	tests := []struct {
		name    string
		payload []byte
		want    string
	}{
		{"a gzip bomb inside a 128 KB event", bombEvent, "clslogs.data: the gzip document decompresses to more than MaxCLSDocument (16 MiB)"},
		{"not base64", []byte(`{"clslogs":{"data":"%%%"}}`), "clslogs.data: not base64"},
		{"not gzip", []byte(`{"clslogs":{"data":"` + base64.StdEncoding.EncodeToString([]byte("plain text")) + `"}}`), "clslogs.data: not a gzip document"},
		{"a truncated gzip", func() []byte {
			e := clsEvent(clsDoc(audit("100000000011", "PutBucket", "")))
			var ev struct{ Clslogs struct{ Data string } }
			json.Unmarshal(e, &ev)
			gz, _ := base64.StdEncoding.DecodeString(ev.Clslogs.Data)
			return []byte(`{"clslogs":{"data":"` + base64.StdEncoding.EncodeToString(gz[:len(gz)-6]) + `"}}`)
		}(), "clslogs.data: the gzip document cannot be read"},
		{"not JSON inside", clsEvent([]byte("{\n  \"records\": [}")), "clslogs.data: the decompressed document is not JSON (invalid character '}' looking for beginning of value at line 2, column 15)"},
		{"no records array", clsEvent([]byte(`{"records":{}}`)), "clslogs.records: want a JSON array, got an object"},
		{"data not a string", []byte(`{"clslogs":{"data":7}}`), "clslogs.data: want a string"},
		{"clslogs not an object", []byte(`{"clslogs":[]}`), "clslogs: want a JSON object"},
		{"every record unreadable", clsEvent(clsDoc(`1`, `2`)), "none of the 2 records could be read"},
		{"ambiguous", []byte(`{"clslogs":{},"Records":[]}`), "ambiguous event"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := ParseWith(tc.payload, Options{})
			if err == nil || !errors.Is(err, ErrInvalidEvent) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Parse = %+v, %v; want an invalid event containing %q", req, err, tc.want)
			}
			if len(err.Error()) > maxMessage {
				t.Errorf("error is %d bytes", len(err.Error()))
			}
		})
	}
}

// TestCLSDocumentLimit: a document of exactly MaxCLSDocument bytes is
// read; one byte more is refused.
func TestCLSDocumentLimit(t *testing.T) {
	limit := int(clsDocumentLimit)
	if raceEnabled {
		// The boundary is the same code at any size; under the race
		// detector scanning 16 MiB takes over a minute.
		limit = 1 << 20
		defer func(old int64) { clsDocumentLimit = old }(clsDocumentLimit)
		clsDocumentLimit = int64(limit)
	}
	head := clsDoc(audit("100000000011", "PutBucket", `,"resourceName":"a-1250000011","eventRegion":"ap-shanghai"`))
	// Padded with an ignored array of many small values: the decoder holds
	// one value at a time, so no value nears MaxCLSValue.
	pad := func(n int) []byte {
		fill := n - len(head) - len(`"pad":[0],`)
		doc := `{"pad":[` + strings.Repeat("0,", fill/2) + strings.Repeat(" ", fill%2) + `0],` + string(head[1:])
		return []byte(doc)
	}
	if _, err := ParseWith(clsEvent(pad(limit)), Options{}); err != nil {
		t.Errorf("a document of %d bytes, the limit: %v", limit, err)
	}
	if _, err := ParseWith(clsEvent(pad(limit+1)), Options{}); err == nil || !strings.Contains(err.Error(), "MaxCLSDocument") {
		t.Errorf("a document of %d bytes, one past the limit: %v, want refused", limit+1, err)
	}
}

func TestAccountBucketsComplete(t *testing.T) {
	a := AccountBuckets{Uin: "100000000011", NeedAppID: true,
		Targets: []bucket.Target{tgt("short", "ap-beijing"), tgt("short-1250000011", "ap-beijing"), tgt("other-1250000099", "ap-beijing"),
			tgt(strings.Repeat("x", 40), "ap-beijing"), tgt("backup-20240520", "ap-beijing")},
		Locate: []string{"loc", "loc-1250000011", "logs-2024"}}
	got, skipped := a.Complete("1250000011")
	want := AccountBuckets{Uin: "100000000011",
		Targets: []bucket.Target{tgt("short-1250000011", "ap-beijing"), tgt("other-1250000099", "ap-beijing"), tgt("backup-20240520-1250000011", "ap-beijing")},
		Locate:  []string{"loc-1250000011", "logs-2024-1250000011"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Complete = %+v, want %+v", got, want)
	}
	if len(skipped) != 1 || !strings.Contains(skipped[0].Reason, "of account 100000000011") || !strings.Contains(skipped[0].Reason, "limit is 60") {
		t.Errorf("skipped %+v, want the too long name, naming its account", skipped)
	}
}

// TestJSONErrorsGiveLineAndColumn: a syntax error is placed by line and
// column, as an editor shows them, never by a byte offset.
func TestJSONErrorsGiveLineAndColumn(t *testing.T) {
	for _, tc := range []struct{ payload, want string }{
		{"{\n  \"Type\": \"Timer\",\n  \"Message\": x\n}", "line 3, column 14"},
		{`{"a":}`, "line 1, column 6"},
		{"\n\n  {\"a\" 1}", "line 3, column 8"},
	} {
		_, err := ParseWith([]byte(tc.payload), Options{})
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "offset") {
			t.Errorf("ParseWith(%q, Options{}) = %v, want an error at %s", tc.payload, err, tc.want)
		}
	}
}

// FuzzCLS fuzzes the decompressed CLS document (gzip would hide it from
// the fuzzer): Parse never panics, every error wraps ErrInvalidEvent and is
// bounded, and every bucket it returns is valid once completed.
func FuzzCLS(f *testing.F) {
	if doc, err := os.ReadFile("../../testdata/cls-audit.decoded.json"); err == nil {
		f.Add(doc)
	}
	for _, s := range []string{
		``, `{}`, `{"records":[]}`, `{"records":null}`, `[]`,
		string(clsDoc(audit(`100000000011`, "PutBucket", `,"resourceName":"a-1250000011","eventRegion":"ap-shanghai"`))),
		string(clsDoc(audit(`"100000000011"`, "PutBucket", `,"requestParameters":"{\"bucket\":\"short\"}"`))),
		string(clsDoc(audit(`100000000011`, "PutBucket", `,"resources":["qcs::cos:ap-tokyo:uid/1250000011:bucket/x/*"]`))),
		string(clsDoc(audit(`100000000011`, "PutBucket", `,"errorCode":"AccessDenied","resourceName":"../x"`))),
		string(clsDoc(`"{\"eventName\":\"PutBucket\",\"userIdentity\":\"{\\\"accountId\\\":12345}\"}"`, `{"content":null}`)),
		string(clsDoc(audit(`1e5`, "PutBucket", `,"eventRegion":"*"`))),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		req, err := ParseWith(clsEvent(doc), Options{AppID: "1250000000"})
		if err != nil {
			if req != nil || !errors.Is(err, ErrInvalidEvent) || len(err.Error()) > maxMessage {
				t.Errorf("Parse = %v, %q", req, err)
			}
			return
		}
		if req.Kind != KindCLS || len(req.Targets)+len(req.Locate) != 0 {
			t.Errorf("kind %q, targets %v, locate %v", req.Kind, req.Targets, req.Locate)
		}
		for _, a := range req.Accounts {
			if rules.UIN(a.Uin) != nil {
				t.Errorf("account %q", a.Uin)
			}
			c, _ := a.Complete("1250000011")
			for _, tg := range c.Targets {
				if err := tg.Validate(); err != nil || !bucket.AllowedHost(bucket.CIHost(tg)) {
					t.Errorf("target %v: %v", tg, err)
				}
			}
			for _, name := range c.Locate {
				if err := bucket.ValidateName(name); err != nil {
					t.Errorf("locate %q: %v", name, err)
				}
			}
		}
		for _, s := range req.Skipped {
			if len(s.Reason) > maxMessage {
				t.Errorf("skip reason %d bytes", len(s.Reason))
			}
		}
		for _, n := range req.Notes {
			if len(n) > maxMessage {
				t.Errorf("note %d bytes", len(n))
			}
		}
	})
}

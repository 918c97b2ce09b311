package trigger

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// jsonVerdict is what encoding/json itself says of a CLS document read
// whole, as the error ParseWith must give for it: the syntax error
// (json.SyntaxError's text, placed by line and column as an editor shows
// them), else the shape error of a document that is not an object whose
// last "records" key holds an array of at most MaxCLSRecords entries. ""
// means the document is sound as a whole, so any error is a record's. It
// uses none of the package's own JSON code.
func jsonVerdict(doc []byte) string {
	var raw json.RawMessage
	if err := json.Unmarshal(doc, &raw); err != nil {
		var se *json.SyntaxError
		if !errors.As(err, &se) {
			return "encoding/json: " + err.Error()
		}
		line, col := 1, 0
		for _, c := range doc[:se.Offset] {
			col++
			if c == '\n' {
				line, col = line+1, 0
			}
		}
		return fmt.Sprintf("invalid event: clslogs.data: the decompressed document is not JSON (%s at line %d, column %d)", se, line, max(col, 1))
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "encoding/json: " + err.Error()
	}
	kind := func(v any, present bool) string {
		switch v.(type) {
		case map[string]any:
			return "an object"
		case []any:
			return "an array"
		case string:
			return "a string"
		case json.Number:
			return "a number"
		case bool:
			return "a boolean"
		}
		if !present {
			return "no value"
		}
		return "null"
	}
	top, ok := v.(map[string]any)
	if !ok {
		return "invalid event: clslogs.data: want a JSON object, got " + kind(v, true)
	}
	records, present := top["records"] // encoding/json keeps the last of duplicate keys
	list, ok := records.([]any)
	switch {
	case !ok:
		return "invalid event: clslogs.records: want a JSON array, got " + kind(records, present)
	case len(list) > MaxCLSRecords:
		return fmt.Sprintf("invalid event: clslogs.records: more than %d entries", MaxCLSRecords)
	}
	return ""
}

// checkSameAsWhole: a document that is not JSON, or not of the CLS shape,
// gets exactly the error encoding/json's verdict on the whole document
// calls for (jsonVerdict); any other error is a record's.
func checkSameAsWhole(t *testing.T, doc []byte) {
	t.Helper()
	want := jsonVerdict(doc)
	_, err := ParseWith(clsEvent(doc), Options{})
	switch {
	case want != "" && (err == nil || err.Error() != want):
		t.Errorf("document %.200q:\n got %v\nwant %s", doc, err, want)
	case want == "" && err != nil && !strings.Contains(err.Error(), "clslogs.records[") && !strings.Contains(err.Error(), "records could be read"):
		t.Errorf("document %.200q: %v, want a record's error or none", doc, err)
	case err != nil && !errors.Is(err, ErrInvalidEvent):
		t.Errorf("document %.200q: %v does not wrap ErrInvalidEvent", doc, err)
	}
}

// streamCase is a document and the exact error ParseWith gives for it
// ("" for none), written out.
type streamCase struct{ doc, want string }

// streamCases are documents whose errors the streaming decoder must give
// exactly as a decoder of the whole document would.
func streamCases() []streamCase {
	rec := audit(`100000000011`, "PutBucket", `,"resourceName":"a-1250000011","eventRegion":"ap-shanghai"`)
	ok := string(clsDoc(rec))
	const notJSON = "invalid event: clslogs.data: the decompressed document is not JSON ("
	const notObject = "invalid event: clslogs.data: want a JSON object, got "
	const notArray = "invalid event: clslogs.records: want a JSON array, got "
	return []streamCase{
		{``, notJSON + "unexpected end of JSON input at line 1, column 1)"},
		{` `, notJSON + "unexpected end of JSON input at line 1, column 1)"},
		{`{`, notJSON + "unexpected end of JSON input at line 1, column 1)"},
		{`[]`, notObject + "an array"},
		{`"x"`, notObject + "a string"},
		{`7`, notObject + "a number"},
		{`null`, notObject + "null"},
		{`true`, notObject + "a boolean"},
		{`{}`, notArray + "no value"},
		{`{"records":null}`, notArray + "null"},
		{`{"records":7}`, notArray + "a number"},
		{`{"records":"x"}`, notArray + "a string"},
		{`{"records":[]}`, ""},
		{`{"records":[] }  ` + "\n", ""},
		{`{"records":[]} x`, notJSON + "invalid character 'x' after top-level value at line 1, column 16)"},
		{`{"records":[]}{}`, notJSON + "invalid character '{' after top-level value at line 1, column 15)"},
		{`{"records":[],}`, notJSON + "invalid character '}' looking for beginning of object key string at line 1, column 15)"},
		{`{"records":[1 2]}`, notJSON + "invalid character '2' after array element at line 1, column 15)"},
		{`{"records":[1,]}`, notJSON + "invalid character ']' looking for beginning of value at line 1, column 15)"},
		{`{"records":[{"content":}]}`, notJSON + "invalid character '}' looking for beginning of value at line 1, column 24)"},
		{"{\n\"records\": [\n  {\"content\": tru}\n]}", notJSON + "invalid character '}' in literal true (expecting 'e') at line 3, column 18)"},
		{`{"a":1e400,"records":[]}`, ""},
		{`{"a":[1,{"b":[null,"\u00e9\"]"]}],"records":[]}`, ""},
		{`{"records":[],"a":-}`, notJSON + "invalid character '}' in numeric literal at line 1, column 20)"},
		{`{"records":[` + rec + `],"records":{}}`, notArray + "an object"},
		{`{"records":{},"records":[` + rec + `]}`, "invalid event: clslogs.records[0].content: required: want the log line, a CloudAudit record"},
		{`{"Records":[` + rec + `]}`, notArray + "no value"},
		{ok, ""},
		{ok[:len(ok)-1], notJSON + fmt.Sprintf("unexpected end of JSON input at line 1, column %d)", len(ok)-1)},
		{ok + `]`, notJSON + fmt.Sprintf("invalid character ']' after top-level value at line 1, column %d)", len(ok)+1)},
		{strings.Replace(ok, `"records"`, `"records" `, 1), ""},
		// encoding/json nests at most 10000 arrays and objects: the column
		// is that of the bracket that opens level 10001.
		{`{"x":` + strings.Repeat(`[`, maxNestingDepth-1) + strings.Repeat(`]`, maxNestingDepth-1) + `,"records":[]}`, ""},
		{`{"x":` + strings.Repeat(`[`, maxNestingDepth) + strings.Repeat(`]`, maxNestingDepth) + `,"records":[]}`,
			notJSON + fmt.Sprintf("invalid character '[' exceeded max depth at line 1, column %d)", len(`{"x":`)+maxNestingDepth)},
		{`{"records":[` + strings.Repeat(`[`, maxNestingDepth-2) + strings.Repeat(`]`, maxNestingDepth-2) + `]}`,
			"invalid event: clslogs.records[0]: want a JSON object, got an array"},
		{`{"records":[` + strings.Repeat(`[`, maxNestingDepth-1) + strings.Repeat(`]`, maxNestingDepth-1) + `]}`,
			notJSON + fmt.Sprintf("invalid character '[' exceeded max depth at line 1, column %d)", len(`{"records":[`)+maxNestingDepth-1)},
		{`{"records":[{"content":"` + strings.Repeat(`[`, maxNestingDepth) + `"}]}`,
			"invalid event: clslogs.records[0].content: want a JSON object or a string holding one, got a string that is not JSON " +
				fmt.Sprintf("(unexpected end of JSON input at line 1, column %d)", maxNestingDepth)},
	}
}

// TestCLSStreamingErrorsAreThoseOfTheWholeDocument: each document gets the
// error written out in streamCases, which is also encoding/json's verdict
// on the whole document.
func TestCLSStreamingErrorsAreThoseOfTheWholeDocument(t *testing.T) {
	for _, tc := range streamCases() {
		_, err := ParseWith(clsEvent([]byte(tc.doc)), Options{})
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tc.want {
			t.Errorf("document %.120q:\n got %s\nwant %s", tc.doc, got, tc.want)
		}
		checkSameAsWhole(t, []byte(tc.doc))
	}
}

// TestCLSTooManyRecords: one record more than MaxCLSRecords is refused,
// even when a later syntax error would be the whole document's error.
func TestCLSTooManyRecords(t *testing.T) {
	many := `{"records":[` + strings.Repeat(`1,`, MaxCLSRecords) + `1]}`
	checkSameAsWhole(t, []byte(many))
	checkSameAsWhole(t, []byte(many[:len(many)-1])) // now not JSON
	_, err := ParseWith(clsEvent([]byte(many)), Options{})
	if err == nil || !strings.Contains(err.Error(), "clslogs.records: more than 100000 entries") {
		t.Errorf("%d records: %v", MaxCLSRecords+1, err)
	}
}

// FuzzCLSStreaming: for any document, the streaming decoder's error is
// the one encoding/json's verdict on the whole document calls for (see
// checkSameAsWhole).
func FuzzCLSStreaming(f *testing.F) {
	for _, tc := range streamCases() {
		f.Add([]byte(tc.doc))
	}
	f.Fuzz(func(t *testing.T, doc []byte) { checkSameAsWhole(t, doc) })
}

// TestCLSAccountLimit: the records of a further account than
// MaxCLSAccounts are skipped, each naming the limit; the accounts already
// in the event keep being read.
func TestCLSAccountLimit(t *testing.T) {
	var recs []string
	for i := 0; i <= MaxCLSAccounts; i++ {
		recs = append(recs, audit(fmt.Sprintf("%d", 100000000100+i), "PutBucket",
			fmt.Sprintf(`,"resourceName":"b%d-%d","eventRegion":"ap-shanghai"`, i, 1250000100+i)))
	}
	recs = append(recs,
		audit("100000000200", "PutBucket", `,"resourceName":"again-1250000200","eventRegion":"ap-beijing"`), // the 101st again
		audit("100000000201", "PutBucket", `,"requestParameters":{"bucket":"short"}`),                       // a 102nd, no APPID
		audit("100000000201", "PutObject", ``),                                                              // ignored as before
		audit("100000000100", "PutBucket", `,"resourceName":"more-1250000100","eventRegion":"ap-beijing"`),  // the first account
	)
	req, err := ParseWith(clsEvent(clsDoc(recs...)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Accounts) != MaxCLSAccounts {
		t.Fatalf("%d accounts, want MaxCLSAccounts (%d)", len(req.Accounts), MaxCLSAccounts)
	}
	if a := req.Accounts[0]; a.Uin != "100000000100" || len(a.Targets) != 2 || a.Targets[1] != tgt("more-1250000100", "ap-beijing") {
		t.Errorf("first account %+v, want its second bucket too", a)
	}
	want := []Skip{
		{Bucket: "b100-1250000200", Region: "ap-shanghai", Reason: "PutBucket record clslogs.records[100]: account 100000000200 is beyond MaxCLSAccounts (100 accounts in one event): left to the hourly timer"},
		{Bucket: "again-1250000200", Region: "ap-beijing", Reason: "PutBucket record clslogs.records[101]: account 100000000200 is beyond MaxCLSAccounts (100 accounts in one event): left to the hourly timer"},
		{Reason: "PutBucket record clslogs.records[102]: account 100000000201 is beyond MaxCLSAccounts (100 accounts in one event): left to the hourly timer"},
	}
	if fmt.Sprint(req.Skipped) != fmt.Sprint(want) {
		t.Errorf("skipped\n%+v\nwant\n%+v", req.Skipped, want)
	}
	if len(req.Notes) != 1 || !strings.Contains(req.Notes[0], "ignored 1 records") {
		t.Errorf("notes %q", req.Notes)
	}
}

// TestCLSTargetLimitAcrossAccounts: MaxTargets bounds the buckets of all
// the accounts of a CLS event together; a bucket past it is an unreadable
// record, and a bucket already counted costs nothing.
func TestCLSTargetLimitAcrossAccounts(t *testing.T) {
	var recs []string
	for i := 0; i < MaxTargets; i++ {
		uin := 100000000100 + i%2
		recs = append(recs, audit(fmt.Sprint(uin), "PutBucket", fmt.Sprintf(`,"resourceName":"b%d-%d","eventRegion":"ap-shanghai"`, i, 1250000100+i%2)))
	}
	recs = append(recs,
		audit("100000000101", "PutBucket", `,"resourceName":"b1-1250000101","eventRegion":"ap-shanghai"`), // already there
		audit("100000000102", "PutBucket", `,"resourceName":"new-1250000102","eventRegion":"ap-shanghai"`),
		audit("100000000100", "PutBucket", `,"resourceName":"new-1250000100"`))
	req, err := ParseWith(clsEvent(clsDoc(recs...)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, a := range req.Accounts {
		total += len(a.Targets) + len(a.Locate)
	}
	if len(req.Accounts) != 2 || total != MaxTargets {
		t.Errorf("%d accounts, %d buckets: want 2, MaxTargets (%d)", len(req.Accounts), total, MaxTargets)
	}
	if len(req.Skipped) != 2 {
		t.Fatalf("skipped %+v, want the two buckets past MaxTargets", req.Skipped)
	}
	for i, p := range []string{"clslogs.records[10001].content.resourceName", "clslogs.records[10002].content.resourceName"} {
		if want := "unreadable record: " + p + ": more than MaxTargets (10000) distinct buckets in one event"; req.Skipped[i].Reason != want {
			t.Errorf("skip %d: %q, want %q", i, req.Skipped[i].Reason, want)
		}
	}
}

// TestCLSSkipsBounded: maxSkips+2,000 unreadable records and one good
// one: the first maxSkips are listed, the rest counted in one note.
func TestCLSSkipsBounded(t *testing.T) {
	var recs []string
	for range maxSkips + 2000 {
		recs = append(recs, `{"timestamp":"1","content":"not json"}`)
	}
	good, _ := json.Marshal(`{"eventName":"PutBucket","eventSource":"cos.cloud.tencent.com","resourceType":"cos","errorCode":0,"eventRegion":"ap-guangzhou","resourceName":"qcs::cos:ap-guangzhou:uid/1250000000:photos-1250000000","userIdentity":{"accountId":"100000000001"}}`)
	recs = append(recs, `{"timestamp":"1","content":`+string(good)+`}`)
	doc := `{"topic_id":"t","topic_name":"n","records":[` + strings.Join(recs, ",") + `]}`
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(doc))
	w.Close()
	payload := `{"clslogs":{"data":"` + base64.StdEncoding.EncodeToString(gz.Bytes()) + `"}}`
	req, err := ParseWith([]byte(payload), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Skipped) != maxSkips || !strings.Contains(strings.Join(req.Notes, "\n"), "2000 more records were skipped") {
		t.Errorf("%d skips, notes %q: want %d listed and the rest counted", len(req.Skipped), req.Notes, maxSkips)
	}
}

// TestCLSValueLimit: the decoder holds one value of the document at a
// time, and no value may exceed MaxCLSValue (lowered here): a record that
// long is refused, naming it, once the stream has been checked whole.
func TestCLSValueLimit(t *testing.T) {
	defer func(old int64) { clsValueLimit = old }(clsValueLimit)
	clsValueLimit = 64 << 10
	rec := audit(`100000000011`, "PutBucket", `,"resourceName":"a-1250000011","eventRegion":"ap-shanghai"`)
	long := func(n int) string { return audit(`100000000011`, "PutObject", `,"x":"`+strings.Repeat("a", n)+`"`) }
	if _, err := ParseWith(clsEvent(clsDoc(rec, long(60<<10))), Options{}); err != nil {
		t.Errorf("a record under the limit: %v", err)
	}
	for name, doc := range map[string][]byte{
		"a long record":             clsDoc(rec, long(200<<10), rec),
		"a long string beside them": []byte(`{"x":"` + strings.Repeat("a", 200<<10) + `","records":[` + rec + `]}`),
		"white space before one":    []byte(`{"records":[` + rec + `,` + strings.Repeat(" ", 200<<10) + rec + `]}`),
	} {
		_, err := ParseWith(clsEvent(doc), Options{})
		if err == nil || !strings.Contains(err.Error(), "a value of more than MaxCLSValue (4 MiB)") {
			t.Errorf("%s: %v, want refused naming MaxCLSValue", name, err)
		}
		if name == "a long record" && !strings.Contains(err.Error(), "clslogs.records[1]:") {
			t.Errorf("%s: %v, want the record named", name, err)
		}
	}
}

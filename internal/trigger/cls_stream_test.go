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

// wholeDocErr is the error of a CLS document read whole, as parseCLS read
// it before it streamed: json.Unmarshal's syntax check, then the shape.
func wholeDocErr(doc []byte) error {
	if err := checkJSON(doc); err != nil {
		return invalidf("clslogs.data", "the decompressed document is not JSON (%s)", err)
	}
	d, err := objectOf(doc, "clslogs.data")
	if err != nil {
		return err
	}
	_, err = arrayOf(d["records"], "clslogs.records", 0, MaxCLSRecords)
	return err
}

// checkSameAsWhole: a document that is not JSON, or not of the CLS shape,
// gets exactly the error of reading it whole; any other error is a
// record's.
func checkSameAsWhole(t *testing.T, doc []byte) {
	t.Helper()
	want := wholeDocErr(doc)
	_, err := ParseWith(clsEvent(doc), Options{})
	switch {
	case want != nil && (err == nil || err.Error() != want.Error()):
		t.Errorf("document %.200q:\n got %v\nwant %v", doc, err, want)
	case want == nil && err != nil && !strings.Contains(err.Error(), "clslogs.records[") && !strings.Contains(err.Error(), "records could be read"):
		t.Errorf("document %.200q: %v, want a record's error or none", doc, err)
	case err != nil && !errors.Is(err, ErrInvalidEvent):
		t.Errorf("document %.200q: %v does not wrap ErrInvalidEvent", doc, err)
	}
}

// streamCases are documents whose errors the streaming decoder must give
// exactly as json.Unmarshal of the whole document does.
func streamCases() []string {
	rec := audit(`100000000011`, "PutBucket", `,"resourceName":"a-1250000011","eventRegion":"ap-shanghai"`)
	ok := string(clsDoc(rec))
	return []string{
		``, ` `, `{`, `[]`, `"x"`, `7`, `null`, `true`, `{}`, `{"records":null}`, `{"records":7}`, `{"records":"x"}`,
		`{"records":[]}`, `{"records":[] }  ` + "\n", `{"records":[]} x`, `{"records":[]}{}`, `{"records":[],}`,
		`{"records":[1 2]}`, `{"records":[1,]}`, `{"records":[{"content":}]}`, "{\n\"records\": [\n  {\"content\": tru}\n]}",
		`{"a":1e400,"records":[]}`, `{"a":[1,{"b":[null,"\u00e9\"]"]}],"records":[]}`, `{"records":[],"a":-}`,
		`{"records":[` + rec + `],"records":{}}`, `{"records":{},"records":[` + rec + `]}`, `{"Records":[` + rec + `]}`,
		ok, ok[:len(ok)-1], ok + `]`, strings.Replace(ok, `"records"`, `"records" `, 1),
		`{"x":` + strings.Repeat(`[`, maxNestingDepth-1) + strings.Repeat(`]`, maxNestingDepth-1) + `,"records":[]}`,
		`{"x":` + strings.Repeat(`[`, maxNestingDepth) + strings.Repeat(`]`, maxNestingDepth) + `,"records":[]}`,
		`{"records":[` + strings.Repeat(`[`, maxNestingDepth-2) + strings.Repeat(`]`, maxNestingDepth-2) + `]}`,
		`{"records":[` + strings.Repeat(`[`, maxNestingDepth-1) + strings.Repeat(`]`, maxNestingDepth-1) + `]}`,
		`{"records":[{"content":"` + strings.Repeat(`[`, maxNestingDepth) + `"}]}`,
	}
}

func TestCLSStreamingErrorsAreThoseOfTheWholeDocument(t *testing.T) {
	for _, doc := range streamCases() {
		checkSameAsWhole(t, []byte(doc))
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
// the whole document's (see checkSameAsWhole).
func FuzzCLSStreaming(f *testing.F) {
	for _, doc := range streamCases() {
		f.Add([]byte(doc))
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

package handler

// README's promises, each guarded by a test that fails when the promise is
// broken (docs/reliability.md maps every promise to its test, and lists the
// mutation each test was seen to catch). The tests drive Handle, the
// function's entry point, against the COS/CI emulator and, for the
// organization routes, the API 3.0 emulator.

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/tcapi/tcemu"
)

const (
	ownUin  = "100000000001"
	memberA = "100000000011" // APPID 1250000011
	memberB = "100000000012" // APPID 1250000012
)

// orgTest is a Handler wired to the COS/CI emulator and the API 3.0
// emulator of an organization: the function's own account and two
// members, each with one missing bucket in ap-guangzhou.
type orgTest struct {
	h   *Handler
	emu *emulator.Server
	tc  *tcemu.Server
	out *bytes.Buffer

	mu     sync.Mutex
	issued []tcemu.Key
}

func newOrgTest(t *testing.T, settings map[string]string) *orgTest {
	t.Helper()
	return newOrgTestWith(t, settings, tcemu.Options{})
}

// newOrgTestWith is newOrgTest with the API 3.0 emulator's options (its
// management account is always the function's own).
func newOrgTestWith(t *testing.T, settings map[string]string, opts tcemu.Options) *orgTest {
	t.Helper()
	h, emu, out := newTest(t, emulator.Options{}, 0, settings)
	o := &orgTest{h: h, emu: emu, out: out}
	opts.Management = tcemu.Account{Uin: 100000000001, AppID: appID}
	o.tc = tcemu.New(opts)
	o.tc.AddKey(tcemu.Key{SecretID: "AKIDunit", SecretKey: "unit-key", Token: "unit-token", Uin: 100000000001, AppID: appID})
	o.tc.OnIssue = func(k tcemu.Key) {
		o.mu.Lock()
		o.issued = append(o.issued, k)
		o.mu.Unlock()
		emu.AddCredential(emulator.Credential{SecretID: k.SecretID, SecretKey: k.SecretKey, Token: k.Token, AppID: k.AppID})
	}
	o.tc.AddMember(tcemu.Member{Uin: 100000000011, AppID: "1250000011"})
	o.tc.AddMember(tcemu.Member{Uin: 100000000012, AppID: "1250000012"})
	emu.AddBucket("a-1250000011", "ap-guangzhou", false)
	emu.AddBucket("b-1250000012", "ap-guangzhou", false)
	emu.AddBucket("own-"+appID, "ap-guangzhou", false)
	srv := httptest.NewServer(o.tc)
	t.Cleanup(srv.Close)
	getenv := h.Getenv
	h.Getenv = func(k string) string {
		switch k {
		case "PICBUCKET_API_ENDPOINT":
			return srv.URL
		case "TENCENTCLOUD_UIN":
			return ownUin
		}
		return getenv(k)
	}
	return o
}

// keys returns the keys AssumeRole issued.
func (o *orgTest) keys() []tcemu.Key {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]tcemu.Key(nil), o.issued...)
}

// clsEvent is a CLS trigger event holding one successful CloudAudit
// PutBucket record per account and bucket ("uin bucket" pairs).
func clsEvent(t *testing.T, records ...string) []byte {
	t.Helper()
	var recs []map[string]string
	for _, r := range records {
		uin, name, _ := strings.Cut(r, " ")
		params, _ := json.Marshal(map[string]string{"bucket": name, "region": "ap-guangzhou"})
		audit, _ := json.Marshal(map[string]any{"eventName": "PutBucket", "resourceType": "cos", "errorCode": 0, "eventRegion": "ap-guangzhou",
			"requestParameters": string(params), "userIdentity": map[string]any{"accountId": uin, "type": "root"}})
		recs = append(recs, map[string]string{"timestamp": "1716200102000000", "content": string(audit)})
	}
	doc, _ := json.Marshal(map[string]any{"topic_id": "t", "topic_name": "cloudaudit", "records": recs})
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(doc)
	w.Close()
	out, _ := json.Marshal(map[string]any{"clslogs": map[string]string{"data": base64.StdEncoding.EncodeToString(gz.Bytes())}})
	return out
}

// creates counts the Creates the emulator received for bucket ("" any).
func creates(emu *emulator.Server, bucket string) int {
	n := 0
	for _, r := range emu.Requests() {
		if r.Action == emulator.ActionCreatePicProcessBucket && (bucket == "" || strings.HasPrefix(r.Host, bucket+".")) {
			n++
		}
	}
	return n
}

// TestEventCannotTurnOffDryRun: README, PICBUCKET_DRY_RUN: "An event's
// "dryRun":true also turns it on; no event turns it off."
func TestEventCannotTurnOffDryRun(t *testing.T) {
	for _, ev := range []string{
		`{"buckets":[{"bucket":"photos-00-1250000000","region":"ap-guangzhou"}],"dryRun":false}`,
		`{"reconcile":{},"dryRun":false}`,
		`{"Type":"Timer","TriggerName":"t","Time":"2024-01-01T00:00:00Z","Message":"{\"dryRun\":false}"}`,
	} {
		h, emu, _ := newTest(t, emulator.Options{}, 2, map[string]string{"PICBUCKET_DRY_RUN": "true"})
		res, err := h.Handle(ctxWithTimeout(t, 10*time.Second), []byte(ev))
		if err != nil {
			t.Fatalf("%s: %v", ev, err)
		}
		if n := creates(emu, ""); n != 0 || !res.DryRun || res.Summary.WouldEnable == 0 || res.Summary.Enabled != 0 {
			t.Errorf("%s with PICBUCKET_DRY_RUN=true: %d Creates, dryRun %v, summary %+v; want a dry run", ev, n, res.DryRun, res.Summary)
		}
	}
}

// echoSecrets is a service that answers every Create signed with an
// assumed key by an error whose message echoes the key's secret and its
// session token: the worst a service (or a proxy's error page) can do. The
// assumed key can then reach a result, a log line and the invocation's
// error, and must be blanked in every one.
type echoSecrets struct {
	o    *orgTest
	next http.RoundTripper
}

var akRE = regexp.MustCompile(`q-ak=([^&]+)`)

func (e echoSecrets) RoundTrip(r *http.Request) (*http.Response, error) {
	tok := r.Header.Get("x-cos-security-token")
	if r.Method != http.MethodPost || tok == "" || tok == "unit-token" {
		return e.next.RoundTrip(r)
	}
	secret := ""
	if m := akRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		for _, k := range e.o.keys() {
			if k.SecretID == m[1] {
				secret = k.SecretKey
			}
		}
	}
	body := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>InvalidArgument</Code><Message>cannot use token %s with key %s</Message><RequestId>echo-1</RequestId></Error>`,
		tok, secret)
	return &http.Response{StatusCode: 400, Status: "400 Bad Request", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{"Content-Type": {"application/xml"}}, Body: io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)), Request: r}, nil
}

// TestAssumedKeyNeverReachesTheOutput: README's promise that secrets never
// reach a log or a result covers each member's assumed key: the member
// event's and the CLS route's buckets fail with an answer echoing it, and
// neither the log, nor the invocation's error, nor the result shows it.
func TestAssumedKeyNeverReachesTheOutput(t *testing.T) {
	for _, tc := range []struct {
		name    string
		payload func(t *testing.T) []byte
	}{
		{"member event", func(*testing.T) []byte { return []byte(`{"account":{"uin":"` + memberA + `"}}`) }},
		{"CLS event", func(t *testing.T) []byte { return clsEvent(t, memberA+" a-1250000011") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrgTest(t, map[string]string{"PICBUCKET_ACCOUNTS": "org"})
			o.h.Transport = echoSecrets{o: o, next: http.DefaultTransport}
			res, err := o.h.Handle(ctxWithTimeout(t, 10*time.Second), tc.payload(t))
			keys := o.keys()
			if len(keys) != 1 || res == nil || res.Summary.Failed != 1 || err == nil {
				t.Fatalf("%d keys issued, result %+v, err %v: want one assumed key and its bucket failed", len(keys), res, err)
			}
			k := keys[0]
			if !strings.Contains(o.out.String(), "[redacted]") {
				t.Errorf("no line was redacted: the echo did not reach the log, so the test proves nothing:\n%s", o.out)
			}
			result, _ := json.Marshal(res)
			for what, text := range map[string]string{"log": o.out.String(), "invocation error": err.Error(), "result": string(result)} {
				for _, s := range []string{k.SecretKey, k.Token} {
					if strings.Contains(text, s) {
						t.Errorf("the assumed key's secret reached the %s:\n%s", what, text)
					}
				}
			}
		})
	}
}

// TestCLSRouteKeepsToTheAccountsSettings: README, PICBUCKET_ACCOUNTS and
// PICBUCKET_EXCLUDE_ACCOUNTS: a CLS record of an excluded member, or of a
// member the list does not name, is skipped naming the setting, and no
// role is assumed for it; a listed member's bucket is enabled.
func TestCLSRouteKeepsToTheAccountsSettings(t *testing.T) {
	for _, tc := range []struct {
		name     string
		settings map[string]string
		want     string
	}{
		{"excluded", map[string]string{"PICBUCKET_ACCOUNTS": "org", "PICBUCKET_EXCLUDE_ACCOUNTS": memberA}, "PICBUCKET_EXCLUDE_ACCOUNTS lists account " + memberA},
		{"excluded from a list", map[string]string{"PICBUCKET_ACCOUNTS": memberA + "," + memberB, "PICBUCKET_EXCLUDE_ACCOUNTS": memberA}, "PICBUCKET_EXCLUDE_ACCOUNTS"},
		{"not listed", map[string]string{"PICBUCKET_ACCOUNTS": memberB}, "PICBUCKET_ACCOUNTS does not list account " + memberA},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrgTest(t, tc.settings)
			res, err := o.h.Handle(ctxWithTimeout(t, 10*time.Second), clsEvent(t, memberA+" a-1250000011", memberB+" b-1250000012"))
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			got := map[string]string{}
			for _, b := range res.Results {
				got[b.Bucket] = string(b.Outcome) + ": " + b.Reason
			}
			if a := got["a-1250000011"]; !strings.HasPrefix(a, "skipped: ") || !strings.Contains(a, tc.want) {
				t.Errorf("member %s's bucket: %q, want skipped naming %q", memberA, a, tc.want)
			}
			if b := got["b-1250000012"]; !strings.HasPrefix(b, "enabled") {
				t.Errorf("member %s's bucket: %q, want enabled", memberB, b)
			}
			for _, c := range o.tc.Calls() {
				if strings.Contains(c.Body, memberA) {
					t.Errorf("%s sent for the left-alone account: %s", c.Action, c.Body)
				}
			}
			if n := creates(o.emu, "a-1250000011"); n != 0 {
				t.Errorf("%d Creates for the left-alone account's bucket", n)
			}
			if len(o.keys()) != 1 {
				t.Errorf("%d roles assumed, want one (member %s's)", len(o.keys()), memberB)
			}
		})
	}
}

// TestSkipTagForNamedBuckets: README, PICBUCKET_SKIP_TAG: "a bucket
// carrying this tag is left alone (skipped, naming the tag)", whatever
// event names it: a manual event, a COS object event, an EventBridge
// PutBucket event, a CLS PutBucket record of the own account.
func TestSkipTagForNamedBuckets(t *testing.T) {
	const name = "photos-00-" + appID // ap-guangzhou
	eb, err := os.ReadFile("../events/eventbridge-putbucket.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		kind    string
		payload []byte
	}{
		{"manual", []byte(`{"buckets":[{"bucket":"` + name + `","region":"ap-guangzhou"}]}`)},
		{"cos", []byte(`{"Records":[{"cos":{"cosBucket":{"name":"photos-00","appid":"` + appID + `","region":"gz"}}}]}`)},
		{"eventbridge", bytes.ReplaceAll(eb, []byte("photos-"+appID), []byte(name))},
		{"cls", clsEvent(t, ownUin+" "+name)},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			h, emu, _ := newTest(t, emulator.Options{}, 2, map[string]string{"PICBUCKET_SKIP_TAG": "picbucket=off", "TENCENTCLOUD_UIN": ownUin})
			emu.SetTags(name, map[string]string{"picbucket": "off"})
			res, err := h.Handle(ctxWithTimeout(t, 10*time.Second), tc.payload)
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			if res.Trigger != tc.kind || len(res.Results) != 1 {
				t.Fatalf("trigger %q, results %+v: want one result of a %s event", res.Trigger, res.Results, tc.kind)
			}
			b := res.Results[0]
			if b.Bucket != name || b.Outcome != Skipped || !strings.Contains(b.Reason, "PICBUCKET_SKIP_TAG") || !strings.Contains(b.Reason, "picbucket=off") {
				t.Errorf("%+v: want %s skipped, naming the tag and the setting", b, name)
			}
			if n := creates(emu, ""); n != 0 {
				t.Errorf("%d Creates for an opted-out bucket", n)
			}
		})
	}
}

// TestSummaryAndFailedLinesAtAnyLevel: README, LOG_LEVEL: "the summary and
// failed lines are written at any level"; the level quiets the others.
func TestSummaryAndFailedLinesAtAnyLevel(t *testing.T) {
	for _, level := range []string{"warn", "error"} {
		for _, failing := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/failing=%v", level, failing), func(t *testing.T) {
				h, emu, out := newTest(t, emulator.Options{}, 4, map[string]string{"LOG_LEVEL": level})
				if failing {
					emu.Inject(emulator.Fault{Action: emulator.ActionCreatePicProcessBucket, Bucket: "photos-01-" + appID, Status: 400, Code: "InvalidArgument"})
				}
				_, err := h.Handle(ctxWithTimeout(t, 10*time.Second), timer)
				if (err != nil) != failing {
					t.Fatalf("err = %v", err)
				}
				var summaries, failed, enabled int
				for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
					var l struct{ Level, Message, Outcome string }
					if err := json.Unmarshal([]byte(line), &l); err != nil {
						t.Fatalf("line %q: %v", line, err)
					}
					switch {
					case l.Message == "summary":
						summaries++
						if want := map[bool]string{false: "info", true: "error"}[failing]; l.Level != want {
							t.Errorf("summary at level %q, want %q: %s", l.Level, want, line)
						}
					case l.Outcome == string(Failed):
						failed++
					case l.Outcome == string(Enabled):
						enabled++
					}
				}
				if want := map[bool]int{false: 0, true: 1}[failing]; summaries != 1 || failed != want || enabled != 0 {
					t.Errorf("LOG_LEVEL=%s: %d summary lines, %d failed lines, %d enabled lines; want 1, %d, 0:\n%s", level, summaries, failed, enabled, want, out)
				}
			})
		}
	}
}

// TestOneResultAndOneCreatePerBucket: the seen-set. A bucket named twice,
// or named and listed by the same event's reconciliation, has one result
// and gets at most one Create.
func TestOneResultAndOneCreatePerBucket(t *testing.T) {
	const name = "photos-00-" + appID
	for _, ev := range []string{
		`{"buckets":[{"bucket":"` + name + `","region":"ap-guangzhou"},{"bucket":"` + name + `","region":"ap-guangzhou"}]}`,
		`{"buckets":[{"bucket":"` + name + `","region":"ap-guangzhou"}],"reconcile":{}}`,
	} {
		h, emu, _ := newTest(t, emulator.Options{}, 4, nil)
		res, err := h.Handle(ctxWithTimeout(t, 10*time.Second), []byte(ev))
		if err != nil {
			t.Fatalf("%s: %v", ev, err)
		}
		seen := map[string]int{}
		for _, b := range res.Results {
			seen[b.Bucket]++
		}
		if seen[name] != 1 || creates(emu, name) != 1 {
			t.Errorf("%s: %d results and %d Creates for %s, want one of each: %+v", ev, seen[name], creates(emu, name), name, res.Results)
		}
		for b, n := range seen {
			if n != 1 {
				t.Errorf("%s: %d results for %s", ev, n, b)
			}
		}
	}
}

// TestCreateTimeTellsAlreadyEnabled: CI answers 200 to a Create of a
// bucket bound long ago; the binding's CreateTime, in CI's layout
// ("2022-08-09T16:23:11+0800"), tells it apart: already_enabled, naming
// the time, not enabled.
func TestCreateTimeTellsAlreadyEnabled(t *testing.T) {
	h, emu, _ := newTest(t, emulator.Options{AlreadyEnabledOK: true}, 0, nil)
	emu.AddBucket("old-"+appID, "ap-guangzhou", true)
	emu.AddBucket("new-"+appID, "ap-guangzhou", false)
	res, err := h.Handle(ctxWithTimeout(t, 10*time.Second),
		[]byte(`{"buckets":[{"bucket":"old-`+appID+`","region":"ap-guangzhou"},{"bucket":"new-`+appID+`","region":"ap-guangzhou"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := time.Now().Add(-emulator.SeededAge).UTC().Format("2006-01-02T15")
	for _, b := range res.Results {
		switch b.Bucket {
		case "old-" + appID:
			if b.Outcome != AlreadyEnabled || !strings.Contains(b.Reason, "answered 200 for a binding created "+want) {
				t.Errorf("%+v: want already_enabled, naming the binding's time (%s…)", b, want)
			}
		case "new-" + appID:
			if b.Outcome != Enabled {
				t.Errorf("%+v: want enabled", b)
			}
		}
	}
}

// TestRefusalStreakResetsOnAnotherCode: permission refusals with
// different codes back to back, no success between them: no streak of the
// same refusal, so no stop; every bucket fails on its own answer.
func TestRefusalStreakResetsOnAnotherCode(t *testing.T) {
	codes := []string{"AccessDenied", "ResourceAccessDenied", "UnauthorizedOperation"}
	f := newFake(12)
	f.createErr = func(i int, _ string) error { return answer(403, codes[i%2], "") }
	res, err := runFake(t, f, map[string]string{"PICBUCKET_CONCURRENCY": "1"})
	if err == nil || !strings.Contains(err.Error(), "12 of 12 buckets failed") || res.Summary.Failed != 12 || res.Summary.Deferred != 0 {
		t.Errorf("err %v, summary %+v: want all 12 failed, no stop", err, res.Summary)
	}
	// Three codes in turn: no two in a row are the same either.
	f = newFake(12)
	f.createErr = func(i int, _ string) error { return answer(403, codes[i%3], "") }
	if res, err := runFake(t, f, map[string]string{"PICBUCKET_CONCURRENCY": "1"}); res.Summary.Failed != 12 || f.calls[opCreate] != 12 {
		t.Errorf("err %v, summary %+v, %d Creates: want all 12 tried and failed", err, res.Summary, f.calls[opCreate])
	}
}

package main

// The command runs against tcemu, the API 3.0 emulator that verifies each
// request's TC3-HMAC-SHA256 signature and session token and keeps the CLS
// logsets and topics, the CloudAudit tracking sets and the SCF triggers of
// each account.

import (
	"bytes"
	"encoding/json"
	"github.com/picbucket/picbucket/internal/tcapi"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/picbucket/picbucket/internal/tcapi/tcemu"
)

const (
	trailUIN   = 100012345678
	testRegion = "ap-guangzhou"
)

type trailFixture struct {
	t   *testing.T
	emu *tcemu.Server
	url string
	env map[string]string
}

// newTrailFixture starts the emulator with the function deployed and a key of
// the organization's management account.
func newTrailFixture(t *testing.T) *trailFixture {
	t.Helper()
	emu := tcemu.New(tcemu.Options{Management: tcemu.Account{Uin: trailUIN, AppID: "1250000000"}})
	emu.AddFunction(testRegion, "default", "picbucket")
	k := emu.NewKey(tcemu.Account{Uin: trailUIN, AppID: "1250000000"})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	return &trailFixture{t: t, emu: emu, url: srv.URL, env: map[string]string{
		"TENCENTCLOUD_SECRETID": k.SecretID, "TENCENTCLOUD_SECRETKEY": k.SecretKey, "TENCENTCLOUD_SESSIONTOKEN": k.Token,
	}}
}

func (f *trailFixture) run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	args = append([]string{"--endpoint", f.url}, args...)
	code = runTrail(args, func(k string) string { return f.env[k] }, &out, &errb)
	return code, out.String(), errb.String()
}

// isWrite reports whether an action changes anything.
func trailIsWrite(action string) bool {
	return !strings.HasPrefix(action, "Describe") && !strings.HasPrefix(action, "List")
}

// writes returns the write actions among calls.
func trailWrites(calls []tcemu.Call) []string {
	var w []string
	for _, c := range calls {
		if trailIsWrite(c.Action) {
			w = append(w, c.Action)
		}
	}
	return w
}

// actions returns the actions among calls, and whether all succeeded.
func trailActions(calls []tcemu.Call) ([]string, bool) {
	var a []string
	ok := true
	for _, c := range calls {
		a = append(a, c.Action)
		ok = ok && c.ErrorCode == ""
	}
	return a, ok
}

var trailWantWrites = []string{"CreateLogset", "CreateTopic", "CreateAuditTrack", "CreateDeliverCloudFunction"}

func TestFirstRunCreatesAllThenSecondRunChangesNothing(t *testing.T) {
	f := newTrailFixture(t)
	code, out, errs := f.run()
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	calls := f.emu.Calls()
	if got := trailWrites(calls); !slices.Equal(got, trailWantWrites) {
		t.Errorf("writes = %v, want %v", got, trailWantWrites)
	}
	for _, c := range calls {
		if c.ErrorCode != "" {
			t.Errorf("%s %s failed: %s", c.Service, c.Action, c.ErrorCode)
		}
		if c.Host != c.Service+".tencentcloudapi.com" || c.Region != testRegion {
			t.Errorf("%s %s: host %q region %q", c.Service, c.Action, c.Host, c.Region)
		}
	}

	logsets, topics, tracks, triggers := f.emu.Logsets(), f.emu.Topics(), f.emu.Tracks(), f.emu.Triggers()
	if len(logsets) != 1 || logsets[0].Name != tcapi.DefaultLogset || logsets[0].Region != testRegion {
		t.Fatalf("logsets = %+v", logsets)
	}
	if len(topics) != 1 || topics[0].Name != tcapi.DefaultTopic || topics[0].LogsetID != logsets[0].ID || topics[0].Region != testRegion {
		t.Fatalf("topics = %+v", topics)
	}
	topicID := topics[0].ID
	if len(tracks) != 1 {
		t.Fatalf("tracks = %+v", tracks)
	}
	tr := tracks[0]
	if tr.Name != tcapi.DefaultTrack || tr.Status != 1 || tr.ActionType != "Write" || tr.ResourceType != "cos" ||
		!slices.Contains(tr.EventNames, "PutBucket") || tr.TrackForAllMembers != 1 ||
		tr.Storage.StorageType != "cls" || tr.Storage.StorageRegion != testRegion || tr.Storage.StorageName != topicID {
		t.Errorf("track = %+v", tr)
	}
	if len(triggers) != 1 || triggers[0].Type != "cls" || triggers[0].FunctionName != "picbucket" || triggers[0].Namespace != "default" ||
		triggers[0].Qualifier != "$DEFAULT" || tcapi.TriggerTopic(tcapi.TriggerInfo{TriggerDesc: triggers[0].TriggerDesc}) != topicID {
		t.Errorf("triggers = %+v", triggers)
	}
	for _, want := range []string{"logset     picbucket (" + logsets[0].ID + "): created", "topic      picbucket-cloudaudit (" + topicID + "): created",
		"track      picbucket-cos-write (", "): created", "trigger    cls topic -> picbucket", "writes     " + strings.Join(trailWantWrites, ", "),
		"5-10 minutes"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}

	// Second run: reads only, and says so.
	n := len(calls)
	code, out, errs = f.run()
	if code != 0 {
		t.Fatalf("second run: exit %d\n%s%s", code, out, errs)
	}
	again := f.emu.Calls()[n:]
	if w := trailWrites(again); len(w) != 0 {
		t.Errorf("second run wrote %v, want nothing", w)
	}
	got, ok := trailActions(again)
	if want := []string{"ListTriggers", "DescribeLogsets", "DescribeTopics", "DescribeAuditTracks", "DescribeAuditTrack"}; !ok || !slices.Equal(got, want) {
		t.Errorf("second run actions = %v (all ok: %v), want %v", got, ok, want)
	}
	if !strings.Contains(out, "nothing to do") {
		t.Errorf("second run stdout:\n%s", out)
	}
	if len(f.emu.Logsets()) != 1 || len(f.emu.Topics()) != 1 || len(f.emu.Tracks()) != 1 || len(f.emu.Triggers()) != 1 {
		t.Error("the second run changed the state")
	}
}

// TestDryRun: against an empty account the plan lists the four writes with
// their parameters; against a wired one, nothing to do; no write either time.
func TestDryRun(t *testing.T) {
	f := newTrailFixture(t)
	code, out, errs := f.run("--dry-run")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	got, ok := trailActions(f.emu.Calls())
	if want := []string{"ListTriggers", "DescribeLogsets", "DescribeAuditTracks"}; !ok || !slices.Equal(got, want) {
		t.Errorf("calls %v (all ok: %v), want the reads %v", got, ok, want)
	}
	for _, want := range []string{
		"dry run: reading the account",
		"would send 1: CreateLogset (service cls, version 2020-10-16, region ap-guangzhou)", `{"LogsetName":"picbucket"}`,
		"would send 2: CreateTopic", `"LogsetId":"${LogsetId}"`, `"TopicName":"picbucket-cloudaudit"`,
		"would send 3: CreateAuditTrack (service cloudaudit, version 2019-03-19", `"ActionType":"Write"`, `"EventNames":["PutBucket"]`,
		`"ResourceType":"cos"`, `"Status":1`, `"Storage":{"StorageName":"${TopicId}","StoragePrefix":"picbucket","StorageRegion":"ap-guangzhou","StorageType":"cls"}`,
		`"TrackForAllMembers":1`,
		"would send 4: CreateDeliverCloudFunction", `"FunctionName":"picbucket"`, `"Qualifier":"$DEFAULT"`, `"TopicId":"${TopicId}"`, `"Timeout":60`,
		"logset     picbucket (new): would create", "track      picbucket-cos-write (new): COS Write PutBucket of all members -> the topic: would create",
		"writes     CreateLogset, CreateTopic, CreateAuditTrack, CreateDeliverCloudFunction (dry run: not sent)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry-run output lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{f.env["TENCENTCLOUD_SECRETKEY"], f.env["TENCENTCLOUD_SESSIONTOKEN"], "Authorization", "Signature="} {
		if strings.Contains(out+errs, secret) {
			t.Errorf("output shows %q", secret)
		}
	}
	if len(f.emu.Logsets())+len(f.emu.Tracks())+len(f.emu.Triggers()) != 0 {
		t.Fatal("the dry run made something")
	}

	if code, out, errs := f.run(); code != 0 {
		t.Fatalf("real run: exit %d\n%s%s", code, out, errs)
	}
	n := len(f.emu.Calls())
	code, out, errs = f.run("--dry-run")
	if w := trailWrites(f.emu.Calls()[n:]); code != 0 || len(w) != 0 || !strings.Contains(out, "nothing to do") || strings.Contains(out, "would send 1:") {
		t.Errorf("wired account: exit %d, writes %v\n%s%s", code, w, out, errs)
	}
}

// TestPartialWiringIsCompleted: a tracking set someone made for their own
// account only, into another topic, is modified (same TrackId) and the rest
// created; its wider ActionType is kept.
func TestPartialWiringIsCompleted(t *testing.T) {
	f := newTrailFixture(t)
	ls := f.emu.AddLogset(tcemu.Logset{Uin: trailUIN, Region: testRegion, Name: tcapi.DefaultLogset})
	other := f.emu.AddTopic(tcemu.Topic{Uin: trailUIN, Region: testRegion, Name: "elsewhere", LogsetID: ls.ID})
	old := f.emu.SetTrack(tcemu.Track{Uin: trailUIN, Name: tcapi.DefaultTrack, ActionType: "*", ResourceType: "cos", Status: 0,
		EventNames: []string{"PutObject"}, Storage: tcemu.TrackStorage{StorageType: "cls", StorageRegion: testRegion, StorageName: other.ID}})

	code, out, errs := f.run("--dry-run")
	if code != 0 || len(trailWrites(f.emu.Calls())) != 0 {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"logset     picbucket (" + ls.ID + "): in place", "would send 1: CreateTopic", "would send 2: ModifyAuditTrack",
		`"TrackId":` + jsonNum(old.ID), `"EventNames":["PutObject","PutBucket"]`, `"ActionType":"*"`,
		"note       tracking set differed in: EventNames lack PutBucket, disabled, storage cls ap-guangzhou " + other.ID + ", TrackForAllMembers 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry-run output lacks %q:\n%s", want, out)
		}
	}

	n := len(f.emu.Calls())
	if code, out, errs := f.run(); code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errs)
	}
	if w := trailWrites(f.emu.Calls()[n:]); !slices.Equal(w, []string{"CreateTopic", "ModifyAuditTrack", "CreateDeliverCloudFunction"}) {
		t.Errorf("writes = %v", w)
	}
	tracks := f.emu.Tracks()
	if len(tracks) != 1 || tracks[0].ID != old.ID || tracks[0].TrackForAllMembers != 1 || tracks[0].Status != 1 || tracks[0].ActionType != "*" ||
		tracks[0].Storage.StorageName == other.ID {
		t.Errorf("tracks = %+v", tracks)
	}
	n = len(f.emu.Calls())
	if code, out, _ := f.run(); code != 0 || len(trailWrites(f.emu.Calls()[n:])) != 0 || !strings.Contains(out, "nothing to do") {
		t.Errorf("third run: exit %d, writes %v\n%s", code, trailWrites(f.emu.Calls()[n:]), out)
	}
}

func jsonNum(v uint64) string { b, _ := json.Marshal(v); return string(b) }

// TestAllMembersRefused: an account that may not deliver its members' logs
// gets an error naming the fix, whatever code CloudAudit answers with (the
// documents name none for this case); the logset and topic made stay, and
// the rerun from the right account completes the wiring.
func TestAllMembersRefused(t *testing.T) {
	for _, code := range []string{"UnauthorizedOperation", "FailedOperation", "FailedOperation.MemberNotInOrganization", "AuthFailure.UnauthorizedOperation"} {
		t.Run(code, func(t *testing.T) {
			f := newTrailFixture(t)
			member := f.emu.NewKey(tcemu.Account{Uin: 100099999999, AppID: "1259999999"})
			f.emu.SetAllMembersRefusal(code)
			env := f.env
			f.env = map[string]string{"TENCENTCLOUD_SECRETID": member.SecretID, "TENCENTCLOUD_SECRETKEY": member.SecretKey,
				"TENCENTCLOUD_SESSIONTOKEN": member.Token}
			f.emu.AddFunction(testRegion, "default", "picbucket")
			rc, out, errs := f.run()
			if rc != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", rc, out, errs)
			}
			for _, want := range []string{"cloudaudit CreateAuditTrack: " + code, "TrackForAllMembers", "management account",
				"delegated administrator", "enterprise verification", "run again"} {
				if !strings.Contains(errs, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errs)
				}
			}
			if len(f.emu.Tracks()) != 0 || len(f.emu.Triggers()) != 0 {
				t.Error("a track or trigger was made after the refusal")
			}
			// A run that stopped names no placeholder where an id belongs.
			if strings.Contains(out, "${") || !strings.Contains(out, "track      picbucket-cos-write (-)") {
				t.Errorf("a stopped run's report shows a placeholder or no dash for the track's id:\n%s", out)
			}
			// The management account's run completes its own wiring.
			f.env = env
			if rc, out, errs := f.run(); rc != 0 || len(f.emu.Tracks()) != 1 {
				t.Errorf("management run: exit %d\n%s%s", rc, out, errs)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	t.Run("no function", func(t *testing.T) {
		f := newTrailFixture(t)
		code, out, errs := f.run("--function", "other-fn")
		if code != 1 || !strings.Contains(errs, "ResourceNotFound.Function") || !strings.Contains(errs, "deploy the function first") {
			t.Errorf("exit %d\n%s%s", code, out, errs)
		}
		if w := trailWrites(f.emu.Calls()); len(w) != 0 {
			t.Errorf("wrote %v for a missing function", w)
		}
	})
	t.Run("bad key", func(t *testing.T) {
		f := newTrailFixture(t)
		f.env["TENCENTCLOUD_SECRETKEY"] = "not-the-key"
		code, out, errs := f.run()
		if code != 1 || !strings.Contains(errs, "AuthFailure.SignatureFailure") || !strings.Contains(errs, "TENCENTCLOUD_SECRETKEY") ||
			strings.Contains(out+errs, "not-the-key") {
			t.Errorf("exit %d\n%s%s", code, out, errs)
		}
	})
	t.Run("stale token", func(t *testing.T) {
		f := newTrailFixture(t)
		f.env["TENCENTCLOUD_SESSIONTOKEN"] = "stale"
		if code, _, errs := f.run("--dry-run"); code != 1 || !strings.Contains(errs, "AuthFailure.TokenFailure") {
			t.Errorf("exit %d\n%s", code, errs)
		}
	})
	t.Run("two logsets of the name", func(t *testing.T) {
		f := newTrailFixture(t)
		f.emu.AddLogset(tcemu.Logset{Uin: trailUIN, Region: testRegion, Name: tcapi.DefaultLogset, ID: "ls-1"})
		f.emu.AddLogset(tcemu.Logset{Uin: trailUIN, Region: testRegion, Name: tcapi.DefaultLogset, ID: "ls-2"})
		f.emu.AddLogset(tcemu.Logset{Uin: trailUIN, Region: testRegion, Name: tcapi.DefaultLogset + "-x", ID: "ls-3"})
		code, out, errs := f.run()
		if code != 1 || !strings.Contains(errs, "ls-1, ls-2") || len(trailWrites(f.emu.Calls())) != 0 {
			t.Errorf("exit %d\n%s%s", code, out, errs)
		}
	})
}

func TestUsage(t *testing.T) {
	f := newTrailFixture(t)
	var out, errb bytes.Buffer
	if code := runTrail([]string{"-h"}, func(string) string { return "" }, &out, &errb); code != 0 ||
		!strings.HasPrefix(out.String(), "wire trail routes every organization member's new COS buckets") || !strings.Contains(out.String(), "-dry-run") {
		t.Errorf("-h: exit %d\n%s", code, out.String())
	}
	for _, args := range [][]string{
		{"--region", "guangzhou"},
		{"--function", "bad name"},
		{"--track-name", "x"},
		{"--topic", "cls_service_log"},
		{"--max-wait", "1"},
		{"--max-messages", "0"},
		{"--qualifier", "bad/q"},
		{"extra"},
	} {
		if code, _, errs := f.run(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, errs)
		}
	}
	for _, ep := range []string{"https://127.0.0.1:1", "http://api.example.com:80", "http://127.0.0.1", "http://127.0.0.1:1/path"} {
		var o, e bytes.Buffer
		if code := runTrail([]string{"--endpoint", ep}, func(k string) string { return f.env[k] }, &o, &e); code != 2 || !strings.Contains(e.String(), "--endpoint") {
			t.Errorf("--endpoint %s: exit %d\n%s", ep, code, e.String())
		}
	}
	f.env = map[string]string{}
	if code, _, errs := f.run(); code != 1 || !strings.Contains(errs, "TENCENTCLOUD_SECRETID") {
		t.Errorf("no credentials: exit %d\n%s", code, errs)
	}
	if n := len(f.emu.Calls()); n != 0 {
		t.Errorf("usage errors sent %d requests", n)
	}
}

// TestNotTheAPIsAnswer: when something other than the API answers (a
// proxy's or a captive portal's HTML page), the error says the answer was
// not API 3.0 JSON and quotes nothing of the page (the SDK's own message
// quotes it whole); a 5xx page is retried, a 200 or 403 one is not; no
// write is sent.
func TestNotTheAPIsAnswer(t *testing.T) {
	const page = `<!DOCTYPE html><html><head><title>Proxy Authentication Required</title></head>` +
		`<body><p>corp-proxy-7 session=abc123 denied this request</p></body></html>`
	for _, tc := range []struct {
		status, requests int
	}{
		{http.StatusOK, 1},
		{http.StatusForbidden, 1},
		{http.StatusBadGateway, 5}, // retry.Default's attempts
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			var requests atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.WriteHeader(tc.status)
				io.WriteString(w, page)
			}))
			t.Cleanup(srv.Close)
			f := newTrailFixture(t)
			f.url = srv.URL
			code, out, errs := f.run()
			if code != 1 {
				t.Fatalf("exit %d, want 1\n%s%s", code, out, errs)
			}
			for _, want := range []string{"scf ListTriggers: ClientError.ParseJsonError", "not the API 3.0 JSON envelope"} {
				if !strings.Contains(errs, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errs)
				}
			}
			for _, quoted := range []string{"<", "Proxy Authentication", "corp-proxy-7", "abc123", "Fail to parse json content"} {
				if strings.Contains(out+errs, quoted) {
					t.Errorf("the output quotes the page (%q):\n%s%s", quoted, out, errs)
				}
			}
			if n := requests.Load(); n != int64(tc.requests) {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
		})
	}
}

// TestThrottledIsRetried: a throttled read and a throttled write
// (RequestLimitExceeded: the request was not acted on) are sent again, and
// the run completes with one of each thing made.
func TestThrottledIsRetried(t *testing.T) {
	f := newTrailFixture(t)
	f.emu.Throttle("ListTriggers", 2)
	f.emu.Throttle("CreateAuditTrack", 1)
	code, out, errs := f.run()
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	throttled := map[string]int{}
	for _, c := range f.emu.Calls() {
		if c.ErrorCode == "RequestLimitExceeded" {
			throttled[c.Action]++
		}
	}
	if throttled["ListTriggers"] != 2 || throttled["CreateAuditTrack"] != 1 || len(throttled) != 2 {
		t.Errorf("throttled answers %v, want ListTriggers 2 and CreateAuditTrack 1", throttled)
	}
	// Read: 2 throttled and 1 answered; after the throttled create, the
	// next round reads again (1) before it sends the create again.
	if n := f.emu.CallCount("ListTriggers"); n != 4 {
		t.Errorf("ListTriggers sent %d times, want 4", n)
	}
	if !strings.Contains(out, "RequestLimitExceeded") || !strings.Contains(out, "reading again before sending anything again") {
		t.Errorf("the retry is not reported:\n%s", out)
	}
	if n := f.emu.CallCount("CreateAuditTrack"); n != 2 {
		t.Errorf("CreateAuditTrack sent %d times, want 2", n)
	}
	if len(f.emu.Logsets()) != 1 || len(f.emu.Topics()) != 1 || len(f.emu.Tracks()) != 1 || len(f.emu.Triggers()) != 1 {
		t.Errorf("made %d logsets, %d topics, %d tracks, %d triggers, want one each",
			len(f.emu.Logsets()), len(f.emu.Topics()), len(f.emu.Tracks()), len(f.emu.Triggers()))
	}
}

package trigger

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/picbucket/picbucket/internal/bucket"
	"github.com/picbucket/picbucket/internal/rules"
)

const eventsDir = "../../events"

func boolPtr(b bool) *bool { return &b }

func tgt(b, r string) bucket.Target { return bucket.Target{Bucket: b, Region: r} }

// TestSampleEvents parses every file in events/ and compares the whole Request.
func TestSampleEvents(t *testing.T) {
	want := map[string]*Request{
		"eventbridge-putbucket.json": {
			Kind:    KindEventBridge,
			Targets: []bucket.Target{tgt("photos-1250000000", "ap-guangzhou")},
		},
		"eventbridge-batch.json": {
			Kind: KindEventBridge,
			Targets: []bucket.Target{
				tgt("videos-1250000000", "ap-shanghai"),
				tgt("archive-1250000000", "ap-guangzhou"),
			},
			Skipped: []Skip{{
				Bucket: "taken-1250000000",
				Region: "ap-guangzhou",
				Reason: `PutBucket failed: errorCode=403 apiErrorCode="BucketAlreadyExists"`,
			}},
		},
		"eventbridge-putbucket-nobucket.json": {
			Kind:      KindEventBridge,
			Reconcile: &Reconcile{Regions: []string{"ap-shanghai"}},
			Notes:     []string{"PutBucket record names no bucket: reconciling region ap-shanghai (from data.eventRegion)"},
		},
		"timer.json": {
			Kind:      KindTimer,
			Reconcile: &Reconcile{},
		},
		"timer-options.json": {
			Kind:      KindTimer,
			Reconcile: &Reconcile{Regions: []string{"ap-guangzhou"}},
			DryRun:    boolPtr(true),
		},
		"cos-records.json": {
			Kind: KindCOS,
			Targets: []bucket.Target{
				tgt("photos-1250000000", "ap-guangzhou"),
				tgt("logs-1250000000", "ap-shanghai"),
			},
		},
		"manual.json": {
			Kind: KindManual,
			Targets: []bucket.Target{
				tgt("photos-1250000000", "ap-guangzhou"),
				tgt("docs-1250000000", "ap-shanghai"),
			},
		},
		"manual-reconcile.json": {
			Kind:      KindManual,
			Reconcile: &Reconcile{Regions: []string{"ap-guangzhou"}},
			DryRun:    boolPtr(true),
		},
		"timer-organization.json": {
			Kind:      KindTimer,
			Reconcile: &Reconcile{},
		},
		"cls-audit.json": {
			Kind: KindCLS,
			Accounts: []AccountBuckets{
				{Uin: "100000000011", NeedAppID: true, Targets: []bucket.Target{tgt("docs-1250000011", "ap-shanghai")}},
				{Uin: "100000000001", NeedAppID: true, Targets: []bucket.Target{tgt("docs-1250000000", "ap-shanghai")}},
			},
			Skipped: []Skip{{Reason: "unreadable record: clslogs.records[4].content: want a JSON object or a string holding one, " +
				"got a string that is not JSON (unexpected end of JSON input at line 1, column 40)"}},
			Notes: []string{`ignored 2 records that are not a successful COS PutBucket (eventName "PutObject": 1, failed PutBucket: 1)`},
		},
		"member.json": {
			Kind:      KindMember,
			Account:   &Account{Uin: "100000000011", Role: "OrganizationAccessControlRole"},
			Reconcile: &Reconcile{Regions: []string{"ap-guangzhou", "ap-shanghai"}},
		},
	}
	files, err := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != len(want) {
		t.Errorf("events/ has %d files, the test expects %d: every sample needs an expected Request", len(files), len(want))
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			w, ok := want[name]
			if !ok {
				t.Fatalf("no expected Request for %s", name)
			}
			payload, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseWith(payload, Options{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			assertRequest(t, got, w)
		})
	}
}

func assertRequest(t *testing.T, got, want *Request) {
	t.Helper()
	if got.Kind != want.Kind {
		t.Errorf("Kind = %q, want %q", got.Kind, want.Kind)
	}
	if !reflect.DeepEqual(got.Targets, want.Targets) {
		t.Errorf("Targets = %v, want %v", got.Targets, want.Targets)
	}
	if !reflect.DeepEqual(got.Locate, want.Locate) {
		t.Errorf("Locate = %v, want %v", got.Locate, want.Locate)
	}
	if !reflect.DeepEqual(got.Skipped, want.Skipped) {
		t.Errorf("Skipped = %#v, want %#v", got.Skipped, want.Skipped)
	}
	if !reflect.DeepEqual(got.Reconcile, want.Reconcile) {
		t.Errorf("Reconcile = %#v, want %#v", got.Reconcile, want.Reconcile)
	}
	if !reflect.DeepEqual(got.DryRun, want.DryRun) {
		t.Errorf("DryRun = %v, want %v", fmtBool(got.DryRun), fmtBool(want.DryRun))
	}
	if !reflect.DeepEqual(got.Notes, want.Notes) {
		t.Errorf("Notes = %q, want %q", got.Notes, want.Notes)
	}
	if !reflect.DeepEqual(got.Account, want.Account) {
		t.Errorf("Account = %+v, want %+v", got.Account, want.Account)
	}
	if !reflect.DeepEqual(got.Accounts, want.Accounts) {
		t.Errorf("Accounts = %+v, want %+v", got.Accounts, want.Accounts)
	}
}

func fmtBool(b *bool) string {
	if b == nil {
		return "nil"
	}
	if *b {
		return "true"
	}
	return "false"
}

// Helpers that build hostile variants of valid events.

// env wraps CloudAudit data in an EventBridge envelope from cos.cloud.tencent.
func env(data string) string {
	return `{"specversion":"1.0","source":"cos.cloud.tencent","type":"cos:CloudEvent:ApiCall","region":"ap-guangzhou","data":` + data + `}`
}

// putBucketEnv is a successful PutBucket record with extra data fields.
func putBucketEnv(extra string) string {
	return env(`{"eventName":"PutBucket","errorCode":0` + extra + `}`)
}

// cosRecord is a COS trigger event with one record.
func cosRecord(name, appid, region string) string {
	return `{"Records":[{"cos":{"cosBucket":{"name":` + name + `,"appid":` + appid + `,"region":` + region + `}},"event":{"eventName":"cos:ObjectCreated:Put"}}]}`
}

// manualBucket is a manual event with one bucket entry.
func manualBucket(name, region string) string {
	return `{"buckets":[{"bucket":` + name + `,"region":` + region + `}]}`
}

// timerMsg is a timer event whose Message is the given JSON value.
func timerMsg(msg string) string {
	return `{"Type":"Timer","TriggerName":"t","Time":"2024-05-20T10:00:00Z","Message":` + msg + `}`
}

func repeat(s string, n int) string { return strings.Repeat(s, n) }

func TestParseInvalid(t *testing.T) {
	bigList := func(key, item string, n int) string {
		return `{"` + key + `":[` + strings.TrimSuffix(repeat(item+",", n), ",") + `]}`
	}
	tests := []struct {
		name    string
		payload string
		want    []string // substrings of the error message
		is      error    // optional extra errors.Is target
	}{
		// Not an object at all.
		{"not JSON", `hello`, []string{"not valid JSON"}, nil},
		{"truncated JSON", `{"buckets":[{"bucket":"photos-1250000000"`, []string{"not valid JSON"}, nil},
		{"trailing garbage", `{"buckets":[]} x`, []string{"not valid JSON"}, nil},
		{"empty", ``, []string{"empty payload"}, nil},
		{"whitespace", " \r\n\t", []string{"empty payload"}, nil},
		{"null", `null`, []string{"JSON null"}, nil},
		{"array", `[]`, []string{"JSON array"}, nil},
		{"string", `"str"`, []string{"JSON string"}, nil},
		{"number", `42`, []string{"JSON number"}, nil},
		{"boolean", `true`, []string{"JSON boolean"}, nil},
		{"unknown shape", `{"foo":1,"bar":2}`, []string{"unrecognised event", `"bar", "foo"`, "EventList"}, nil},
		{"empty object", `{}`, []string{"unrecognised event", "(none)"}, nil},
		{"too large", `{"Type":"Timer","Message":""}` + repeat(" ", MaxPayload+1-len(`{"Type":"Timer","Message":""}`)), []string{"MaxPayload"}, nil},
		{"nesting 20000 deep", `{"buckets":` + repeat("[", 20000) + repeat("]", 20000) + `}`, []string{"not valid JSON", "depth"}, nil},
		{"ambiguous COS and dryRun", `{"Records":[],"dryRun":true}`, []string{"ambiguous", "Records", "dryRun"}, nil},
		{"ambiguous timer and manual", `{"Type":"Timer","buckets":[]}`, []string{"ambiguous"}, nil},

		// EventBridge structure.
		{"EventList of 10001", bigList("EventList", putBucketEnv(`,"resourceName":"photos-1250000000"`), MaxEventList+1), []string{"EventList: more than 10000 entries"}, nil},
		{"EventList not array", `{"EventList":{"specversion":"1.0"}}`, []string{"EventList: want a JSON array, got an object"}, nil},
		{"EventList null", `{"EventList":null}`, []string{"EventList: want a JSON array, got null"}, nil},
		{"EventList empty", `{"EventList":[]}`, []string{"EventList: has 0 entries"}, nil},
		{"EventList entry not object", `{"EventList":["x"]}`, []string{"EventList[0]: want a JSON object, got a string"}, nil},
		{"EventList entry not envelope", `{"EventList":[{"Type":"Timer"}]}`, []string{"EventList[0]: not an EventBridge event", `"Type"`}, nil},
		{"data a number", env(`42`), []string{"data: want a JSON object or a string holding one, got a number"}, nil},
		{"data string not JSON", env(`"PutBucket photos"`), []string{"data: want a JSON object", "not JSON"}, nil},
		{"data string holding array", env(`"[1,2]"`), []string{"data: want a JSON object", "holding an array"}, nil},
		{"batch with no readable record names the first", `{"EventList":[` + putBucketEnv(`,"resourceName":"Photos"`) + `,` + putBucketEnv(`,"resourceName":"a@b"`) + `]}`,
			[]string{"none of the 2 records could be read", "EventList[0].data.resourceName: invalid bucket name"}, bucket.ErrInvalidName},

		// Numbers where strings are expected.
		{"EB bucket number", putBucketEnv(`,"requestParameters":{"bucket":1250000000}`), []string{"data.requestParameters.bucket: want a JSON string, got a number"}, nil},
		{"EB resourceName number", putBucketEnv(`,"resourceName":1250000000`), []string{"data.resourceName: want a JSON string, got a number"}, nil},
		{"EB region number", putBucketEnv(`,"resourceName":"photos-1250000000","eventRegion":4400`), []string{"data.eventRegion: want a JSON string, got a number"}, nil},
		{"EB params region bool", putBucketEnv(`,"resourceName":"photos-1250000000","requestParameters":"{\"region\":true}"`), []string{"data.requestParameters.region: want a JSON string, got a boolean"}, nil},
		{"EB subject number", `{"specversion":"1.0","source":"cos.cloud.tencent","subject":7,"data":{"eventName":"PutBucket"}}`, []string{"subject: want a JSON string"}, nil},
		{"EB resources element number", putBucketEnv(`,"resources":[1]`), []string{"data.resources[0]: want a JSON string"}, nil},
		{"EB resources object", putBucketEnv(`,"resources":{"a":1}`), []string{"data.resources: want a qcs resource string"}, nil},
		{"COS name number", cosRecord(`1`, `"1250000000"`, `"gz"`), []string{"Records[0].cos.cosBucket.name: want a JSON string, got a number"}, nil},
		{"COS region number", cosRecord(`"photos"`, `"1250000000"`, `1`), []string{"Records[0].cos.cosBucket.region: want a JSON string, got a number"}, nil},
		{"manual bucket number", manualBucket(`1250000000`, `"ap-guangzhou"`), []string{"buckets[0].bucket: want a JSON string, got a number"}, nil},
		{"manual region number", manualBucket(`"photos-1250000000"`, `1`), []string{"buckets[0].region: want a JSON string, got a number"}, nil},

		// Hostile bucket names.
		{"null byte in name", manualBucket(`"photos\u0000-1250000000"`, `"ap-guangzhou"`), []string{"buckets[0].bucket: invalid bucket name", `\x00`}, bucket.ErrInvalidName},
		{"CR LF in name", manualBucket(`"photos\r\n-1250000000"`, `"ap-guangzhou"`), []string{"buckets[0].bucket: invalid bucket name", `\r\n`}, bucket.ErrInvalidName},
		{"CR LF in EB name", putBucketEnv(`,"resourceName":"photos-1250000000\r\nX-Evil: 1"`), []string{"data.resourceName: invalid bucket name"}, bucket.ErrInvalidName},
		{"cyrillic look-alike", manualBucket(`"phоtos-1250000000"`, `"ap-guangzhou"`), []string{"buckets[0].bucket: invalid bucket name"}, bucket.ErrInvalidName},
		{"uppercase COS name", cosRecord(`"Photos"`, `"1250000000"`, `"gz"`), []string{`Records[0].cos.cosBucket.name: invalid bucket name: "Photos-1250000000": want`}, bucket.ErrInvalidName},
		{"uppercase EB name", putBucketEnv(`,"requestParameters":"{\"Bucket\":\"Photos-1250000000\"}"`), []string{"data.requestParameters.Bucket: invalid bucket name"}, bucket.ErrInvalidName},
		{"path traversal", putBucketEnv(`,"requestParameters":{"bucket":"bucket/../x-125"}`), []string{"data.requestParameters.bucket: invalid bucket name"}, bucket.ErrInvalidName},
		{"path traversal resourceName", putBucketEnv(`,"resourceName":"bucket/../x-125"`), []string{"data.resourceName: invalid bucket name"}, bucket.ErrInvalidName},
		{"userinfo", manualBucket(`"bucket@evil.com"`, `"ap-guangzhou"`), []string{"buckets[0].bucket: invalid bucket name"}, bucket.ErrInvalidName},
		{"dot in name", cosRecord(`"a.b"`, `"125"`, `"gz"`), []string{"Records[0].cos.cosBucket.name: invalid bucket name"}, bucket.ErrInvalidName},
		{"dot in manual name", manualBucket(`"a.b-125"`, `"ap-guangzhou"`), []string{"buckets[0].bucket: invalid bucket name"}, bucket.ErrInvalidName},
		{"subject not a bucket", `{"specversion":"1.0","source":"cos.cloud.tencent","subject":"PHOTOS","data":{"eventName":"PutBucket"}}`, []string{"subject: invalid bucket name"}, bucket.ErrInvalidName},
		{"qcs not six parts", putBucketEnv(`,"resourceName":"qcs::cos:ap-guangzhou"`), []string{"data.resourceName", "want qcs:"}, bucket.ErrInvalidName},
		{"qcs too short", putBucketEnv(`,"resources":"qcs::cos:ap-guangzhou"`), []string{"data.resources: invalid bucket name", "want qcs:"}, bucket.ErrInvalidName},
		{"qcs prefix without name", putBucketEnv(`,"resources":["qcs::cos:ap-guangzhou:uid/1250000000:prefix//1250000000"]`), []string{"data.resources[0]: invalid bucket name"}, bucket.ErrInvalidName},
		{"host too long", manualBucket(`"`+repeat("a", 40)+`-1250000000"`, `"ap-guangzhou"`), []string{"buckets[0]: invalid bucket name", "limit is 60"}, bucket.ErrInvalidName},
		{"COS appid not digits", cosRecord(`"photos"`, `"12a"`, `"gz"`), []string{"Records[0].cos.cosBucket.appid: want the APPID"}, nil},
		{"COS appid float", cosRecord(`"photos"`, `1.25e9`, `"gz"`), []string{"Records[0].cos.cosBucket.appid: want the APPID"}, nil},
		{"COS appid missing", `{"Records":[{"cos":{"cosBucket":{"name":"photos","region":"gz"}}}]}`, []string{"Records[0].cos.cosBucket.appid: required"}, nil},
		{"COS record without cos", `{"Records":[{"event":{}}]}`, []string{"Records[0].cos: want a JSON object, got no value"}, nil},
		{"COS Records of 10001", bigList("Records", `{}`, MaxEventList+1), []string{"Records: more than 10000 entries"}, nil},
		{"COS Records empty", `{"Records":[]}`, []string{"Records: has 0 entries"}, nil},

		// Hostile regions.
		{"region with domain", manualBucket(`"photos-1250000000"`, `"ap-guangzhou.evil.com"`), []string{"buckets[0].region: invalid region"}, bucket.ErrInvalidRegion},
		{"region with port", putBucketEnv(`,"resourceName":"photos-1250000000","eventRegion":"ap-guangzhou:443"`), []string{"data.eventRegion: invalid region"}, bucket.ErrInvalidRegion},
		{"region localhost", cosRecord(`"photos"`, `"1250000000"`, `"localhost"`), []string{"Records[0].cos.cosBucket.region: invalid region"}, bucket.ErrInvalidRegion},
		{"region trailing slash", timerMsg(`"{\"regions\":[\"ap-guangzhou/\"]}"`), []string{"Message.regions[0]: invalid region"}, bucket.ErrInvalidRegion},
		{"region empty manual", manualBucket(`"photos-1250000000"`, `""`), []string{"buckets[0].region: required"}, nil},
		{"region empty COS", cosRecord(`"photos"`, `"1250000000"`, `""`), []string{"Records[0].cos.cosBucket: no region"}, nil},
		{"manual region short code", manualBucket(`"photos-1250000000"`, `"gz"`), []string{"buckets[0].region: invalid region"}, bucket.ErrInvalidRegion},
		{"qcs region hostile", putBucketEnv(`,"resources":"qcs::cos:evil.com:uid/1250000000:photos-1250000000"`), []string{"data.resources: invalid region"}, bucket.ErrInvalidRegion},
		{"envelope region hostile", `{"specversion":"1.0","source":"cos.cloud.tencent","region":"ap-guangzhou@evil","data":{"eventName":"PutBucket","resourceName":"photos-1250000000"}}`, []string{"region: invalid region"}, bucket.ErrInvalidRegion},
		{"reconcile region hostile", `{"reconcile":{"regions":["localhost"]}}`, []string{"reconcile.regions[0]: invalid region"}, bucket.ErrInvalidRegion},

		// Manual event.
		{"manual unknown key", `{"buckets":[{"bucket":"photos-1250000000","region":"ap-guangzhou"}],"force":true}`, []string{`unknown key "force"`, `"buckets", "reconcile", "dryRun"`}, nil},
		{"manual key wrong case", `{"Buckets":[{"bucket":"photos-1250000000","region":"ap-guangzhou"}],"dryRun":true}`, []string{`unknown key "Buckets"`}, nil},
		{"manual entry unknown key", `{"buckets":[{"bucket":"photos-1250000000","Region":"ap-guangzhou"}]}`, []string{`buckets[0]: unknown key "Region"`}, nil},
		{"manual missing region", `{"buckets":[{"bucket":"photos-1250000000"}]}`, []string{"buckets[0].region: required"}, nil},
		{"manual missing bucket", `{"buckets":[{"region":"ap-guangzhou"}]}`, []string{"buckets[0].bucket: required"}, nil},
		{"manual only dryRun", `{"dryRun":true}`, []string{`needs "buckets"`}, nil},
		{"manual empty buckets", `{"buckets":[]}`, []string{"buckets: has 0 entries, want at least 1"}, nil},
		{"manual buckets not array", `{"buckets":"photos-1250000000"}`, []string{"buckets: want a JSON array, got a string"}, nil},
		{"manual entry not object", `{"buckets":["photos-1250000000"]}`, []string{"buckets[0]: want a JSON object, got a string"}, nil},
		{"manual dryRun string", `{"reconcile":{},"dryRun":"yes"}`, []string{`dryRun: want true or false, got "yes"`}, nil},
		{"manual reconcile unknown key", `{"reconcile":{"region":["ap-guangzhou"]}}`, []string{`reconcile: unknown key "region"`}, nil},
		{"manual reconcile not object", `{"reconcile":true}`, []string{"reconcile: want a JSON object, got a boolean"}, nil},
		{"manual too many buckets", bigList("buckets", `{"bucket":"photos-1250000000","region":"ap-guangzhou"}`, MaxTargets+1), []string{"buckets: more than 10000 entries"}, nil},

		// Timer event.
		{"timer Message text naming an option", timerMsg(`"dryRun please"`), []string{"Message: want the timer argument to be empty or a JSON object", "not JSON"}, nil},
		{"timer Message broken object", timerMsg(`"{\"dryRun\":tru"`), []string{"Message: want the timer argument", "not JSON"}, nil},
		{"resourceName with key", putBucketEnv(`,"resourceName":"photos-1250000000/some/key","eventRegion":"ap-beijing"`), []string{"data.resourceName: invalid bucket name", "not a path"}, bucket.ErrInvalidName},
		{"timer Message array", timerMsg(`"[\"ap-guangzhou\"]"`), []string{"Message: want the timer argument", "got an array"}, nil},
		{"timer Message number", timerMsg(`12`), []string{"Message: want a string"}, nil},
		{"timer Message object not string", timerMsg(`{"dryRun":true}`), []string{"Message: want a string", "got an object"}, nil},
		{"timer Message unknown key", timerMsg(`"{\"dryrun\":true}"`), []string{`Message: unknown key "dryrun"`}, nil},
		{"timer Message dryRun string", timerMsg(`"{\"dryRun\":\"true\"}"`), []string{"Message.dryRun: want true or false"}, nil},
		{"timer regions not list", timerMsg(`"{\"regions\":\"ap-guangzhou\"}"`), []string{"Message.regions: want a JSON array, got a string"}, nil},
		{"timer bad glob", timerMsg(`"{\"include\":[\"[\"]}"`), []string{"Message.include[0]: bad glob pattern"}, nil},
		{"manual bad glob", `{"reconcile":{"exclude":["photos-*","["]}}`, []string{"reconcile.exclude[1]: bad glob pattern"}, nil},
		{"empty glob", `{"reconcile":{"include":[""]}}`, []string{"reconcile.include[0]: empty glob pattern"}, nil},
		{"uppercase glob", `{"reconcile":{"include":["Photos-*"]}}`, []string{"reconcile.include[0]", "can never match"}, nil},
		{"host glob", `{"reconcile":{"exclude":["prod-*.cos.ap-guangzhou.myqcloud.com"]}}`, []string{"reconcile.exclude[0]", "can never match", "looks like a host"}, nil},
		{"glob too long", `{"reconcile":{"include":["` + repeat("a", MaxPatternLen+1) + `"]}}`, []string{"reconcile.include[0]", "longer than 255"}, nil},
		{"Type not Timer", `{"Type":"Cron","Message":""}`, []string{`Type: want "Timer"`, `"Cron"`}, nil},
		{"Type number", `{"Type":1}`, []string{`Type: want "Timer"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWith([]byte(tt.payload), Options{})
			if err == nil {
				t.Fatalf("Parse succeeded with %+v, want an error", got)
			}
			if got != nil {
				t.Errorf("Parse returned a Request with its error")
			}
			if !errors.Is(err, ErrInvalidEvent) {
				t.Errorf("error %q does not wrap ErrInvalidEvent", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %q does not wrap %v", err, tt.is)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if n := len(err.Error()); n > maxMessage {
				t.Errorf("error is %d bytes, want at most %d", n, maxMessage)
			}
		})
	}
}

// maxMessage bounds every error, reason and note: values are cut at 80 bytes.
const maxMessage = 1000

func TestLongValuesAreTruncated(t *testing.T) {
	long := repeat("x", 100000)
	for name, payload := range map[string]string{
		"manual bucket":           manualBucket(`"`+long+`"`, `"ap-guangzhou"`),
		"long valid-charset name": manualBucket(`"`+repeat("x", 100000)+`-1"`, `"ap-guangzhou"`),
		"long EB name":            putBucketEnv(`,"resourceName":"` + long + `-1","eventRegion":"ap-shanghai"`),
		"long COS name":           cosRecord(`"`+long+`"`, `"1"`, `"gz"`),
		"long region":             manualBucket(`"a-1"`, `"ap-`+long+`"`),
		"manual key":              `{"buckets":[],"` + long + `":1}`,
		"unknown shape":           `{"` + long + `":1}`,
		"EB region":               putBucketEnv(`,"resourceName":"photos-1250000000","eventRegion":"` + long + `"`),
		"timer message":           timerMsg(`"` + long + `"`),
		"glob":                    `{"reconcile":{"include":["` + long + `"]}}`,
		"COS appid":               cosRecord(`"photos"`, `"`+long+`"`, `"gz"`),
		"Type":                    `{"Type":"` + long + `"}`,
		"invalid JSON":            `{"` + long,
		"long number":             `{"Type":` + repeat("1", 100000) + `}`,
		"skip source":             `{"EventList":[{"source":"` + long + `","data":{}}],"x":1}`,
		"skip eventName":          env(`{"eventName":"` + long + `"}`),
	} {
		t.Run(name, func(t *testing.T) {
			req, err := ParseWith([]byte(payload), Options{})
			var msgs []string
			if err != nil {
				msgs = append(msgs, err.Error())
			} else {
				msgs = append(msgs, req.Notes...)
				for _, s := range req.Skipped {
					msgs = append(msgs, s.Reason)
				}
			}
			if len(msgs) == 0 {
				t.Fatalf("no error, reason or note to check")
			}
			for _, m := range msgs {
				if len(m) > maxMessage {
					t.Errorf("message is %d bytes: %.300s…", len(m), m)
				}
				if strings.Contains(m, repeat("x", maxEcho+1)) {
					t.Errorf("message echoes more than %d bytes of a value: %.300s…", maxEcho, m)
				}
			}
		})
	}
}

func TestParseValid(t *testing.T) {
	f := false
	tests := []struct {
		name    string
		payload string
		want    *Request
	}{
		{"non-COS source skipped", `{"specversion":"1.0","source":"cvm.cloud.tencent","data":{"eventName":"RunInstances"}}`,
			&Request{Kind: KindEventBridge, Skipped: []Skip{{Reason: `source "cvm.cloud.tencent" is not cos.cloud.tencent`}}}},
		{"non-string source skipped", `{"source":1,"data":{}}`,
			&Request{Kind: KindEventBridge, Skipped: []Skip{{Reason: `source 1 is not cos.cloud.tencent`}}}},
		{"other eventName skipped", env(`{"eventName":"DeleteBucket","resourceName":"Not Checked"}`),
			&Request{Kind: KindEventBridge, Skipped: []Skip{{Reason: `eventName "DeleteBucket" is not PutBucket`}}}},
		{"no data skipped", `{"specversion":"1.0","source":"cos.cloud.tencent"}`,
			&Request{Kind: KindEventBridge, Skipped: []Skip{{Reason: "event has no data, so it is not a COS PutBucket record"}}}},
		{"failed PutBucket with invalid name", putBucketEnv(`,"errorCode":400,"apiErrorCode":"InvalidBucketName","resourceName":"Bad Name","eventRegion":"ap-chengdu"`),
			&Request{Kind: KindEventBridge, Skipped: []Skip{{Region: "ap-chengdu", Reason: `PutBucket failed: errorCode=400 apiErrorCode="InvalidBucketName"`}}}},
		{"failed PutBucket by apiErrorCode only", putBucketEnv(`,"apiErrorCode":1100,"resourceName":"photos-1250000000","eventRegion":"ap-chengdu"`),
			&Request{Kind: KindEventBridge, Skipped: []Skip{{Bucket: "photos-1250000000", Region: "ap-chengdu", Reason: `PutBucket failed: errorCode=0 apiErrorCode=1100`}}}},
		{"zero codes as strings succeed", env(`{"eventName":"PutBucket","errorCode":"0","apiErrorCode":"0","resourceName":"photos-1250000000","eventRegion":"ap-chengdu"}`),
			&Request{Kind: KindEventBridge, Targets: []bucket.Target{tgt("photos-1250000000", "ap-chengdu")}}},
		{"resourceName qcs", putBucketEnv(`,"resourceName":"qcs::cos:ap-beijing:uid/1250000000:photos-1250000000"`),
			&Request{Kind: KindEventBridge, Targets: []bucket.Target{tgt("photos-1250000000", "ap-beijing")}}},
		{"resources prefix style", putBucketEnv(`,"resources":"qcs:id/0:cos:ap-shanghai:uid/1250000000:prefix//1250000000/photos"`),
			&Request{Kind: KindEventBridge, Targets: []bucket.Target{tgt("photos-1250000000", "ap-shanghai")}}},
		{"resources prefix style with key", putBucketEnv(`,"resources":["","qcs:id/0:cos:ap-shanghai:uid/1250000000:prefix//1250000000/photos/a/b"]`),
			&Request{Kind: KindEventBridge, Targets: []bucket.Target{tgt("photos-1250000000", "ap-shanghai")}}},
		{"resources CAM style", putBucketEnv(`,"resources":["qcs::cos:ap-tokyo:uid/1250000000:bucket/photos-1250000000/*"]`),
			&Request{Kind: KindEventBridge, Targets: []bucket.Target{tgt("photos-1250000000", "ap-tokyo")}}},
		{"subject bucket, params region short code", `{"specversion":"0","source":"cos.cloud.tencent","subject":"photos-1250000000","data":{"eventName":"PutBucket","requestParameters":{"region":"cd"}}}`,
			&Request{Kind: KindEventBridge, Targets: []bucket.Target{tgt("photos-1250000000", "ap-chengdu")}}},
		{"bucket with only envelope region", putBucketEnv(`,"resourceName":"photos-1250000000"`),
			&Request{Kind: KindEventBridge, Locate: []string{"photos-1250000000"},
				Notes: []string{"PutBucket record names bucket photos-1250000000 (from data.resourceName) but no bucket region: locating it with GetService"}}},
		{"bucket with no region at all", `{"specversion":"1.0","source":"cos.cloud.tencent","data":{"eventName":"PutBucket","resourceName":"photos-1250000000"}}`,
			&Request{Kind: KindEventBridge, Locate: []string{"photos-1250000000"},
				Notes: []string{"PutBucket record names bucket photos-1250000000 (from data.resourceName) but no bucket region: locating it with GetService"}}},
		{"batch: one unreadable record costs only itself", `{"EventList":[` + putBucketEnv(`,"resourceName":"photos-1250000000","eventRegion":"ap-beijing"`) + `,` + putBucketEnv(`,"resourceName":"Photos"`) + `]}`,
			&Request{Kind: KindEventBridge, Targets: []bucket.Target{tgt("photos-1250000000", "ap-beijing")},
				Skipped: []Skip{{Reason: `unreadable record: EventList[1].data.resourceName: invalid bucket name: "Photos": want <name>-<appid> of a-z, 0-9 and '-' (no leading or trailing '-')`}}}},
		{"qcs of another service names no bucket", putBucketEnv(`,"resourceName":"qcs::cvm:ap-guangzhou:uid/1250000000:ins-1","eventRegion":"ap-chengdu"`),
			&Request{Kind: KindEventBridge, Reconcile: &Reconcile{Regions: []string{"ap-chengdu"}},
				Notes: []string{`PutBucket record names no bucket; passed over data.resourceName="qcs::cvm:ap-guangzhou:uid/1250000000:ins-1" (no bucket named): reconciling region ap-chengdu (from data.eventRegion)`}}},
		{"timer Message plain text is ignored", timerMsg(`"argument: hello"`),
			&Request{Kind: KindTimer, Reconcile: &Reconcile{},
				Notes: []string{`timer Message "argument: hello" is not JSON and names no option: ignored, reconciling with the defaults`}}},
		{"no bucket, only envelope region", putBucketEnv(``),
			&Request{Kind: KindEventBridge, Reconcile: &Reconcile{},
				Notes: []string{"PutBucket record names no bucket and no bucket region: reconciling all regions"}}},
		{"batch merges reconcile regions and dedups targets", `{"EventList":[` +
			putBucketEnv(`,"eventRegion":"ap-shanghai"`) + `,` +
			putBucketEnv(`,"eventRegion":"ap-beijing"`) + `,` +
			putBucketEnv(`,"eventRegion":"ap-shanghai"`) + `,` +
			putBucketEnv(`,"resourceName":"photos-1250000000","eventRegion":"ap-beijing"`) + `,` +
			putBucketEnv(`,"requestParameters":{"bucketName":"photos-1250000000","Region":"ap-beijing"}`) + `]}`,
			&Request{Kind: KindEventBridge, Targets: []bucket.Target{tgt("photos-1250000000", "ap-beijing")},
				Reconcile: &Reconcile{Regions: []string{"ap-shanghai", "ap-beijing"}},
				Notes: []string{
					"PutBucket record EventList[0] names no bucket: reconciling region ap-shanghai (from EventList[0].data.eventRegion)",
					"PutBucket record EventList[1] names no bucket: reconciling region ap-beijing (from EventList[1].data.eventRegion)",
					"PutBucket record EventList[2] names no bucket: reconciling region ap-shanghai (from EventList[2].data.eventRegion)",
				}}},
		{"batch: reconcile all wins", `{"EventList":[` + putBucketEnv(`,"eventRegion":"ap-shanghai"`) + `,` + putBucketEnv(``) + `]}`,
			&Request{Kind: KindEventBridge, Reconcile: &Reconcile{},
				Notes: []string{
					"PutBucket record EventList[0] names no bucket: reconciling region ap-shanghai (from EventList[0].data.eventRegion)",
					"PutBucket record EventList[1] names no bucket and no bucket region: reconciling all regions",
				}}},
		{"requestParameters not JSON is ignored", putBucketEnv(`,"requestParameters":"bucket=x","eventRegion":"ap-shanghai","resources":"qcs::cos::uid/1250000000:photos-1250000000"`),
			&Request{Kind: KindEventBridge, Targets: []bucket.Target{tgt("photos-1250000000", "ap-shanghai")}}},
		{"duplicate keys: last wins", `{"Type":"Cron","Type":"Timer"}`,
			&Request{Kind: KindTimer, Reconcile: &Reconcile{}}},
		{"timer lowercase, Message absent", `{"Type":"timer"}`, &Request{Kind: KindTimer, Reconcile: &Reconcile{}}},
		{"timer Message null", timerMsg(`null`), &Request{Kind: KindTimer, Reconcile: &Reconcile{}}},
		{"timer Message whitespace", timerMsg(`" \n\t "`), &Request{Kind: KindTimer, Reconcile: &Reconcile{}}},
		{"timer all options", timerMsg(`"{\"regions\":[\"ap-guangzhou\",\"ap-shanghai\",\"ap-guangzhou\"],\"include\":[\"photos-*\"],\"exclude\":[\"*-test-[0-9]*\"],\"dryRun\":false}"`),
			&Request{Kind: KindTimer, DryRun: &f, Reconcile: &Reconcile{
				Regions: []string{"ap-guangzhou", "ap-shanghai"}, Include: []string{"photos-*"}, Exclude: []string{"*-test-[0-9]*"}}}},
		{"COS dedup, appid number, name with appid, short region", `{"Records":[` +
			`{"cos":{"cosBucket":{"name":"photos","appid":1250000000,"region":"cd"}}},` +
			`{"cos":{"cosBucket":{"name":"photos-1250000000","appid":"1250000000","region":"ap-chengdu"}}},` +
			`{"cos":{"cosBucket":{"name":"photos","appid":"1250000000","region":"bj"}}}]}`,
			// One result per bucket: the name decides, the first region stays.
			&Request{Kind: KindCOS, Targets: []bucket.Target{tgt("photos-1250000000", "ap-chengdu")}}},
		{"manual dedup and reconcile", `{"buckets":[{"bucket":"a-1","region":"ap-tokyo"},{"bucket":"a-1","region":"ap-tokyo"}],"reconcile":{},"dryRun":false}`,
			&Request{Kind: KindManual, Targets: []bucket.Target{tgt("a-1", "ap-tokyo")}, Reconcile: &Reconcile{}, DryRun: &f}},
		{"manual null fields", `{"buckets":null,"reconcile":{"regions":null},"dryRun":null}`,
			&Request{Kind: KindManual, Reconcile: &Reconcile{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseWith([]byte(tt.payload), Options{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			assertRequest(t, got, tt.want)
		})
	}
}

func TestMaxPayloadAccepted(t *testing.T) {
	base := `{"Type":"Timer","Message":""}`
	payload := base + repeat("\n", MaxPayload-len(base))
	if len(payload) != MaxPayload {
		t.Fatalf("payload is %d bytes", len(payload))
	}
	if _, err := ParseWith([]byte(payload), Options{}); err != nil {
		t.Fatalf("Parse of a MaxPayload-byte event: %v", err)
	}
}

func TestMaxEventListAccepted(t *testing.T) {
	item := putBucketEnv(`,"resourceName":"photos-1250000000","eventRegion":"ap-shanghai"`)
	payload := `{"EventList":[` + strings.TrimSuffix(repeat(item+",", MaxEventList), ",") + `]}`
	req, err := ParseWith([]byte(payload), Options{})
	if err != nil {
		t.Fatalf("Parse of %d envelopes: %v", MaxEventList, err)
	}
	if want := []bucket.Target{tgt("photos-1250000000", "ap-shanghai")}; !reflect.DeepEqual(req.Targets, want) {
		t.Errorf("Targets = %v, want %v", req.Targets, want)
	}
}

// FuzzParse checks that Parse never panics, that every error wraps
// ErrInvalidEvent, and that every Target it returns is safe to put in a URL.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(eventsDir, "*.json"))
	if err != nil {
		f.Fatal(err)
	}
	if len(files) == 0 {
		f.Fatal("no sample events")
	}
	forms, _ := filepath.Glob("../../testdata/forms/*.json")
	for _, name := range append(files, forms...) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		``, `null`, `[]`, `{}`, `"x"`, `{"EventList":[]}`,
		`{"Records":[{"cos":{"cosBucket":{"name":"Photos","appid":"1","region":"gz"}}}]}`,
		manualBucket(`"phоtos-1250000000"`, `"ap-guangzhou"`),
		manualBucket(`"photos-1250000000"`, `"ap-guangzhou.evil.com"`),
		putBucketEnv(`,"resourceName":"qcs:id/0:cos:ap-shanghai:uid/1250000000:prefix//1250000000/photos"`),
		putBucketEnv(`,"resources":["qcs::cos:ap-tokyo:uid/1:bucket/a-1/*"],"errorCode":"0"`),
		env(`"{\"eventName\":\"PutBucket\",\"requestParameters\":\"{\\\"bucket\\\":\\\"a-1\\\"}\"}"`),
		timerMsg(`"{\"regions\":[\"ap-guangzhou\"],\"include\":[\"[\"]}"`),
		`{"reconcile":{"include":["a*"],"exclude":["[^a]*"]},"dryRun":true}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		req, err := ParseWith(payload, Options{AppID: "1250000000"})
		if err != nil {
			if req != nil {
				t.Errorf("Request returned with error %v", err)
			}
			if !errors.Is(err, ErrInvalidEvent) {
				t.Errorf("error %q does not wrap ErrInvalidEvent", err)
			}
			if len(err.Error()) > maxMessage {
				t.Errorf("error is %d bytes", len(err.Error()))
			}
			return
		}
		switch req.Kind {
		case KindEventBridge, KindTimer, KindCOS, KindManual, KindMember, KindCLS:
		default:
			t.Errorf("Kind = %q", req.Kind)
		}
		if len(req.Targets) > MaxTargets {
			t.Errorf("%d targets", len(req.Targets))
		}
		seen := map[string]bool{}
		for _, name := range req.Locate {
			if err := bucket.ValidateName(name); err != nil {
				t.Errorf("locate %q: %v", name, err)
			}
			if seen[name] {
				t.Errorf("duplicate bucket %q", name)
			}
			seen[name] = true
		}
		for _, s := range req.Skipped {
			if len(s.Reason) > maxMessage {
				t.Errorf("skip reason is %d bytes", len(s.Reason))
			}
		}
		for _, tg := range req.Targets {
			if err := tg.Validate(); err != nil {
				t.Errorf("target %v: %v", tg, err)
			}
			if h := bucket.CIHost(tg); !bucket.AllowedHost(h) {
				t.Errorf("target %v: host %q not allowed", tg, h)
			}
			if seen[tg.Bucket] {
				t.Errorf("duplicate bucket %v", tg)
			}
			seen[tg.Bucket] = true
		}
		if r := req.Reconcile; r != nil {
			for _, region := range r.Regions {
				if err := bucket.ValidateRegion(region); err != nil {
					t.Errorf("reconcile region: %v", err)
				}
			}
			for _, p := range append(append([]string{}, r.Include...), r.Exclude...) {
				if err := rules.BucketPattern(p); err != nil {
					t.Errorf("reconcile pattern: %v", err)
				}
			}
		}
		for _, s := range req.Skipped {
			if len(s.Reason) > maxMessage || s.Reason == "" {
				t.Errorf("skip reason %d bytes", len(s.Reason))
			}
			if s.Bucket != "" && bucket.ValidateName(s.Bucket) != nil {
				t.Errorf("skip bucket %q is not valid", s.Bucket)
			}
			if s.Region != "" && bucket.ValidateRegion(s.Region) != nil {
				t.Errorf("skip region %q is not valid", s.Region)
			}
		}
		for _, n := range req.Notes {
			if len(n) > maxMessage {
				t.Errorf("note %d bytes", len(n))
			}
		}
	})
}

// TestDocumentedForms parses the forms of Tencent's documents
// (testdata/forms; sources in its README.md) with the account's APPID.
func TestDocumentedForms(t *testing.T) {
	opts := Options{AppID: "1250000000"}
	tests := map[string]struct {
		targets    []bucket.Target
		locate     []string
		skipped    int
		reconcile  *Reconcile
		notesMatch string
	}{
		"01a-resourcename-star.json":         {targets: []bucket.Target{tgt("uploads-1250000000", "ap-guangzhou")}, notesMatch: `passed over data.resourceName="*"`},
		"01b-resourcename-policy.json":       {targets: []bucket.Target{tgt("newbucket-1250000000", "ap-shanghai")}, notesMatch: `data.resourceName="policy/7934***"`},
		"02-subject-eventbridge-sample.json": {targets: []bucket.Target{tgt("bucketname-1250000000", "ap-guangzhou")}},
		"03-params-without-appid.json":       {targets: []bucket.Target{tgt("newbucket-1250000000", "ap-shanghai")}},
		"04-bucket-without-region.json":      {locate: []string{"photos-1250000000"}, notesMatch: "locating it with GetService"},
		"05-batch-one-unreadable.json":       {targets: []bucket.Target{tgt("videos-1250000000", "ap-shanghai")}, skipped: 1},
		"06-cos-records-full-region.json": {targets: []bucket.Target{tgt("logs-1250000000", "ap-shanghai"),
			tgt("media-1250000000", "ap-singapore"), tgt("assets-1250000000", "ap-singapore")}},
		"08-manual-bucket-and-reconcile.json":  {targets: []bucket.Target{tgt("uploads-1250000000", "ap-guangzhou")}, reconcile: &Reconcile{Regions: []string{"ap-guangzhou"}}},
		"08b-batch-bucket-and-its-region.json": {targets: []bucket.Target{tgt("uploads-1250000000", "ap-guangzhou")}, reconcile: &Reconcile{Regions: []string{"ap-guangzhou"}}},
		"09-timer-plain-text.json":             {reconcile: &Reconcile{}, notesMatch: "is not JSON and names no option"},
		"11-putbucket-not-visible-yet.json":    {targets: []bucket.Target{tgt("fresh-1250000000", "ap-guangzhou")}},
		"11b-putbucket-never-visible.json":     {targets: []bucket.Target{tgt("ghost-1250000000", "ap-guangzhou")}},
	}
	files, _ := filepath.Glob("../../testdata/forms/*.json")
	if len(files) != len(tests) {
		t.Errorf("testdata/forms has %d files, the table covers %d", len(files), len(tests))
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			payload, err := os.ReadFile(filepath.Join("../../testdata/forms", name))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseWith(payload, opts)
			if err != nil {
				t.Fatalf("ParseWith: %v", err)
			}
			if !reflect.DeepEqual(got.Targets, tt.targets) || !reflect.DeepEqual(got.Locate, tt.locate) ||
				len(got.Skipped) != tt.skipped || !reflect.DeepEqual(got.Reconcile, tt.reconcile) {
				t.Errorf("got targets %v locate %v skipped %v reconcile %+v", got.Targets, got.Locate, got.Skipped, got.Reconcile)
			}
			if tt.notesMatch != "" && !strings.Contains(strings.Join(got.Notes, "\n"), tt.notesMatch) {
				t.Errorf("notes %q lack %q", got.Notes, tt.notesMatch)
			}
			// Without the account's APPID, a name given without one is unusable.
			if _, err := ParseWith(payload, Options{}); err == nil && (name == "03-params-without-appid.json") {
				t.Errorf("Parse without an APPID accepted %s", name)
			}
		})
	}
}

func TestMemberEvent(t *testing.T) {
	req, err := ParseWith([]byte(`{"account":{"uin":"100000000011","role":"OrganizationAccessControlRole"},"reconcile":{"regions":["ap-guangzhou"]},"dryRun":true}`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if req.Kind != KindMember || *req.Account != (Account{Uin: "100000000011", Role: "OrganizationAccessControlRole"}) ||
		!reflect.DeepEqual(req.Reconcile, &Reconcile{Regions: []string{"ap-guangzhou"}}) || req.DryRun == nil || !*req.DryRun {
		t.Errorf("got %+v account %+v", req, req.Account)
	}
	req, err = ParseWith([]byte(`{"account":{"uin":100000000012}}`), Options{})
	if err != nil || req.Account.Uin != "100000000012" || req.Account.Role != "" || !reflect.DeepEqual(req.Reconcile, &Reconcile{}) {
		t.Errorf("numeric uin, defaults: %+v, %v", req, err)
	}
	for _, bad := range []string{
		`{"account":{}}`, `{"account":{"uin":"12ab"}}`, `{"account":{"uin":"100000000011","role":"a b"}}`,
		`{"account":{"uin":"100000000011","extra":1}}`, `{"account":{"uin":"100000000011"},"buckets":[]}`,
		`{"account":"100000000011"}`, `{"account":{"uin":"100000000011"},"reconcile":{"regions":["x.evil.com"]}}`,
	} {
		if _, err := ParseWith([]byte(bad), Options{}); !errors.Is(err, ErrInvalidEvent) {
			t.Errorf("%s: err = %v, want an invalid event", bad, err)
		}
	}
}

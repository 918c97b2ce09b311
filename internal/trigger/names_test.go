package trigger

import (
	"reflect"
	"testing"

	"github.com/picbucket/picbucket/internal/bucket"
)

// A short name that ends in digits (a date) is the account's own bucket
// when the account's APPID is known; a name that ends in another account's
// APPID stays another account's (issue 19, item 2). Every event form that
// can carry a short name: EventBridge requestParameters, qcs strings,
// manual events, CLS records.
func TestShortNamesEndingInDigits(t *testing.T) {
	own := Options{AppID: "1250000000"}
	params := func(name string) string {
		return putBucketEnv(`,"requestParameters":"{\"Bucket\":\"` + name + `\",\"Region\":\"ap-guangzhou\"}"`)
	}
	tests := []struct {
		name    string
		payload string
		opts    Options
		want    []bucket.Target
	}{
		{"eventbridge, a date", params("backup-20240520"), own, []bucket.Target{tgt("backup-20240520-1250000000", "ap-guangzhou")}},
		{"eventbridge, a year", params("logs-2024"), own, []bucket.Target{tgt("logs-2024-1250000000", "ap-guangzhou")}},
		{"eventbridge, dated and full", params("backup-20240520-1250000000"), own, []bucket.Target{tgt("backup-20240520-1250000000", "ap-guangzhou")}},
		{"eventbridge, another account's APPID", params("photos-1250000011"), own, []bucket.Target{tgt("photos-1250000011", "ap-guangzhou")}},
		{"eventbridge, the record's own uid decides", putBucketEnv(`,"resourceName":"qcs::cos:ap-guangzhou:uid/1250000011:backup-20240520"`), own,
			[]bucket.Target{tgt("backup-20240520-1250000011", "ap-guangzhou")}},
		{"eventbridge subject, a date", `{"specversion":"1.0","source":"cos.cloud.tencent","subject":"qcs::cos:ap-guangzhou:uid1250000000:backup-20240520","data":{"eventName":"PutBucket"}}`,
			Options{}, []bucket.Target{tgt("backup-20240520-1250000000", "ap-guangzhou")}},
		{"manual, a date", manualBucket(`"backup-20240520"`, `"ap-guangzhou"`), own, []bucket.Target{tgt("backup-20240520-1250000000", "ap-guangzhou")}},
		{"manual, another account's APPID", manualBucket(`"photos-1250000011"`, `"ap-guangzhou"`), own, []bucket.Target{tgt("photos-1250000011", "ap-guangzhou")}},
		{"manual, no APPID known: as given", manualBucket(`"backup-20240520"`, `"ap-guangzhou"`), Options{}, []bucket.Target{tgt("backup-20240520", "ap-guangzhou")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := ParseWith([]byte(tc.payload), tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(req.Targets, tc.want) {
				t.Errorf("Targets %v, want %v", req.Targets, tc.want)
			}
		})
	}
}

// A CLS record carries no APPID unless it has a qcs uid: its name is kept
// as written, and the account's APPID decides (AccountBuckets.Complete).
func TestCLSShortNamesEndingInDigits(t *testing.T) {
	doc := clsDoc(
		audit(`100000000011`, "PutBucket", `,"requestParameters":{"bucket":"backup-20240520","region":"ap-shanghai"}`),
		audit(`100000000011`, "PutBucket", `,"requestParameters":{"bucket":"photos-1250000099","region":"ap-shanghai"}`),
		audit(`100000000011`, "PutBucket", `,"requestParameters":{"bucket":"docs-1250000011","region":"ap-shanghai"}`),
		audit(`100000000011`, "PutBucket", `,"resourceName":"qcs::cos:ap-shanghai:uid/1250000011:daily-20240521"`))
	req, err := ParseWith(clsEvent(doc), Options{AppID: "1250000000"})
	if err != nil {
		t.Fatal(err)
	}
	if len(req.Accounts) != 1 || !req.Accounts[0].NeedAppID {
		t.Fatalf("Accounts %+v: want one account whose names need its APPID", req.Accounts)
	}
	done, skipped := req.Accounts[0].Complete("1250000011")
	want := []bucket.Target{tgt("backup-20240520-1250000011", "ap-shanghai"), tgt("photos-1250000099", "ap-shanghai"),
		tgt("docs-1250000011", "ap-shanghai"), tgt("daily-20240521-1250000011", "ap-shanghai")}
	if !reflect.DeepEqual(done.Targets, want) || len(skipped) != 0 {
		t.Errorf("completed %v (skipped %+v), want %v", done.Targets, skipped, want)
	}
}

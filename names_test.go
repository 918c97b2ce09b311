package main_test

// Buckets an event names, through the SCF runtime protocol against the
// emulators (issue 19, items 1 and 2): a retried PutBucket is one Create,
// and a short name that ends in a date is the account's own bucket.

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/picbucket/picbucket/handler"
	"github.com/picbucket/picbucket/internal/emulator"
)

// putBucketRecord is an EventBridge envelope of a CloudAudit PutBucket
// record; errorCode 0 is a success.
func putBucketRecord(bucket, region string, errorCode int, apiErrorCode string) string {
	return `{"specversion":"1.0","source":"cos.cloud.tencent","type":"cos:CloudEvent:ApiCall","region":"ap-guangzhou",` +
		`"data":{"eventName":"PutBucket","errorCode":` + strconv.Itoa(errorCode) + `,"apiErrorCode":"` + apiErrorCode + `",` +
		`"requestParameters":"{\"Bucket\":\"` + bucket + `\",\"Region\":\"` + region + `\"}"}}`
}

// TestRetriedPutBucketIsOneCreate: a batch holding a failed PutBucket (a
// 5xx the client retried, or BucketAlreadyOwnedByYou) and a successful one
// of the same bucket, in either order, enables the bucket with one Create.
func TestRetriedPutBucketIsOneCreate(t *testing.T) {
	failed := putBucketRecord("photos", "ap-guangzhou", 500, "InternalError")
	owned := putBucketRecord("photos-1250000000", "ap-guangzhou", 409, "BucketAlreadyOwnedByYou")
	ok := putBucketRecord("photos-1250000000", "ap-guangzhou", 0, "")
	for name, records := range map[string][]string{
		"failed first": {failed, ok},
		"failed last":  {ok, failed},
		"owned after":  {ok, owned},
		"both sides":   {failed, ok, owned},
	} {
		t.Run(name, func(t *testing.T) {
			f := start(t, emulator.Options{})
			f.emu.AddBucket("photos-1250000000", "ap-guangzhou", false)
			res, errMsg := f.invoke([]byte(`{"EventList":[` + strings.Join(records, ",") + `]}`))
			if errMsg != "" {
				t.Fatalf("invocation failed: %s\n%s", errMsg, f.out)
			}
			want := map[string]handler.Outcome{"photos-1250000000@ap-guangzhou": handler.Enabled}
			if got := outcomes(res); !equalMaps(got, want) || len(res.Results) != 1 {
				t.Errorf("results %+v, want only %v", res.Results, want)
			}
			if got, want := f.requests(defaultCreds), []string{ci("photos-1250000000", "ap-guangzhou")}; !slices.Equal(got, want) {
				t.Errorf("requests %q, want %q", got, want)
			}
		})
	}
}

// TestShortNameEndingInDigits: with the account's APPID known (1250000000),
// "backup-20240520" is the account's own backup-20240520-1250000000, in an
// EventBridge record and in a manual event; a name ending in another
// account's APPID is still skipped as another account's, with no request.
func TestShortNameEndingInDigits(t *testing.T) {
	tests := []struct {
		name     string
		payload  string
		want     map[string]handler.Outcome
		requests []string
	}{
		{"eventbridge requestParameters", putBucketRecord("backup-20240520", "ap-guangzhou", 0, ""),
			map[string]handler.Outcome{"backup-20240520-1250000000@ap-guangzhou": handler.Enabled},
			[]string{ci("backup-20240520-1250000000", "ap-guangzhou")}},
		{"manual event", `{"buckets":[{"bucket":"backup-20240520","region":"ap-guangzhou"},{"bucket":"logs-2024","region":"ap-guangzhou"}]}`,
			map[string]handler.Outcome{"backup-20240520-1250000000@ap-guangzhou": handler.Enabled, "logs-2024-1250000000@ap-guangzhou": handler.Enabled},
			[]string{ci("backup-20240520-1250000000", "ap-guangzhou"), ci("logs-2024-1250000000", "ap-guangzhou")}},
		{"another account's APPID", putBucketRecord("photos-1250000011", "ap-guangzhou", 0, ""),
			map[string]handler.Outcome{"photos-1250000011@ap-guangzhou": handler.Skipped}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := start(t, emulator.Options{})
			f.emu.AddBucket("backup-20240520-1250000000", "ap-guangzhou", false)
			f.emu.AddBucket("logs-2024-1250000000", "ap-guangzhou", false)
			res, errMsg := f.invoke([]byte(tc.payload))
			if errMsg != "" {
				t.Fatalf("invocation failed: %s\n%s", errMsg, f.out)
			}
			if got := outcomes(res); !equalMaps(got, tc.want) {
				t.Errorf("results %+v, want %v", res.Results, tc.want)
			}
			for _, b := range res.Results {
				if b.Outcome == handler.Skipped && !strings.Contains(b.Reason, "other account: APPID 1250000011") {
					t.Errorf("%s skipped for %q, want another account's APPID named", b.Bucket, b.Reason)
				}
			}
			if got := f.requests(defaultCreds); !slices.Equal(got, tc.requests) {
				t.Errorf("requests %q, want %q", got, tc.requests)
			}
		})
	}
}

// TestCLSShortNameEndingInDigits: a member's CLS record naming
// "backup-20240520" without a qcs uid is the member's own
// backup-20240520-1250000011, signed with the member's key.
func TestCLSShortNameEndingInDigits(t *testing.T) {
	f := startOrg(t, "PICBUCKET_ACCOUNTS=org")
	f.emu.AddBucket("backup-20240520-1250000011", "ap-shanghai", false)
	f.emu.AddBucket("backup-20240520-1250000000", "ap-shanghai", false)
	res, errMsg := f.invoke(clsPayload(t, putBucketAudit(memberA, "backup-20240520", "ap-shanghai"),
		putBucketAudit(mgmtUin, "backup-20240520", "ap-shanghai")))
	if errMsg != "" {
		t.Fatalf("%s\n%s", errMsg, f.out)
	}
	want := []string{mgmtUin + " " + emulator.ActionCreatePicProcessBucket + " backup-20240520-1250000000.ci.ap-shanghai.myqcloud.com",
		memberA + " " + emulator.ActionCreatePicProcessBucket + " backup-20240520-1250000011.ci.ap-shanghai.myqcloud.com"}
	if got := f.checkSigners(); !slices.Equal(got, want) {
		t.Errorf("requests\n%q\nwant\n%q", got, want)
	}
	if got, want := bucketAccounts(res), map[string]string{"backup-20240520-1250000011": memberA + " enabled",
		"backup-20240520-1250000000": mgmtUin + " enabled"}; !mapsEqual(got, want) {
		t.Errorf("results %v, want %v", got, want)
	}
}

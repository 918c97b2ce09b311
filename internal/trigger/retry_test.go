package trigger

import (
	"reflect"
	"strings"
	"testing"

	"github.com/picbucket/picbucket/internal/bucket"
)

// A client that retries PutBucket after a 5xx, or sends it twice and is
// answered BucketAlreadyOwnedByYou, leaves a failed and a successful record
// of the same bucket in one event: the bucket is a target, named once, and
// no Skip names it, in either order (issue 19, item 1).
func TestRetriedPutBucketIsATarget(t *testing.T) {
	failed := func(name, region string) string {
		return env(`{"eventName":"PutBucket","errorCode":500,"apiErrorCode":"InternalError","resourceName":"` + name + `","eventRegion":"` + region + `"}`)
	}
	owned := func(name, region string) string {
		return env(`{"eventName":"PutBucket","errorCode":409,"apiErrorCode":"BucketAlreadyOwnedByYou","requestParameters":{"bucket":"` + name + `","region":"` + region + `"}}`)
	}
	ok := func(name, region string) string {
		return env(`{"eventName":"PutBucket","errorCode":0,"resourceName":"` + name + `","eventRegion":"` + region + `"}`)
	}
	noRegion := func(name string) string {
		return env(`{"eventName":"PutBucket","errorCode":0,"requestParameters":{"bucket":"` + name + `"}}`)
	}
	batch := func(records ...string) string { return `{"EventList":[` + strings.Join(records, ",") + `]}` }
	other := Skip{Bucket: "taken-1250000000", Region: "ap-guangzhou", Reason: `PutBucket failed: errorCode=500 apiErrorCode="InternalError"`}
	tests := []struct {
		name    string
		payload string
		targets []bucket.Target
		locate  []string
		skipped []Skip
	}{
		{"failed first", batch(failed("photos-1250000000", "ap-guangzhou"), ok("photos-1250000000", "ap-guangzhou")),
			[]bucket.Target{tgt("photos-1250000000", "ap-guangzhou")}, nil, nil},
		{"failed last", batch(ok("photos-1250000000", "ap-guangzhou"), failed("photos-1250000000", "ap-guangzhou")),
			[]bucket.Target{tgt("photos-1250000000", "ap-guangzhou")}, nil, nil},
		{"already owned after the create, named without its APPID", batch(ok("photos-1250000000", "ap-guangzhou"), owned("photos", "ap-guangzhou")),
			[]bucket.Target{tgt("photos-1250000000", "ap-guangzhou")}, nil, nil},
		{"failed between two creates, one without a region", batch(noRegion("photos"), failed("photos-1250000000", "ap-guangzhou"), noRegion("photos-1250000000")),
			nil, []string{"photos-1250000000"}, nil},
		{"another bucket's failure stands", batch(failed("taken-1250000000", "ap-guangzhou"), failed("photos-1250000000", "ap-guangzhou"),
			ok("photos-1250000000", "ap-guangzhou"), failed("photos-1250000000", "ap-guangzhou")),
			[]bucket.Target{tgt("photos-1250000000", "ap-guangzhou")}, nil, []Skip{other}},
		{"a failure alone stands", batch(failed("taken-1250000000", "ap-guangzhou")), nil, nil, []Skip{other}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := ParseWith([]byte(tc.payload), Options{AppID: "1250000000"})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(req.Targets, tc.targets) || !reflect.DeepEqual(req.Locate, tc.locate) {
				t.Errorf("Targets %v Locate %v, want %v %v", req.Targets, req.Locate, tc.targets, tc.locate)
			}
			if !reflect.DeepEqual(req.Skipped, tc.skipped) {
				t.Errorf("Skipped %+v, want %+v", req.Skipped, tc.skipped)
			}
		})
	}
}

// The same rule for the records of a CLS event: a failed record of a
// bucket never hides the successful one of the same account, in either
// order.
func TestRetriedPutBucketIsATargetInCLS(t *testing.T) {
	failed := audit(`100000000011`, "PutBucket", `,"errorCode":500,"resourceName":"a-1250000011","eventRegion":"ap-shanghai"`)
	ok := audit(`100000000011`, "PutBucket", `,"resourceName":"a-1250000011","eventRegion":"ap-shanghai"`)
	want := []AccountBuckets{{Uin: "100000000011", Targets: []bucket.Target{tgt("a-1250000011", "ap-shanghai")}}}
	for name, doc := range map[string][]byte{"failed first": clsDoc(failed, ok), "failed last": clsDoc(ok, failed)} {
		t.Run(name, func(t *testing.T) {
			req, err := ParseWith(clsEvent(doc), Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(req.Accounts) != 1 || req.Accounts[0].Uin != want[0].Uin || !reflect.DeepEqual(req.Accounts[0].Targets, want[0].Targets) || len(req.Skipped) != 0 {
				t.Errorf("Accounts %+v Skipped %+v, want %+v and no Skip", req.Accounts, req.Skipped, want)
			}
			done, skipped := req.Accounts[0].Complete("1250000011")
			if !reflect.DeepEqual(done.Targets, want[0].Targets) || len(skipped) != 0 {
				t.Errorf("completed %+v %+v, want %v", done.Targets, skipped, want[0].Targets)
			}
		})
	}
}

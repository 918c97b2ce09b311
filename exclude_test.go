package main_test

// PICBUCKET_EXCLUDE_ACCOUNTS leaves an account alone ("skipped", README's
// settings table) whatever event names it: the function's own account
// too, when it is listed.

import (
	"testing"

	"github.com/picbucket/picbucket/handler"
	"github.com/picbucket/picbucket/internal/emulator"
)

// TestExcludedOwnAccountLeftAloneByBucketEvents: with the function's own
// account in PICBUCKET_EXCLUDE_ACCOUNTS, a timer leaves it alone, and so
// must an EventBridge PutBucket, a COS object event and a manual event
// naming its buckets: no Create, each bucket skipped naming the setting.
func TestExcludedOwnAccountLeftAloneByBucketEvents(t *testing.T) {
	for _, event := range []string{"eventbridge-putbucket.json", "cos-records.json", "manual.json"} {
		t.Run(event, func(t *testing.T) {
			f := startOrg(t, "PICBUCKET_ACCOUNTS=org", "PICBUCKET_EXCLUDE_ACCOUNTS="+mgmtUin)
			res, errMsg := f.invoke(readEvent(t, event))
			if n := cosActions(f)[emulator.ActionCreatePicProcessBucket]; n != 0 {
				t.Errorf("%d Creates in an excluded account", n)
			}
			if errMsg != "" {
				t.Fatalf("invocation error: %s", errMsg)
			}
			if len(res.Results) == 0 {
				t.Fatal("no results")
			}
			for _, b := range res.Results {
				if b.Outcome != handler.Skipped {
					t.Errorf("%s: %s (%s), want skipped: PICBUCKET_EXCLUDE_ACCOUNTS lists the account", b.Bucket, b.Outcome, b.Reason)
				}
			}
		})
	}
}

package main_test

// Issue 19, item 4: with PICBUCKET_ACCOUNTS=org, an account the
// Organization does not list is never assumed, whatever the event says,
// through the SCF runtime protocol against both emulators.

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/picbucket/picbucket/handler"
	"github.com/picbucket/picbucket/internal/emulator"
)

// outsider is an account that holds a bucket and trusts the management
// account, but is not (or no longer) a member of the Organization.
const outsider = "100000000099"

// searchKeys returns the SearchKey of each DescribeOrganizationMembers
// request, and fails on any AssumeRole into outsider.
func searchKeys(t *testing.T, f *orgFixture) []string {
	t.Helper()
	var keys []string
	for _, c := range f.tc.Calls() {
		switch c.Action {
		case "DescribeOrganizationMembers":
			var p struct{ SearchKey string }
			json.Unmarshal([]byte(c.Body), &p)
			keys = append(keys, p.SearchKey)
		case "AssumeRole":
			if strings.Contains(c.Body, "uin/"+outsider+":") {
				t.Errorf("AssumeRole into %s, which the Organization does not list: %s", outsider, c.Body)
			}
		}
	}
	return keys
}

// TestMemberEventOutsideTheOrganization: a member event for an account
// the Organization does not list fails with an error that says so, after
// one DescribeOrganizationMembers request (SearchKey: its UIN) and nothing
// else; a member's event still runs, with the same one check first.
func TestMemberEventOutsideTheOrganization(t *testing.T) {
	f := startOrg(t, "PICBUCKET_ACCOUNTS=org")
	f.emu.AddBucket("x-1250000099", "ap-guangzhou", false)
	res, errMsg := f.invoke([]byte(`{"account":{"uin":"` + outsider + `"}}`))
	if res != nil || !strings.Contains(errMsg, outsider) || !strings.Contains(errMsg, "not a member of this Organization") {
		t.Errorf("result %v, error %q: want a failure naming the account and that it is not a member", res, errMsg)
	}
	if keys := searchKeys(t, f); len(f.tc.Calls()) != 1 || len(keys) != 1 || keys[0] != outsider {
		t.Errorf("API 3.0 calls %+v: want exactly one DescribeOrganizationMembers with SearchKey %s", f.tc.Calls(), outsider)
	}
	if n := len(f.emu.Requests()); n != 0 {
		t.Errorf("%d COS/CI requests for an account outside the Organization", n)
	}

	// A member: one check, then its run.
	f.tc.TakeInvocations()
	before := len(f.tc.Calls())
	res, errMsg = f.invoke([]byte(`{"account":{"uin":"` + memberB + `"}}`))
	if errMsg != "" || len(res.Accounts) != 1 || res.Accounts[0].Outcome != handler.AccountReconciled || !f.emu.Enabled("d-1250000012") {
		t.Fatalf("member %s: result %+v, error %q", memberB, res, errMsg)
	}
	calls := f.tc.Calls()[before:]
	if len(calls) < 2 || calls[0].Action != "DescribeOrganizationMembers" || calls[1].Action != "AssumeRole" {
		t.Errorf("a member's calls %+v: want the check, then AssumeRole", calls)
	}
}

// TestCLSRecordsOutsideTheOrganization: a CLS event whose records name an
// outside account, a member and the function's own account: the outside
// account's buckets are skipped, naming why, and its role is never
// assumed; the others are enabled.
func TestCLSRecordsOutsideTheOrganization(t *testing.T) {
	f := startOrg(t, "PICBUCKET_ACCOUNTS=org")
	f.emu.AddBucket("x-1250000099", "ap-guangzhou", false)
	res, errMsg := f.invoke(clsPayload(t, putBucketAudit(outsider, "x-1250000099", "ap-guangzhou"),
		putBucketAudit(memberA, "a-1250000011", "ap-guangzhou"), putBucketAudit(mgmtUin, "photos-1250000000", "ap-guangzhou")))
	if errMsg != "" {
		t.Fatalf("%s", errMsg)
	}
	if f.emu.Enabled("x-1250000099") || !f.emu.Enabled("a-1250000011") || !f.emu.Enabled("photos-1250000000") {
		t.Error("want the member's and our bucket enabled, the outside account's not")
	}
	var outside *handler.BucketResult
	for i, b := range res.Results {
		if b.Bucket == "x-1250000099" {
			outside = &res.Results[i]
		}
	}
	if outside == nil || outside.Outcome != handler.Skipped || outside.Account != outsider ||
		!strings.Contains(outside.Reason, "not a member of this Organization") {
		t.Errorf("the outside account's bucket: %+v; want skipped, naming that the account is not a member", outside)
	}
	if got := accountOutcomes(res); got[outsider] != handler.AccountSkipped || got[memberA] != handler.AccountReconciled {
		t.Errorf("accounts %v", got)
	}
	keys := searchKeys(t, f)
	if strings.Join(keys, ",") != outsider+","+memberA && strings.Join(keys, ",") != memberA+","+outsider {
		t.Errorf("SearchKeys %v: want one check per member account named", keys)
	}
	for _, r := range f.emu.Requests() {
		if r.Action == emulator.ActionCreatePicProcessBucket && strings.Contains(r.Host, "1250000099") {
			t.Errorf("a Create for the outside account's bucket: %s", r.Host)
		}
	}
}

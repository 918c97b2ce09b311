package main_test

// CLS trigger events through the SCF runtime protocol: the organization's
// CloudAudit records, each enabled in its own account, against the COS/CI
// emulator and the API 3.0 emulator of org_test.go.

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/picbucket/picbucket/handler"
	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/tcapi/tcemu"
)

// clsPayload is a CLS trigger event holding one record per CloudAudit record.
func clsPayload(t *testing.T, audits ...map[string]any) []byte {
	t.Helper()
	var recs []map[string]string
	for _, a := range audits {
		b, _ := json.Marshal(a)
		recs = append(recs, map[string]string{"timestamp": "1716200102000000", "content": string(b)})
	}
	doc, _ := json.Marshal(map[string]any{"topic_id": "t", "topic_name": "cloudaudit", "records": recs})
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(doc)
	w.Close()
	out, _ := json.Marshal(map[string]any{"clslogs": map[string]string{"data": base64.StdEncoding.EncodeToString(gz.Bytes())}})
	return out
}

// putBucketAudit is a successful CloudAudit PutBucket record.
func putBucketAudit(account, bucket, region string) map[string]any {
	params, _ := json.Marshal(map[string]string{"bucket": bucket, "region": region})
	return map[string]any{"eventName": "PutBucket", "resourceType": "cos", "errorCode": 0, "eventRegion": region,
		"requestParameters": string(params), "userIdentity": map[string]any{"accountId": account, "type": "root"}}
}

// cosActions counts the COS/CI emulator's requests by action.
func cosActions(f *orgFixture) map[string]int {
	m := map[string]int{}
	for _, r := range f.emu.Requests() {
		m[r.Action]++
	}
	return m
}

// TestCLSEventEachRecordInItsAccount: the sample CLS event (a member's
// PutBucket in ap-shanghai, our own PutBucket, a PutObject, a failed
// PutBucket, an unreadable record) with PICBUCKET_ACCOUNTS=org.
func TestCLSEventEachRecordInItsAccount(t *testing.T) {
	f := startOrg(t, "PICBUCKET_ACCOUNTS=org") // PICBUCKET_MEMBER_ROLE: its default
	f.emu.AddBucket("docs-1250000011", "ap-shanghai", false)
	f.emu.AddBucket("docs-1250000000", "ap-shanghai", false)
	res, errMsg := f.invoke(readEvent(t, "cls-audit.json"))
	if errMsg != "" {
		t.Fatalf("%s\n%s", errMsg, f.out)
	}
	if res.Trigger != "cls" {
		t.Errorf("trigger %q", res.Trigger)
	}
	// One AssumeRole, then the member's APPID read once with the assumed
	// key (so that no name of another account is signed with it); nothing else.
	// With "org", first the check that the Organization lists the account.
	calls := f.tc.Calls()
	if len(calls) != 3 || calls[0].Action != "DescribeOrganizationMembers" || !strings.Contains(calls[0].Body, `"SearchKey":"`+memberA+`"`) {
		t.Errorf("API 3.0 calls %+v: want first one DescribeOrganizationMembers with SearchKey %s", calls, memberA)
	} else {
		calls = calls[1:]
	}
	if len(calls) != 2 || calls[0].Action != "AssumeRole" ||
		!strings.Contains(calls[0].Body, `"RoleArn":"qcs::cam::uin/`+memberA+`:roleName/OrganizationAccessControlRole"`) ||
		calls[1].Action != "GetUserAppId" || calls[1].SecretID == defaultCreds.id {
		t.Errorf("API 3.0 calls %+v: want exactly one AssumeRole of PICBUCKET_MEMBER_ROLE in %s, then one GetUserAppId with the assumed key", calls, memberA)
	}
	if got := cosActions(f); len(got) != 1 || got[emulator.ActionCreatePicProcessBucket] != 2 {
		t.Errorf("COS/CI requests %v: want exactly two Creates, no listing", got)
	}
	lines := f.checkSigners() // each Create signed by its bucket's account's key
	want := []string{mgmtUin + " " + emulator.ActionCreatePicProcessBucket + " docs-1250000000.ci.ap-shanghai.myqcloud.com",
		memberA + " " + emulator.ActionCreatePicProcessBucket + " docs-1250000011.ci.ap-shanghai.myqcloud.com"}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests\n%s\nwant\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
	if got, want := bucketAccounts(res), map[string]string{"docs-1250000011": memberA + " enabled", "docs-1250000000": mgmtUin + " enabled",
		"": " skipped"}; !mapsEqual(got, want) {
		t.Errorf("results %v, want %v", got, want)
	}
	unreadable := false
	for _, b := range res.Results {
		unreadable = unreadable || (b.Outcome == handler.Skipped && strings.Contains(b.Reason, "clslogs.records[4].content"))
	}
	if !unreadable {
		t.Errorf("results %+v: want the unreadable record skipped with its path", res.Results)
	}
	if got, want := accountOutcomes(res), map[string]handler.AccountOutcome{memberA: handler.AccountReconciled, mgmtUin: handler.AccountReconciled}; !mapsEqual(got, want) {
		t.Errorf("accounts %v, want %v", got, want)
	}
	if !strings.Contains(strings.Join(res.Notes, "\n"), "ignored 2 records that are not a successful COS PutBucket") {
		t.Errorf("notes %q: want the PutObject and the failed PutBucket noted", res.Notes)
	}
	checkNoAssumedSecrets(t, f)
}

// TestCLSEventWithoutOrganization: the same event without
// PICBUCKET_ACCOUNTS enables our bucket only; the member's is skipped
// naming the setting; no API 3.0 request.
func TestCLSEventWithoutOrganization(t *testing.T) {
	f := startOrg(t)
	f.emu.AddBucket("docs-1250000011", "ap-shanghai", false)
	f.emu.AddBucket("docs-1250000000", "ap-shanghai", false)
	res, errMsg := f.invoke(readEvent(t, "cls-audit.json"))
	if errMsg != "" {
		t.Fatalf("%s\n%s", errMsg, f.out)
	}
	if n := len(f.tc.Calls()); n != 0 {
		t.Errorf("%d API 3.0 requests, want none", n)
	}
	if got := cosActions(f); len(got) != 1 || got[emulator.ActionCreatePicProcessBucket] != 1 {
		t.Errorf("COS/CI requests %v: want our one Create", got)
	}
	for _, b := range res.Results {
		if b.Bucket == "docs-1250000011" && (b.Outcome != handler.Skipped || b.Account != memberA ||
			!strings.Contains(b.Reason, "PICBUCKET_ACCOUNTS") || !strings.Contains(b.Reason, memberA)) {
			t.Errorf("member's bucket %+v: want skipped naming the account and PICBUCKET_ACCOUNTS", b)
		}
	}
	if got, want := bucketAccounts(res), map[string]string{"docs-1250000011": memberA + " skipped", "docs-1250000000": mgmtUin + " enabled",
		"": " skipped"}; !mapsEqual(got, want) {
		t.Errorf("results %v, want %v", got, want)
	}
	if got, want := accountOutcomes(res), map[string]handler.AccountOutcome{memberA: handler.AccountSkipped, mgmtUin: handler.AccountReconciled}; !mapsEqual(got, want) {
		t.Errorf("accounts %v, want %v", got, want)
	}
	if f.emu.Enabled("docs-1250000011") {
		t.Error("the member's bucket was enabled")
	}
}

// TestCLSGzipBomb: a CLS event within the 128 KB an asynchronous event may
// be whose document decompresses to 80 MiB: refused with a clear error,
// no request; the next invocation works.
func TestCLSGzipBomb(t *testing.T) {
	f := startOrg(t, "PICBUCKET_ACCOUNTS=org")
	var gz bytes.Buffer
	w, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	w.Write([]byte(`{"records":[`))
	chunk := bytes.Repeat([]byte(" "), 1<<20)
	for range 80 {
		w.Write(chunk)
	}
	w.Write([]byte(`]}`))
	w.Close()
	bomb := []byte(`{"clslogs":{"data":"` + base64.StdEncoding.EncodeToString(gz.Bytes()) + `"}}`)
	if len(bomb) > 128<<10 {
		t.Fatalf("the bomb is %d bytes, over 128 KB", len(bomb))
	}
	res, errMsg := f.invoke(bomb)
	if res != nil || !strings.Contains(errMsg, "clslogs.data") || !strings.Contains(errMsg, "MaxCLSDocument (16 MiB)") {
		t.Errorf("result %v, error %q: want the event refused, naming the field and the limit", res, errMsg)
	}
	if n := len(f.emu.Requests()) + len(f.tc.Calls()); n != 0 {
		t.Errorf("%d requests for a refused event", n)
	}
	f.emu.AddBucket("docs-1250000000", "ap-shanghai", false)
	f.emu.AddBucket("docs-1250000011", "ap-shanghai", false)
	if res, errMsg := f.invoke(readEvent(t, "cls-audit.json")); errMsg != "" || res.Summary.Enabled != 2 {
		t.Errorf("the next invocation: %v %q", res, errMsg)
	}
}

// TestEventBridgeStaysInOwnAccount: with PICBUCKET_ACCOUNTS=org, an
// EventBridge PutBucket record that names no bucket reconciles its region
// in our account only: no API 3.0 request (no listing, AssumeRole, Invoke).
func TestEventBridgeStaysInOwnAccount(t *testing.T) {
	f := startOrg(t, "PICBUCKET_ACCOUNTS=org")
	res, errMsg := f.invoke(readEvent(t, "eventbridge-putbucket-nobucket.json"))
	if errMsg != "" {
		t.Fatalf("%s", errMsg)
	}
	if calls := f.tc.Calls(); len(calls) != 0 {
		t.Errorf("API 3.0 calls %+v, want none", calls)
	}
	if got, want := bucketAccounts(res), map[string]string{"old-1250000000": mgmtUin + " already_enabled"}; !mapsEqual(got, want) {
		t.Errorf("results %v, want our ap-shanghai bucket", got)
	}
	if len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "reconciling region ap-shanghai") {
		t.Errorf("notes %q: want the event's note", res.Notes)
	}
	for _, l := range f.checkSigners() {
		if !strings.HasPrefix(l, mgmtUin+" ") {
			t.Errorf("request %s", l)
		}
	}
}

// TestMemberEventNamingAnotherRole: the role is the setting's, never the
// event's: a member event naming another is refused without a request.
func TestMemberEventNamingAnotherRole(t *testing.T) {
	f := startOrg(t, "PICBUCKET_ACCOUNTS=org")
	res, errMsg := f.invoke([]byte(`{"account":{"uin":"` + memberA + `","role":"AdminRole"}}`))
	if res != nil || !strings.Contains(errMsg, `"AdminRole"`) || !strings.Contains(errMsg, "PICBUCKET_MEMBER_ROLE") {
		t.Errorf("result %v, error %q: want a refusal naming the role and PICBUCKET_MEMBER_ROLE", res, errMsg)
	}
	if n := len(f.emu.Requests()) + len(f.tc.Calls()); n != 0 {
		t.Errorf("%d requests for a refused member event", n)
	}
}

// TestCLSRefusedRoleFailsOnlyItsAccount: a member whose role refuses
// AssumeRole fails its own buckets; ours is enabled.
func TestCLSRefusedRoleFailsOnlyItsAccount(t *testing.T) {
	f := startOrg(t, "PICBUCKET_ACCOUNTS=org")
	res, errMsg := f.invoke(clsPayload(t, putBucketAudit(memberNoRol, "e-1250000013", "ap-guangzhou"),
		putBucketAudit(mgmtUin, "photos-1250000000", "ap-guangzhou"), putBucketAudit(memberA, "a-1250000011", "ap-guangzhou")))
	if res != nil || !strings.Contains(errMsg, memberNoRol) || !strings.Contains(errMsg, "ResourceNotFound.RoleNotFound") || strings.Contains(errMsg, memberA+":") {
		t.Errorf("result %v, error %q: want the invocation failed for %s alone", res, errMsg, memberNoRol)
	}
	if !f.emu.Enabled("photos-1250000000") || !f.emu.Enabled("a-1250000011") || f.emu.Enabled("e-1250000013") {
		t.Error("want our bucket and member A's enabled, the refusing member's not")
	}
	logs := f.logs()
	if !regexpMatch(`"account":"`+memberNoRol+`"[^\n]*"bucket":"e-1250000013"[^\n]*"outcome":"failed"`, logs) {
		t.Errorf("no failed result line for the refusing member's bucket:\n%s", logs)
	}
}

// TestCLSBatchOverTenMembers: 100 PutBucket records over 10 members (half
// of them name their buckets without the APPID) cost exactly 10
// AssumeRole (of the role PICBUCKET_MEMBER_ROLE names), one GetUserAppId
// per member, and 100 Creates.
func TestCLSBatchOverTenMembers(t *testing.T) {
	f := startOrg(t, "PICBUCKET_ACCOUNTS=org", "PICBUCKET_MEMBER_ROLE=PicbucketMemberRole")
	var audits []map[string]any
	for m := range 10 {
		uin, app := 100000000100+int64(m), fmt.Sprint(1250000100+m)
		f.tc.AddMember(tcemu.Member{Uin: uin, AppID: app, Roles: []string{"PicbucketMemberRole"}})
		for b := range 10 {
			name := fmt.Sprintf("b%d-%s", b, app)
			f.emu.AddBucket(name, "ap-shanghai", false)
			if m%2 == 1 {
				name = fmt.Sprintf("b%d", b) // completed with the member's APPID
			}
			audits = append(audits, putBucketAudit(fmt.Sprint(uin), name, "ap-shanghai"))
		}
	}
	res, errMsg := f.invoke(clsPayload(t, audits...))
	if errMsg != "" {
		t.Fatalf("%s", errMsg)
	}
	counts := map[string]int{}
	for _, c := range f.tc.Calls() {
		counts[c.Action]++
		if c.Action == "AssumeRole" && !strings.Contains(c.Body, ":roleName/PicbucketMemberRole\"") {
			t.Errorf("AssumeRole %s: want the role PICBUCKET_MEMBER_ROLE names", c.Body)
		}
	}
	creates := cosActions(f)[emulator.ActionCreatePicProcessBucket]
	t.Logf("100 records over 10 members: %d DescribeOrganizationMembers, %d AssumeRole, %d GetUserAppId, %d Creates, %d COS/CI requests, %d API 3.0 requests",
		counts["DescribeOrganizationMembers"], counts["AssumeRole"], counts["GetUserAppId"], creates, len(f.emu.Requests()), len(f.tc.Calls()))
	if counts["DescribeOrganizationMembers"] != 10 || counts["AssumeRole"] != 10 || counts["GetUserAppId"] != 10 || len(counts) != 3 || creates != 100 || len(f.emu.Requests()) != 100 {
		t.Errorf("API 3.0 %v, Creates %d of %d COS/CI requests: want 10 DescribeOrganizationMembers (one membership check each), 10 AssumeRole, 10 GetUserAppId, 100 Creates and nothing else",
			counts, creates, len(f.emu.Requests()))
	}
	if res.Summary.Enabled != 100 || len(res.Accounts) != 10 {
		t.Errorf("summary %+v, %d accounts: want 100 enabled in 10 accounts", res.Summary, len(res.Accounts))
	}
	// Each Create signed by a key AssumeRole issued for its bucket's account.
	f.mu.Lock()
	appOf := map[string]string{}
	for _, k := range f.all {
		appOf[k.SecretID] = k.AppID
	}
	f.mu.Unlock()
	for _, r := range f.emu.Requests() {
		if !r.SignatureValid || appOf[r.SecretID] == "" || !strings.Contains(r.Host, "-"+appOf[r.SecretID]+".") {
			t.Errorf("%s %s signed by another account's key or badly", r.Action, r.Host)
		}
	}
}

// TestCLSMemberNamingAnotherAccountsBucket: a member's record that names a
// bucket of another account (its qcs string or suffix carries another
// APPID) is skipped: the member's assumed key never signs for it.
func TestCLSMemberNamingAnotherAccountsBucket(t *testing.T) {
	f := startOrg(t, "PICBUCKET_ACCOUNTS=org")
	other := "photos-1250000012" // member 100000000012's
	f.emu.AddBucket(other, "ap-guangzhou", false)
	res, errMsg := f.invoke(clsPayload(t, putBucketAudit(memberA, other, "ap-guangzhou")))
	if errMsg != "" {
		t.Fatalf("%s", errMsg)
	}
	if n := cosActions(f)[emulator.ActionCreatePicProcessBucket]; n != 0 {
		t.Errorf("%d Creates: want none for another account's bucket", n)
	}
	if len(res.Results) != 1 || res.Results[0].Outcome != handler.Skipped || !strings.Contains(res.Results[0].Reason, "other account") {
		t.Errorf("results %+v: want %s skipped as another account's", res.Results, other)
	}
}

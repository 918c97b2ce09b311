package handler

// The organization routes' judgement through Handle, against the API 3.0
// emulator (newOrgTest): which accounts a run covers, with which key and
// options, and what each account's outcome is. The end-to-end tests
// (org_test.go, fanout_test.go, cls_test.go) run the same routes through
// the binary; these make each decision fail a handler test when broken.

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/picbucket/picbucket/internal/tcapi/tcemu"
)

// accountsOf returns each account's outcome and error.
func accountsOf(res *Result) map[string]string {
	m := map[string]string{}
	for _, a := range res.Accounts {
		m[a.Uin] = string(a.Outcome) + ": " + a.Error
	}
	return m
}

func TestMemberEventRoleIsTheSettings(t *testing.T) {
	o := newOrgTest(t, map[string]string{"PICBUCKET_ACCOUNTS": "org"})
	res, err := o.h.Handle(ctxWithTimeout(t, 10*time.Second), []byte(`{"account":{"uin":"`+memberA+`","role":"AdminRole"}}`))
	if res != nil || err == nil || !strings.Contains(err.Error(), "an event cannot choose it") || len(o.tc.Calls()) != 0 {
		t.Errorf("result %+v, err %v, %d API calls: want the event refused before any request", res, err, len(o.tc.Calls()))
	}
	// The role the setting names may be repeated by the event.
	res, err = o.h.Handle(ctxWithTimeout(t, 10*time.Second), []byte(`{"account":{"uin":"`+memberA+`","role":"OrganizationAccessControlRole"}}`))
	if err != nil || accountsOf(res)[memberA] != "reconciled: " {
		t.Errorf("err %v, accounts %v", err, accountsOf(res))
	}
}

func TestMemberEventForTheOwnAccount(t *testing.T) {
	o := newOrgTest(t, map[string]string{"PICBUCKET_ACCOUNTS": "org"})
	res, err := o.h.Handle(ctxWithTimeout(t, 10*time.Second), []byte(`{"account":{"uin":"`+ownUin+`"}}`))
	if err != nil || accountsOf(res)[ownUin] != "reconciled: " || len(o.keys()) != 0 || res.Summary.Enabled != 1 {
		t.Errorf("err %v, accounts %v, %d roles assumed, summary %+v: want the own account reconciled with its own key", err, accountsOf(res), len(o.keys()), res.Summary)
	}
}

// TestTimerFansOut: a timer with options fans out one Invoke per member,
// carrying the options and the dry run, and reconciles the own account;
// without options, the member event carries none.
func TestTimerFansOut(t *testing.T) {
	for _, tc := range []struct {
		payload, want string
	}{
		{`{"Type":"Timer","TriggerName":"t","Time":"2024-01-01T00:00:00Z","Message":"{\"regions\":[\"ap-guangzhou\"],\"dryRun\":true}"}`,
			`{"account":{"uin":"M","role":"OrganizationAccessControlRole"},"reconcile":{"regions":["ap-guangzhou"]},"dryRun":true}`},
		{string(timer), `{"account":{"uin":"M","role":"OrganizationAccessControlRole"}}`},
	} {
		o := newOrgTest(t, map[string]string{"PICBUCKET_ACCOUNTS": "org", "SCF_FUNCTIONNAME": "picbucket"})
		res, err := o.h.Handle(ctxWithTimeout(t, 10*time.Second), []byte(tc.payload))
		if err != nil {
			t.Fatal(err)
		}
		got := accountsOf(res)
		if got[ownUin] != "reconciled: " || !strings.HasPrefix(got[memberA], "fanned_out") || !strings.HasPrefix(got[memberB], "fanned_out") || len(got) != 3 {
			t.Errorf("accounts %v: want the own account reconciled and both members fanned out", got)
		}
		for _, in := range o.tc.Invocations() {
			var ev struct{ Account struct{ Uin string } }
			json.Unmarshal([]byte(in.ClientContext), &ev)
			if want := strings.Replace(tc.want, `"M"`, `"`+ev.Account.Uin+`"`, 1); in.ClientContext != want || in.FunctionName != "picbucket" {
				t.Errorf("Invoke of %s with %s, want %s", in.FunctionName, in.ClientContext, want)
			}
		}
		if n := len(o.tc.Invocations()); n != 2 {
			t.Errorf("%d Invokes, want 2", n)
		}
	}
}

func TestFanOutNeedsTheFunctionName(t *testing.T) {
	o := newOrgTest(t, map[string]string{"PICBUCKET_ACCOUNTS": "org"})
	res, err := o.h.Handle(ctxWithTimeout(t, 10*time.Second), timer)
	if err == nil || !strings.Contains(accountsOf(res)[memberA], "SCF_FUNCTIONNAME is not set") || len(o.tc.Invocations()) != 0 {
		t.Errorf("err %v, accounts %v: want each member failed naming SCF_FUNCTIONNAME", err, accountsOf(res))
	}
}

// TestOrganizationWithoutFanOutKeepsTheDryRun: PICBUCKET_DRY_RUN covers
// every member an organization run reconciles itself.
func TestOrganizationWithoutFanOutKeepsTheDryRun(t *testing.T) {
	o := newOrgTest(t, map[string]string{"PICBUCKET_ACCOUNTS": "org", "PICBUCKET_FANOUT": "false", "PICBUCKET_DRY_RUN": "true"})
	res, err := o.h.Handle(ctxWithTimeout(t, 10*time.Second), timer)
	if err != nil {
		t.Fatal(err)
	}
	if !res.DryRun || res.Summary.WouldEnable != 3 || creates(o.emu, "") != 0 || len(o.keys()) != 2 {
		t.Errorf("dry run %v, summary %+v, %d Creates, %d roles assumed: want every account's bucket would_enable", res.DryRun, res.Summary, creates(o.emu, ""), len(o.keys()))
	}
}

// TestPutBucketWithoutABucketStaysInTheOwnAccount: an EventBridge
// PutBucket record that names no bucket reconciles its region of the
// function's own account, never the organization's.
func TestPutBucketWithoutABucketStaysInTheOwnAccount(t *testing.T) {
	ev, err := os.ReadFile("../events/eventbridge-putbucket-nobucket.json")
	if err != nil {
		t.Fatal(err)
	}
	o := newOrgTest(t, map[string]string{"PICBUCKET_ACCOUNTS": "org", "SCF_FUNCTIONNAME": "picbucket"})
	res, err := o.h.Handle(ctxWithTimeout(t, 10*time.Second), ev)
	// The record's region is not the own bucket's: it is listed, and
	// filtered out by the region.
	if err != nil || len(o.tc.Calls()) != 0 || len(res.Accounts) != 0 || res.Summary.Filtered != 1 || len(res.Results) != 0 {
		t.Errorf("err %v, %d API calls, accounts %v, summary %+v: want the own account's region reconciled, no member touched", err, len(o.tc.Calls()), accountsOf(res), res.Summary)
	}
}

// TestBucketEventStaysInTheOwnAccount: with PICBUCKET_ACCOUNTS set, an
// event naming buckets works in the function's own account only.
func TestBucketEventStaysInTheOwnAccount(t *testing.T) {
	o := newOrgTest(t, map[string]string{"PICBUCKET_ACCOUNTS": "org", "SCF_FUNCTIONNAME": "picbucket"})
	res, err := o.h.Handle(ctxWithTimeout(t, 10*time.Second), []byte(`{"buckets":[{"bucket":"own-1250000000","region":"ap-guangzhou"}],"reconcile":{}}`))
	if err != nil || len(o.tc.Calls()) != 0 || res.Summary.Enabled != 1 || len(res.Accounts) != 0 {
		t.Errorf("err %v, %d API calls, summary %+v, accounts %v: want the own bucket only", err, len(o.tc.Calls()), res.Summary, accountsOf(res))
	}
}

// TestCLSThrottledRoleDefersItsAccount: AssumeRole throttled for one
// member of a CLS event: that member's buckets are deferred, not failed.
func TestCLSThrottledRoleDefersItsAccount(t *testing.T) {
	o := newOrgTest(t, map[string]string{"PICBUCKET_ACCOUNTS": "org"})
	o.tc.Throttle("AssumeRole", 1<<20)
	res, err := o.h.Handle(ctxWithTimeout(t, 10*time.Second), clsEvent(t, memberA+" a-1250000011", ownUin+" own-1250000000"))
	if err != nil {
		t.Fatalf("err = %v: a throttled member is deferred, not failed", err)
	}
	got := map[string]string{}
	for _, b := range res.Results {
		got[b.Bucket] = string(b.Outcome)
	}
	if got["a-1250000011"] != "deferred" || got["own-1250000000"] != "enabled" || !strings.HasPrefix(accountsOf(res)[memberA], "deferred: AssumeRole") {
		t.Errorf("results %v, accounts %v", got, accountsOf(res))
	}
}

// TestEveryBucketLineCarriesItsAccount: README, "every line carries
// account": each bucket's line names the account the bucket belongs to,
// on every route of an organization run (a member event, a timer
// reconciling every account itself, a CLS event of two members and the own
// account, an event naming an own bucket).
func TestEveryBucketLineCarriesItsAccount(t *testing.T) {
	owner := map[string]string{"a-1250000011": memberA, "b-1250000012": memberB, "own-1250000000": ownUin}
	for _, tc := range []struct {
		name     string
		settings map[string]string
		payload  func(t *testing.T) []byte
		lines    int
	}{
		{"member event", nil, func(*testing.T) []byte { return []byte(`{"account":{"uin":"` + memberA + `"}}`) }, 1},
		{"timer without fan-out", map[string]string{"PICBUCKET_FANOUT": "false"}, func(*testing.T) []byte { return timer }, 3},
		{"CLS event", nil, func(t *testing.T) []byte {
			return clsEvent(t, memberA+" a-1250000011", memberB+" b-1250000012", ownUin+" own-1250000000")
		}, 3},
		{"bucket event", nil, func(*testing.T) []byte {
			return []byte(`{"buckets":[{"bucket":"own-1250000000","region":"ap-guangzhou"}]}`)
		}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			settings := map[string]string{"PICBUCKET_ACCOUNTS": "org"}
			for k, v := range tc.settings {
				settings[k] = v
			}
			o := newOrgTest(t, settings)
			if _, err := o.h.Handle(ctxWithTimeout(t, 10*time.Second), tc.payload(t)); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, line := range strings.Split(strings.TrimSpace(o.out.String()), "\n") {
				var l struct{ Message, Bucket, Account string }
				if err := json.Unmarshal([]byte(line), &l); err != nil {
					t.Fatalf("line %q: %v", line, err)
				}
				if l.Message != "bucket" {
					continue
				}
				n++
				if want := owner[l.Bucket]; l.Account != want {
					t.Errorf("the line of %s carries account %q, want %q: %s", l.Bucket, l.Account, want, line)
				}
			}
			if n != tc.lines {
				t.Errorf("%d bucket lines, want %d:\n%s", n, tc.lines, o.out)
			}
		})
	}
}

// TestListedManagementAccountIsNotAMember: DescribeOrganizationMembers may
// list the management account itself (Tencent's documents neither promise
// nor exclude it; tcemu's ListManagement). The function's own account is
// then still reconciled once, with its own key: no role is assumed in it
// and no member invocation is sent for it.
func TestListedManagementAccountIsNotAMember(t *testing.T) {
	for _, fanout := range []string{"true", "false"} {
		t.Run("PICBUCKET_FANOUT="+fanout, func(t *testing.T) {
			o := newOrgTestWith(t, map[string]string{"PICBUCKET_ACCOUNTS": "org", "PICBUCKET_FANOUT": fanout, "SCF_FUNCTIONNAME": "picbucket"},
				tcemu.Options{ListManagement: true})
			res, err := o.h.Handle(ctxWithTimeout(t, 10*time.Second), timer)
			if err != nil {
				t.Fatal(err)
			}
			own := 0
			for _, a := range res.Accounts {
				if a.Uin == ownUin {
					own++
				}
			}
			if own != 1 || accountsOf(res)[ownUin] != "reconciled: " || len(res.Accounts) != 3 {
				t.Errorf("accounts %v (%d of the own account): want the own account reconciled once and the two members", accountsOf(res), own)
			}
			for _, k := range o.keys() {
				if fmt.Sprint(k.Uin) == ownUin {
					t.Errorf("a role was assumed in the function's own account: %s", k.RoleArn)
				}
			}
			for _, in := range o.tc.Invocations() {
				if strings.Contains(in.ClientContext, ownUin) {
					t.Errorf("a member invocation was sent for the function's own account: %s", in.ClientContext)
				}
			}
			if n := creates(o.emu, "own-"+appID); n != 1 {
				t.Errorf("%d Creates for the own account's bucket, want 1", n)
			}
		})
	}
}

package main_test

// The organization fan-out inside the platform's limits, through the SCF
// runtime protocol against the API 3.0 emulator enforcing Tencent's
// documented request limits (tcemu.DocumentedLimits: scf Invoke 100/s,
// sts AssumeRole 600/s, cam GetUserAppId 20/s, organization
// DescribeOrganizationMembers 20/s).

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/picbucket/picbucket/handler"
	"github.com/picbucket/picbucket/internal/tcapi/tcemu"
)

// addFanoutMembers adds n members after the fixture's four and returns
// the UINs the timer must invoke: every member but the excluded one.
func addFanoutMembers(f *orgFixture, n int) []string {
	want := []string{memberA, memberB, memberNoRol}
	for i := range n - 4 {
		uin := int64(100000001000 + i)
		f.tc.AddMember(tcemu.Member{Uin: uin, AppID: fmt.Sprint(1250001000 + i)})
		want = append(want, fmt.Sprint(uin))
	}
	return want
}

// invokedPerMember returns how many accepted Invokes each member got.
func invokedPerMember(t *testing.T, f *orgFixture) map[string]int {
	t.Helper()
	got := map[string]int{}
	for _, in := range f.tc.Invocations() {
		var ev struct{ Account struct{ Uin string } }
		if err := json.Unmarshal([]byte(in.ClientContext), &ev); err != nil {
			t.Fatalf("ClientContext %q: %v", in.ClientContext, err)
		}
		got[ev.Account.Uin]++
	}
	return got
}

func throttledCalls(tc *tcemu.Server, action string) int {
	n := 0
	for _, c := range tc.Calls() {
		if c.Action == action && c.ErrorCode == "RequestLimitExceeded" {
			n++
		}
	}
	return n
}

// TestFanOutWithinDocumentedLimits: 150 members to invoke (and one
// excluded) under the documented limits, each API answer 100 ms late. Every member is invoked
// exactly once, with at most 1.05 Invoke requests per member, and the
// first Invokes go out before the member listing's last page was asked
// for (the fan-out streams).
func TestFanOutWithinDocumentedLimits(t *testing.T) {
	f := startOrg(t, "PICBUCKET_ACCOUNTS=org", "PICBUCKET_EXCLUDE_ACCOUNTS="+memberExcl)
	want := addFanoutMembers(f, 151)
	f.tc.SetLimits(tcemu.DocumentedLimits)
	f.tc.SetLatency(100 * time.Millisecond)
	res, errMsg := f.invoke(readEvent(t, "timer.json"))
	if errMsg != "" {
		t.Fatalf("timer: %s", errMsg)
	}
	outcomes := accountOutcomes(res)
	for _, uin := range want {
		if outcomes[uin] != handler.AccountFannedOut {
			t.Errorf("member %s: %q, want fanned_out", uin, outcomes[uin])
		}
	}
	if outcomes[memberExcl] != handler.AccountSkipped || outcomes[mgmtUin] != handler.AccountReconciled || len(outcomes) != len(want)+2 {
		t.Errorf("%d accounts; excluded %q, own %q", len(outcomes), outcomes[memberExcl], outcomes[mgmtUin])
	}
	per := invokedPerMember(t, f)
	for _, uin := range want {
		if per[uin] != 1 {
			t.Errorf("member %s invoked %d times, want once", uin, per[uin])
		}
	}
	if len(per) != len(want) {
		t.Errorf("%d members invoked, want %d", len(per), len(want))
	}
	invokes := f.tc.CallCount("Invoke")
	if limit := 1.05 * float64(len(want)); float64(invokes) > limit {
		t.Errorf("%d Invoke requests for %d members (%d throttled), want at most %.0f", invokes, len(want), throttledCalls(f.tc, "Invoke"), limit)
	}
	// Streaming: an Invoke arrived before the listing's last page (151
	// members: 4 pages of 50).
	pages, firstInvokeAfterPages := 0, -1
	for _, c := range f.tc.Calls() {
		switch c.Action {
		case "DescribeOrganizationMembers":
			pages++
		case "Invoke":
			if firstInvokeAfterPages < 0 {
				firstInvokeAfterPages = pages
			}
		}
	}
	if pages != 4 || firstInvokeAfterPages < 0 || firstInvokeAfterPages >= 4 {
		t.Errorf("%d listing pages; the first Invoke after %d of them, want 4 pages and an Invoke before the last", pages, firstInvokeAfterPages)
	}
	t.Logf("%d members: %d Invoke requests (%d throttled), %d API requests", len(want), invokes, throttledCalls(f.tc, "Invoke"), res.APIRequests)
}

// TestFanOutLearnsALowerLimit: Invoke allows 10/s, under the 18/s the
// pacer starts from. The throttles lower the pace;
// no member is lost or invoked twice, none is deferred.
func TestFanOutLearnsALowerLimit(t *testing.T) {
	f := startOrg(t, "PICBUCKET_ACCOUNTS=org")
	want := append(addFanoutMembers(f, 40), memberExcl)
	// With "org" the fan-out paces at 18/s (the member invocations' checks
	// spend DescribeOrganizationMembers' 20/s): a limit of 10/s bites.
	f.tc.SetLimits(map[string]int{"Invoke": 10, "DescribeOrganizationMembers": 20})
	res, errMsg := f.invoke(readEvent(t, "timer.json"))
	if errMsg != "" {
		t.Fatalf("timer: %s", errMsg)
	}
	outcomes := accountOutcomes(res)
	per := invokedPerMember(t, f)
	for _, uin := range want {
		if outcomes[uin] != handler.AccountFannedOut || per[uin] != 1 {
			t.Errorf("member %s: %q, invoked %d times; want fanned_out, once", uin, outcomes[uin], per[uin])
		}
	}
	throttled := throttledCalls(f.tc, "Invoke")
	if throttled == 0 {
		t.Errorf("no Invoke throttled: the emulator's limit did not bite")
	}
	t.Logf("%d members: %d Invoke requests, %d throttled", len(want), f.tc.CallCount("Invoke"), throttled)
}

// TestFanOutDefersAtTheDeadline: Invoke allows 4/s and the invocation has
// 3 s: the members not invoked in time are deferred, naming the deadline;
// every member is either invoked exactly once or deferred and not invoked,
// and the invocation succeeds. At 4/s, 40 members cannot all be invoked in
// 3 s however fast the machine; how many are is the machine's speed, and
// is only logged.
func TestFanOutDefersAtTheDeadline(t *testing.T) {
	f := startOrg(t, "PICBUCKET_ACCOUNTS=org")
	want := append(addFanoutMembers(f, 40), memberExcl)
	f.tc.SetLimits(map[string]int{"Invoke": 4})
	res, errMsg := f.invokeWith(readEvent(t, "timer.json"), defaultCreds, 3*time.Second)
	if errMsg != "" {
		t.Fatalf("timer: %s", errMsg)
	}
	per := invokedPerMember(t, f)
	deferred := 0
	for _, a := range res.Accounts {
		if a.Uin == mgmtUin {
			continue
		}
		switch a.Outcome {
		case handler.AccountFannedOut:
			if per[a.Uin] != 1 {
				t.Errorf("member %s fanned_out but invoked %d times", a.Uin, per[a.Uin])
			}
		case handler.AccountDeferred:
			deferred++
			if per[a.Uin] != 0 || !strings.Contains(a.Error, "deadline") {
				t.Errorf("member %s deferred (%q) but invoked %d times", a.Uin, a.Error, per[a.Uin])
			}
		default:
			t.Errorf("member %s: %q (%s)", a.Uin, a.Outcome, a.Error)
		}
	}
	if len(res.Accounts) != len(want)+1 {
		t.Errorf("%d accounts in the result, want %d: a member went missing", len(res.Accounts), len(want)+1)
	}
	if deferred == 0 {
		t.Errorf("no member deferred: 40 members were invoked in 3 s at 4/s")
	}
	t.Logf("%d members: %d invoked, %d deferred, %d Invoke requests (%d throttled)", len(want), len(per), deferred, f.tc.CallCount("Invoke"), throttledCalls(f.tc, "Invoke"))
}

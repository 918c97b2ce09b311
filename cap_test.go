package main_test

// Issue 19, item 3: PICBUCKET_MAX_ENABLE is the most Creates of one
// invocation, over every account it works in, through the SCF runtime
// protocol against both emulators.

import (
	"strings"
	"testing"

	"github.com/picbucket/picbucket/handler"
	"github.com/picbucket/picbucket/internal/emulator"
)

// checkCap checks that res and the emulator show at most max Creates, and
// every bucket left over deferred naming PICBUCKET_MAX_ENABLE.
func checkCap(t *testing.T, f *orgFixture, res *handler.Result, max, missing int) {
	t.Helper()
	if n := cosActions(f)[emulator.ActionCreatePicProcessBucket]; n != max {
		t.Errorf("%d Creates over the invocation's accounts, want PICBUCKET_MAX_ENABLE=%d", n, max)
	}
	enabled, capped := 0, 0
	for _, b := range res.Results {
		switch {
		case b.Outcome == handler.Enabled:
			enabled++
		case b.Outcome == handler.Deferred && strings.Contains(b.Reason, "PICBUCKET_MAX_ENABLE=2"):
			capped++
		}
	}
	if enabled != max || capped != missing-max {
		t.Errorf("%d enabled, %d deferred by the cap (results %+v); want %d and %d", enabled, capped, res.Results, max, missing-max)
	}
}

// TestMaxEnableCapsTheInvocationOverCLSAccounts: a CLS event names six
// missing buckets in three accounts (our own and two members); with a cap
// of 2 the invocation sends two Creates, not two per account.
func TestMaxEnableCapsTheInvocationOverCLSAccounts(t *testing.T) {
	f := startOrg(t, "PICBUCKET_ACCOUNTS=org", "PICBUCKET_MAX_ENABLE=2")
	f.emu.AddBucket("photos2-1250000000", "ap-guangzhou", false)
	f.emu.AddBucket("a2-1250000011", "ap-guangzhou", false)
	f.emu.AddBucket("d2-1250000012", "ap-guangzhou", false)
	res, errMsg := f.invoke(clsPayload(t,
		putBucketAudit(mgmtUin, "photos-1250000000", "ap-guangzhou"), putBucketAudit(mgmtUin, "photos2-1250000000", "ap-guangzhou"),
		putBucketAudit(memberA, "a-1250000011", "ap-guangzhou"), putBucketAudit(memberA, "a2-1250000011", "ap-guangzhou"),
		putBucketAudit(memberB, "d-1250000012", "ap-guangzhou"), putBucketAudit(memberB, "d2-1250000012", "ap-guangzhou")))
	if errMsg != "" {
		t.Fatalf("%s", errMsg)
	}
	checkCap(t, f, res, 2, 6)
}

// TestMaxEnableCapsTheInvocationWithoutFanOut: an organization timer with
// PICBUCKET_FANOUT=false reconciles every account itself (four missing
// buckets in three accounts it can enter); with a cap of 2, two Creates.
func TestMaxEnableCapsTheInvocationWithoutFanOut(t *testing.T) {
	f := startOrg(t, "PICBUCKET_ACCOUNTS=org", "PICBUCKET_FANOUT=false", "PICBUCKET_MAX_ENABLE=2",
		"PICBUCKET_EXCLUDE_ACCOUNTS="+memberNoRol+","+memberExcl)
	res, errMsg := f.invoke(readEvent(t, "timer.json"))
	if errMsg != "" {
		t.Fatalf("%s", errMsg)
	}
	checkCap(t, f, res, 2, 4) // photos-1250000000, a-, c-1250000011, d-1250000012
}

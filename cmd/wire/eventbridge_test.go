package main

// The command runs against tcemu, the API 3.0 emulator, which verifies each
// request's TC3-HMAC-SHA256 signature with its own implementation of the
// documented algorithm and keeps EventBridge's rules and targets.

import (
	"bytes"
	"encoding/json"
	"github.com/picbucket/picbucket/internal/tcapi"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/picbucket/picbucket/internal/tcapi/tcemu"
)

const (
	testID     = "AKIDebwireTest0001"
	testKey    = "ebwire-test-secret-key-3f9a"
	testToken  = "ebwire-test-session-token-77c1"
	testUIN    = "100012345678"
	testBus    = "eb-svc00001"
	testTarget = "qcs::scf:ap-guangzhou:uin/100012345678:namespace/default/function/picbucket/$LATEST"
	// oldPattern is the pattern wire eventbridge (then cmd/ebwire) set before it matched MiniProgramCall.
	oldPattern = `{"source":["cos.cloud.tencent"],"type":["cos:CloudEvent:ApiCall","cos:CloudEvent:ConsoleCall"],"data":{"eventName":["PutBucket"]}}`
)

// ebEmu is the emulator (its calls, its Fault) with its EventBridge state.
type ebEmu struct {
	*tcemu.Server
	*tcemu.EventBridge
}

type fixture struct {
	t   *testing.T
	emu ebEmu
	url string
	env map[string]string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	tc := tcemu.New(tcemu.Options{})
	tc.AddKey(tcemu.Key{SecretID: testID, SecretKey: testKey, Token: testToken, Uin: 100012345678})
	emu := ebEmu{tc, tc.EventBridge()}
	emu.AddBus(tcemu.Bus{ID: testBus, Name: "default", Type: "Cloud", Region: "ap-guangzhou"})
	emu.AddBus(tcemu.Bus{ID: "eb-custom01", Name: "mine", Type: "Custom", Region: "ap-guangzhou"})
	srv := httptest.NewServer(tc)
	t.Cleanup(srv.Close)
	return &fixture{t: t, emu: emu, url: srv.URL, env: map[string]string{
		"TENCENTCLOUD_SECRETID": testID, "TENCENTCLOUD_SECRETKEY": testKey, "TENCENTCLOUD_SESSIONTOKEN": testToken,
		"TENCENTCLOUD_UIN": testUIN,
	}}
}

// run runs the command with the fixture's environment and endpoint.
func (f *fixture) run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	args = append([]string{"--endpoint", f.url}, args...)
	code = runEventBridge(args, func(k string) string { return f.env[k] }, &out, &errb)
	return code, out.String(), errb.String()
}

// writes returns the write actions among calls.
func writes(calls []tcemu.Call) []string {
	var w []string
	for _, c := range calls {
		if strings.HasPrefix(c.Action, "Create") || strings.HasPrefix(c.Action, "Update") || strings.HasPrefix(c.Action, "Delete") {
			w = append(w, c.Action)
		}
	}
	return w
}

func (f *fixture) onlyRule() tcemu.Rule {
	f.t.Helper()
	rules := f.emu.Rules(testBus)
	if len(rules) != 1 {
		f.t.Fatalf("rules on the service bus = %+v, want one", rules)
	}
	return rules[0]
}

func TestFirstRunCreatesThenSecondRunChangesNothing(t *testing.T) {
	f := newFixture(t)
	code, out, errs := f.run()
	if code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	r := f.onlyRule()
	if r.Name != tcapi.DefaultRuleName || !r.Enable || !tcapi.PatternEqual(r.Pattern, tcapi.DefaultPattern) || r.Description != tcapi.DefaultRuleDescription {
		t.Errorf("rule = %+v", r)
	}
	ts := f.emu.Targets(r.ID)
	if len(ts) != 1 || ts[0].Type != "scf" || ts[0].Resource != testTarget {
		t.Errorf("targets = %+v, want one scf target %s", ts, testTarget)
	}
	calls := f.emu.Calls()
	if got := writes(calls); !slices.Equal(got, []string{"CreateRule", "CreateTarget"}) {
		t.Errorf("writes = %v, want [CreateRule CreateTarget]", got)
	}
	for _, c := range calls {
		if c.ErrorCode != "" {
			t.Errorf("%s failed: %s", c.Action, c.ErrorCode)
		}
		if c.Host != tcapi.EventBridgeHost || c.Region != "ap-guangzhou" || c.Version != tcapi.EventBridgeVersion {
			t.Errorf("%s: host %q region %q version %q", c.Action, c.Host, c.Region, c.Version)
		}
	}
	if !strings.Contains(out, "created") || !strings.Contains(out, testBus) {
		t.Errorf("stdout:\n%s", out)
	}

	// Second run: reads only.
	n := len(calls)
	code, out, errs = f.run()
	if code != 0 {
		t.Fatalf("second run: exit %d\n%s%s", code, out, errs)
	}
	again := f.emu.Calls()[n:]
	if w := writes(again); len(w) != 0 {
		t.Errorf("second run wrote %v, want nothing", w)
	}
	var actions []string
	for _, c := range again {
		actions = append(actions, c.Action)
	}
	if !slices.Equal(actions, []string{"ListEventBuses", "ListRules", "GetRule", "ListTargets"}) {
		t.Errorf("second run actions = %v", actions)
	}
	if !strings.Contains(out, "nothing changed") {
		t.Errorf("second run stdout:\n%s", out)
	}
	if f.onlyRule().ID != r.ID || len(f.emu.Targets(r.ID)) != 1 {
		t.Error("second run changed the state")
	}
}

func TestChangedPatternOrDisabledRuleIsUpdated(t *testing.T) {
	f := newFixture(t)
	if code, out, errs := f.run(); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	r := f.onlyRule()

	// A different pattern: one UpdateRule, same rule id, target untouched.
	narrower := `{"source":["cos.cloud.tencent"],"type":["cos:CloudEvent:ApiCall"],"data":{"eventName":["PutBucket"]}}`
	n := len(f.emu.Calls())
	code, out, errs := f.run("--pattern", narrower)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if w := writes(f.emu.Calls()[n:]); !slices.Equal(w, []string{"UpdateRule"}) {
		t.Errorf("writes = %v, want [UpdateRule]", w)
	}
	got := f.onlyRule()
	if got.ID != r.ID || !tcapi.PatternEqual(got.Pattern, narrower) {
		t.Errorf("rule after update = %+v", got)
	}
	if !strings.Contains(out, "updated") || !strings.Contains(out, "pattern") {
		t.Errorf("stdout:\n%s", out)
	}

	// The same pattern with other key order and spacing is no change.
	n = len(f.emu.Calls())
	reordered := `{ "data": {"eventName": ["PutBucket"]}, "type": ["cos:CloudEvent:ApiCall"], "source": ["cos.cloud.tencent"] }`
	if code, out, errs := f.run("--pattern", reordered); code != 0 || len(writes(f.emu.Calls()[n:])) != 0 {
		t.Errorf("reordered pattern: exit %d, writes %v\n%s%s", code, writes(f.emu.Calls()[n:]), out, errs)
	}

	// Someone disabled the rule in the console: the next run enables it again.
	got.Enable = false
	f.emu.SetRule(got)
	n = len(f.emu.Calls())
	if code, out, errs := f.run("--pattern", narrower); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if w := writes(f.emu.Calls()[n:]); !slices.Equal(w, []string{"UpdateRule"}) || !f.onlyRule().Enable {
		t.Errorf("disabled rule: writes %v, enabled %v", w, f.onlyRule().Enable)
	}
}

func TestMissingTargetIsAddedAndForeignTargetsKept(t *testing.T) {
	f := newFixture(t)
	if code, out, errs := f.run(); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	r := f.onlyRule()
	foreign := "qcs::scf:ap-guangzhou:uin/100012345678:namespace/default/function/audit-log/$LATEST"
	f.emu.AddTarget(tcemu.Target{ID: "target-foreign", RuleID: r.ID, BusID: testBus, Type: "scf", Resource: foreign})

	// Another qualifier (an alias) chosen with --qualifier replaces the
	// function's target (one target per function: one run per event); the
	// foreign one stays.
	n := len(f.emu.Calls())
	code, out, errs := f.run("--qualifier", "prod")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if w := writes(f.emu.Calls()[n:]); !slices.Equal(w, []string{"CreateTarget", "DeleteTarget"}) {
		t.Errorf("writes = %v, want [CreateTarget DeleteTarget]", w)
	}
	if ts := f.emu.Targets(r.ID); len(ts) != 2 {
		t.Errorf("targets = %+v, want 2", ts)
	}
	if !strings.Contains(out, "left alone: target target-foreign") {
		t.Errorf("stdout does not mention the foreign target:\n%s", out)
	}
	if !strings.Contains(out, "/picbucket/$LATEST), so that each event runs the function once") {
		t.Errorf("stdout does not say the old target was replaced:\n%s", out)
	}
	var resources []string
	for _, tg := range f.emu.Targets(r.ID) {
		resources = append(resources, tg.Resource)
	}
	if !slices.Contains(resources, strings.TrimSuffix(testTarget, "$LATEST")+"prod") {
		t.Errorf("targets %v lack the alias prod", resources)
	}

	// --delete removes only ours and keeps a rule that still has other targets.
	code, out, errs = f.run("--delete")
	if code != 1 || !strings.Contains(errs, "still has other targets") || !strings.Contains(errs, "target-foreign") {
		t.Errorf("delete with foreign targets: exit %d\n%s%s", code, out, errs)
	}
	if len(f.emu.Rules(testBus)) != 1 {
		t.Error("the rule was deleted although it had foreign targets")
	}
}

func TestDeleteRemovesTargetThenRule(t *testing.T) {
	f := newFixture(t)
	if code, out, errs := f.run(); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	n := len(f.emu.Calls())
	code, out, errs := f.run("--delete")
	if code != 0 {
		t.Fatalf("delete: exit %d\n%s%s", code, out, errs)
	}
	if w := writes(f.emu.Calls()[n:]); !slices.Equal(w, []string{"DeleteTarget", "DeleteRule"}) {
		t.Errorf("writes = %v, want [DeleteTarget DeleteRule]", w)
	}
	if rules := f.emu.Rules(testBus); len(rules) != 0 {
		t.Errorf("rules left: %+v", rules)
	}
	if !strings.Contains(out, "deleted") {
		t.Errorf("stdout:\n%s", out)
	}
	// Deleting again finds nothing and is not an error.
	n = len(f.emu.Calls())
	code, out, errs = f.run("--delete")
	if code != 0 || len(writes(f.emu.Calls()[n:])) != 0 || !strings.Contains(out, "nothing to delete") {
		t.Errorf("second delete: exit %d\n%s%s", code, out, errs)
	}
}

func TestBadSignatureIsAClearError(t *testing.T) {
	f := newFixture(t)
	f.env["TENCENTCLOUD_SECRETKEY"] = "not-the-key"
	code, out, errs := f.run()
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errs)
	}
	for _, want := range []string{"ListEventBuses", "AuthFailure.SignatureFailure", "RequestId", "TENCENTCLOUD_SECRETKEY"} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
	if strings.Contains(out+errs, "not-the-key") || strings.Contains(out+errs, testToken) {
		t.Error("a secret was printed")
	}
	if len(f.emu.Rules(testBus)) != 0 {
		t.Error("a rule was created with a bad signature")
	}

	// A wrong token is refused too, and says so.
	f = newFixture(t)
	f.env["TENCENTCLOUD_SESSIONTOKEN"] = "stale-token"
	if code, _, errs := f.run(); code != 1 || !strings.Contains(errs, "AuthFailure.TokenFailure") {
		t.Errorf("wrong token: exit %d\n%s", code, errs)
	}
}

func TestServerlessEnvNamesAreAccepted(t *testing.T) {
	f := newFixture(t)
	f.env = map[string]string{"TENCENT_SECRET_ID": testID, "TENCENT_SECRET_KEY": testKey, "TENCENT_TOKEN": testToken}
	if code, out, errs := f.run("--uin", testUIN); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	f.onlyRule()
}

func TestDryRunWithoutCredentialsSendsNothing(t *testing.T) {
	f := newFixture(t)
	f.env = map[string]string{"TENCENTCLOUD_UIN": testUIN} // no credentials needed
	code, out, errs := f.run("--dry-run")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if calls := f.emu.Calls(); len(calls) != 0 {
		t.Fatalf("the dry run sent %d requests", len(calls))
	}
	for _, want := range []string{
		"dry run without credentials", "TENCENTCLOUD_SECRETID", "empty-account plan",
		"ListEventBuses", "ListRules", "CreateRule", "CreateTarget", "version 2021-04-16", "region ap-guangzhou",
		"POST https://eb.tencentcloudapi.com/",
		`"RuleName":"picbucket-putbucket"`, `\"eventName\":[\"PutBucket\"]`, `cos:CloudEvent:MiniProgramCall`,
		`"ResourceDescription":"` + testTarget + `"`,
		"would be created", "CreateRule, CreateTarget (dry run: not sent)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry-run output lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{"Authorization", "X-TC-Token", "Signature=", tcapi.DryRunCredentials.SecretKey + "\n"} {
		if strings.Contains(out, secret) {
			t.Errorf("dry-run output shows %q", secret)
		}
	}

	code, out, _ = f.run("--dry-run", "--delete")
	if code != 0 || len(f.emu.Calls()) != 0 || !strings.Contains(out, "DeleteTarget") || !strings.Contains(out, "DeleteRule") {
		t.Errorf("dry-run delete: exit %d, %d calls\n%s", code, len(f.emu.Calls()), out)
	}

	// Half a key is a mistake, not a wish for the empty-account plan.
	f.env["TENCENTCLOUD_SECRETID"] = testID
	code, out, errs = f.run("--dry-run")
	if code != 1 || out != "" || !strings.Contains(errs, "TENCENTCLOUD_SECRETKEY is not") || len(f.emu.Calls()) != 0 {
		t.Errorf("half a key: exit %d\n%s%s", code, out, errs)
	}
}

// actions returns the actions among calls, and whether all succeeded.
func actions(calls []tcemu.Call) ([]string, bool) {
	var a []string
	ok := true
	for _, c := range calls {
		a = append(a, c.Action)
		ok = ok && c.ErrorCode == ""
	}
	return a, ok
}

// TestDryRunReadsTheAccount: with credentials, a dry run makes the read
// calls of a real run, sends no write, and says what it would do.
func TestDryRunReadsTheAccount(t *testing.T) {
	f := newFixture(t)

	// An empty account: the rule and the target would be created.
	code, out, errs := f.run("--dry-run")
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	if got, ok := actions(f.emu.Calls()); !ok || !slices.Equal(got, []string{"ListEventBuses", "ListRules"}) {
		t.Errorf("calls %v (all ok: %v), want the reads [ListEventBuses ListRules]", got, ok)
	}
	for _, want := range []string{"dry run: reading the account", "would send 1: CreateRule", "would send 2: CreateTarget",
		"event bus  " + testBus + " (default)", "rule       picbucket-putbucket (${RuleId}): would be created",
		"target     scf " + testTarget + " (${TargetId}): would be created", "CreateRule, CreateTarget (dry run: not sent)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if len(f.emu.Rules(testBus)) != 0 {
		t.Fatal("the dry run created a rule")
	}

	// Up to date: nothing would change.
	if code, out, errs := f.run(); code != 0 {
		t.Fatalf("real run: exit %d\n%s%s", code, out, errs)
	}
	n := len(f.emu.Calls())
	code, out, errs = f.run("--dry-run")
	got, ok := actions(f.emu.Calls()[n:])
	if code != 0 || !ok || !slices.Equal(got, []string{"ListEventBuses", "ListRules", "GetRule", "ListTargets"}) ||
		!strings.Contains(out, "up to date: nothing would change") || strings.Contains(out, "would send 1:") {
		t.Errorf("up to date: exit %d, calls %v\n%s%s", code, got, out, errs)
	}

	// --delete: the target and the rule would be deleted.
	n = len(f.emu.Calls())
	code, out, errs = f.run("--dry-run", "--delete")
	if w := writes(f.emu.Calls()[n:]); code != 0 || len(w) != 0 || !strings.Contains(out, "would send 1: DeleteTarget") ||
		!strings.Contains(out, "would send 2: DeleteRule") || !strings.Contains(out, "would be deleted") {
		t.Errorf("delete: exit %d, writes %v\n%s%s", code, w, out, errs)
	}
	if len(f.emu.Rules(testBus)) != 1 {
		t.Error("the dry run deleted the rule")
	}

	// A refused key fails the dry run as it would fail the run.
	f.env["TENCENTCLOUD_SECRETKEY"] = "not-the-key"
	if code, _, errs := f.run("--dry-run"); code != 1 || !strings.Contains(errs, "AuthFailure.SignatureFailure") {
		t.Errorf("bad key: exit %d\n%s", code, errs)
	}
}

// TestPatternMatchesEveryCallType: the rule matches CloudAudit's three call
// types, and the target invokes $LATEST.
func TestPatternMatchesEveryCallType(t *testing.T) {
	var p struct {
		Source, Type []string
		Data         struct{ EventName []string }
	}
	if err := json.Unmarshal([]byte(tcapi.DefaultPattern), &p); err != nil {
		t.Fatal(err)
	}
	want := []string{"cos:CloudEvent:ApiCall", "cos:CloudEvent:ConsoleCall", "cos:CloudEvent:MiniProgramCall"}
	if !slices.Equal(p.Type, want) || !slices.Equal(p.Source, []string{"cos.cloud.tencent"}) || !slices.Equal(p.Data.EventName, []string{"PutBucket"}) {
		t.Errorf("DefaultPattern = %s", tcapi.DefaultPattern)
	}
	if tcapi.DefaultTargetQualifier != "$LATEST" {
		t.Errorf("DefaultQualifier = %s", tcapi.DefaultTargetQualifier)
	}
}

// TestRuleWithoutMiniProgramCallIsChanged: a rule an earlier wire eventbridge (then cmd/ebwire) made
// (its pattern lacks MiniProgramCall, its target invokes $DEFAULT) is shown
// as a change by a dry run and updated by a run.
func TestRuleWithoutMiniProgramCallIsChanged(t *testing.T) {
	f := newFixture(t)
	f.emu.SetRule(tcemu.Rule{ID: "rule-old", Name: tcapi.DefaultRuleName, BusID: testBus, Description: tcapi.DefaultRuleDescription,
		Pattern: oldPattern, Enable: true})
	oldTarget := strings.TrimSuffix(testTarget, "$LATEST") + "$DEFAULT"
	f.emu.AddTarget(tcemu.Target{ID: "target-old", RuleID: "rule-old", BusID: testBus, Type: "scf", Resource: oldTarget})

	code, out, errs := f.run("--dry-run")
	if code != 0 {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errs)
	}
	if w := writes(f.emu.Calls()); len(w) != 0 {
		t.Errorf("the dry run wrote %v", w)
	}
	// Without --qualifier the function's existing target is kept: a second
	// target would run the function twice per event.
	for _, want := range []string{"would send 1: UpdateRule", "MiniProgramCall", "rule       picbucket-putbucket (rule-old): would be updated",
		"note       rule differed in: pattern", "note       its pattern was " + oldPattern,
		"target     scf " + oldTarget + " (target-old): unchanged", "kept: target target-old", "UpdateRule (dry run: not sent)"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry-run output lacks %q:\n%s", want, out)
		}
	}
	if !tcapi.PatternEqual(f.onlyRule().Pattern, oldPattern) {
		t.Fatal("the dry run changed the pattern")
	}

	n := len(f.emu.Calls())
	code, out, errs = f.run()
	if code != 0 {
		t.Fatalf("run: exit %d\n%s%s", code, out, errs)
	}
	if w := writes(f.emu.Calls()[n:]); !slices.Equal(w, []string{"UpdateRule"}) {
		t.Errorf("writes = %v, want [UpdateRule]", w)
	}
	if r := f.onlyRule(); r.ID != "rule-old" || !tcapi.PatternEqual(r.Pattern, tcapi.DefaultPattern) {
		t.Errorf("rule after the run: %+v", r)
	}
	if !strings.Contains(out, "rule       picbucket-putbucket (rule-old): updated") {
		t.Errorf("stdout:\n%s", out)
	}

	// With --qualifier the old target is replaced: the new one is created
	// first, then the old one deleted, so the rule ends with one target.
	n = len(f.emu.Calls())
	code, out, errs = f.run("--qualifier", "$LATEST")
	if code != 0 {
		t.Fatalf("run --qualifier: exit %d\n%s%s", code, out, errs)
	}
	if w := writes(f.emu.Calls()[n:]); !slices.Equal(w, []string{"CreateTarget", "DeleteTarget"}) {
		t.Errorf("writes = %v, want [CreateTarget DeleteTarget]", w)
	}
	if !strings.Contains(out, "replaced: target target-old") {
		t.Errorf("stdout:\n%s", out)
	}

	// Only the pattern differing (the target already $LATEST): one UpdateRule.
	f = newFixture(t)
	if code, out, errs := f.run(); code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	r := f.onlyRule()
	r.Pattern = oldPattern
	f.emu.SetRule(r)
	n = len(f.emu.Calls())
	if code, out, errs := f.run(); code != 0 || !slices.Equal(writes(f.emu.Calls()[n:]), []string{"UpdateRule"}) {
		t.Errorf("exit %d, writes %v\n%s%s", code, writes(f.emu.Calls()[n:]), out, errs)
	}
}

func TestUsageErrors(t *testing.T) {
	f := newFixture(t)
	delete(f.env, "TENCENTCLOUD_UIN")
	if code, _, errs := f.run(); code != 2 || !strings.Contains(errs, "--uin") {
		t.Errorf("no uin: exit %d\n%s", code, errs)
	}
	f.env["TENCENTCLOUD_UIN"] = testUIN
	for _, args := range [][]string{
		{"--pattern", "[1]"},
		{"--pattern", "{}"},
		{"--function", "bad name"},
		{"--region", "guangzhou"},
		{"extra"},
	} {
		if code, _, errs := f.run(args...); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s", args, code, errs)
		}
	}
	if code, _, errs := f.run("--rule-name", "-bad"); code != 1 || !strings.Contains(errs, "rule name") {
		t.Errorf("bad rule name: exit %d\n%s", code, errs)
	}
	delete(f.env, "TENCENTCLOUD_SECRETID")
	if code, _, errs := f.run(); code != 1 || !strings.Contains(errs, "TENCENTCLOUD_SECRETID") {
		t.Errorf("no credentials: exit %d\n%s", code, errs)
	}
	if n := len(f.emu.Calls()); n != 0 {
		t.Errorf("usage errors sent %d requests", n)
	}
}

func TestNoServiceBus(t *testing.T) {
	f := newFixture(t)
	// In another region there is no service event bus.
	code, _, errs := f.run("--region", "ap-shanghai")
	if code != 1 || !strings.Contains(errs, "no Tencent Cloud service event bus") || !strings.Contains(errs, "--bus-id") {
		t.Errorf("exit %d\n%s", code, errs)
	}
	// An explicit bus id skips the lookup.
	code, out, errs := f.run("--bus-id", "eb-custom01")
	if code != 0 || len(f.emu.Rules("eb-custom01")) != 1 {
		t.Errorf("--bus-id: exit %d\n%s%s", code, out, errs)
	}
}

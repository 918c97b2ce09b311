package main_test

// Organization-wide runs through the SCF runtime protocol: the function's
// own account (the management account) and four members, one whose role
// refuses AssumeRole and one excluded, against the COS/CI emulator (which
// knows every account and refuses a key of one account for another's
// bucket) and the API 3.0 emulator (organization, sts, cam, scf; TC3
// signatures and tokens checked).

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/picbucket/picbucket/handler"
	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/scfrpc"
	"github.com/picbucket/picbucket/internal/tcapi/tcemu"
)

const (
	mgmtUin     = "100000000001"
	memberA     = "100000000011" // APPID 1250000011
	memberB     = "100000000012" // APPID 1250000012
	memberNoRol = "100000000013" // its role refuses AssumeRole
	memberExcl  = "100000000014" // PICBUCKET_EXCLUDE_ACCOUNTS
)

// orgFixture is both emulators and one running function process: the
// e2e fixture (its emu is the COS/CI emulator) and the API 3.0 emulator.
type orgFixture struct {
	*fixture
	tc *tcemu.Server

	mu   sync.Mutex
	keys map[string]string // issued SecretID -> account UIN
	all  []tcemu.Key
}

func startOrg(t *testing.T, settings ...string) *orgFixture {
	t.Helper()
	f := &orgFixture{fixture: &fixture{t: t}, keys: map[string]string{defaultCreds.id: mgmtUin}}
	f.emu = emulator.New(emulator.Options{})
	f.emu.AddCredential(emulator.Credential{SecretID: defaultCreds.id, SecretKey: defaultCreds.key, Token: defaultCreds.token, AppID: appID})
	f.tc = tcemu.New(tcemu.Options{Management: tcemu.Account{Uin: 100000000001, AppID: appID}})
	f.tc.AddKey(tcemu.Key{SecretID: defaultCreds.id, SecretKey: defaultCreds.key, Token: defaultCreds.token, Uin: 100000000001, AppID: appID})
	f.tc.OnIssue = func(k tcemu.Key) {
		f.mu.Lock()
		f.keys[k.SecretID] = fmt.Sprint(k.Uin)
		f.all = append(f.all, k)
		f.mu.Unlock()
		f.emu.AddCredential(emulator.Credential{SecretID: k.SecretID, SecretKey: k.SecretKey, Token: k.Token, AppID: k.AppID})
	}
	for _, m := range []tcemu.Member{
		{Uin: 100000000011, AppID: "1250000011"},
		{Uin: 100000000012, AppID: "1250000012"},
		{Uin: 100000000013, AppID: "1250000013", Refuse: "ResourceNotFound.RoleNotFound"},
		{Uin: 100000000014, AppID: "1250000014"},
	} {
		f.tc.AddMember(m)
	}
	for _, b := range []struct {
		name, region string
		on           bool
	}{
		{"photos-1250000000", "ap-guangzhou", false}, {"old-1250000000", "ap-shanghai", true},
		{"a-1250000011", "ap-guangzhou", false}, {"b-1250000011", "ap-shanghai", true}, {"c-1250000011", "ap-shanghai", false},
		{"d-1250000012", "ap-guangzhou", false},
		{"e-1250000013", "ap-guangzhou", false},
		{"f-1250000014", "ap-guangzhou", false},
	} {
		f.emu.AddBucket(b.name, b.region, b.on)
	}
	cosSrv := httptest.NewServer(f.emu)
	t.Cleanup(cosSrv.Close)
	tcSrv := httptest.NewServer(f.tc)
	t.Cleanup(tcSrv.Close)
	f.out = &syncBuffer{}
	env := append([]string{"PATH=" + os.Getenv("PATH"), "PICBUCKET_ENDPOINT=" + cosSrv.URL, "PICBUCKET_API_ENDPOINT=" + tcSrv.URL,
		"TENCENTCLOUD_APPID=" + appID, "SCF_FUNCTIONNAME=picbucket", "SCF_NAMESPACE=default", "SCF_FUNCTIONVERSION=$LATEST"}, settings...)
	proc, err := scfrpc.Start(binary, env, f.out, f.out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proc.Stop)
	f.proc = proc
	return f
}

// checkSigners checks that every COS/CI request was signed by a key of the
// account that owns its bucket, and returns "account Action host" lines.
func (f *orgFixture) checkSigners() []string {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	appOf := map[string]string{mgmtUin: appID, memberA: "1250000011", memberB: "1250000012"}
	var out []string
	for _, r := range f.emu.Requests() {
		uin := f.keys[r.SecretID]
		if !r.SignatureValid || uin == "" {
			f.t.Errorf("request %s %s signed by an unknown key or badly (valid %v)", r.Action, r.Host, r.SignatureValid)
		}
		if r.Action == emulator.ActionCreatePicProcessBucket && !strings.Contains(r.Host, "-"+appOf[uin]+".") {
			f.t.Errorf("%s: a key of account %s signed a Create for another account's bucket", r.Host, uin)
		}
		out = append(out, uin+" "+r.Action+" "+r.Host)
	}
	sort.Strings(out)
	return out
}

func accountOutcomes(res *handler.Result) map[string]handler.AccountOutcome {
	m := map[string]handler.AccountOutcome{}
	for _, a := range res.Accounts {
		m[a.Uin] = a.Outcome
	}
	return m
}

func bucketAccounts(res *handler.Result) map[string]string {
	m := map[string]string{}
	for _, b := range res.Results {
		m[b.Bucket] = b.Account + " " + string(b.Outcome)
	}
	return m
}

func TestOrganizationFanOut(t *testing.T) {
	f := startOrg(t, "PICBUCKET_ACCOUNTS=org", "PICBUCKET_EXCLUDE_ACCOUNTS="+memberExcl)
	res, errMsg := f.invoke(readEvent(t, "timer.json"))
	if errMsg != "" {
		t.Fatalf("timer: %s\n%s", errMsg, f.out)
	}
	want := map[string]handler.AccountOutcome{mgmtUin: handler.AccountReconciled, memberA: handler.AccountFannedOut,
		memberB: handler.AccountFannedOut, memberNoRol: handler.AccountFannedOut, memberExcl: handler.AccountSkipped}
	if got := accountOutcomes(res); !mapsEqual(got, want) {
		t.Errorf("accounts %v, want %v", got, want)
	}
	if got, want := bucketAccounts(res), map[string]string{"photos-1250000000": mgmtUin + " enabled", "old-1250000000": mgmtUin + " already_enabled"}; !mapsEqual(got, want) {
		t.Errorf("timer's own buckets %v, want %v", got, want)
	}
	invs := f.tc.TakeInvocations()
	var uins []string
	for _, in := range invs {
		var ev struct {
			Account struct{ Uin, Role string }
			DryRun  bool
		}
		if err := json.Unmarshal([]byte(in.ClientContext), &ev); err != nil {
			t.Fatalf("ClientContext %q: %v", in.ClientContext, err)
		}
		if in.InvocationType != "Event" || in.FunctionName != "picbucket" || in.Qualifier != "$LATEST" || in.Namespace != "default" ||
			ev.Account.Role != "OrganizationAccessControlRole" {
			t.Errorf("invocation %+v", in)
		}
		uins = append(uins, ev.Account.Uin)
	}
	sort.Strings(uins)
	if !slices.Equal(uins, []string{memberA, memberB, memberNoRol}) {
		t.Fatalf("Invokes for %v, want the three members not excluded", uins)
	}
	// The own account's requests were signed by its own key only.
	for _, line := range f.checkSigners() {
		if !strings.HasPrefix(line, mgmtUin+" ") {
			t.Errorf("the timer sent %q", line)
		}
	}

	// Deliver each member invocation, as SCF would.
	f.emu.ResetRequests()
	got := map[string]string{}
	for _, in := range invs {
		res, errMsg := f.invoke([]byte(in.ClientContext))
		var ev struct{ Account struct{ Uin string } }
		json.Unmarshal([]byte(in.ClientContext), &ev)
		if ev.Account.Uin == memberNoRol {
			if res != nil || !strings.Contains(errMsg, "ResourceNotFound.RoleNotFound") || !strings.Contains(errMsg, "trust policy") {
				t.Errorf("refused member: result %v, error %q; want an error naming the code and the trust policy", res, errMsg)
			}
			continue
		}
		if errMsg != "" {
			t.Fatalf("member %s: %s", ev.Account.Uin, errMsg)
		}
		if res.Trigger != "member" || len(res.Accounts) != 1 || res.Accounts[0].Uin != ev.Account.Uin || res.Accounts[0].Outcome != handler.AccountReconciled {
			t.Errorf("member %s: trigger %q accounts %+v", ev.Account.Uin, res.Trigger, res.Accounts)
		}
		for k, v := range bucketAccounts(res) {
			got[k] = v
		}
	}
	wantBuckets := map[string]string{"a-1250000011": memberA + " enabled", "b-1250000011": memberA + " already_enabled",
		"c-1250000011": memberA + " enabled", "d-1250000012": memberB + " enabled"}
	if !mapsEqual(got, wantBuckets) {
		t.Errorf("member buckets %v, want %v", got, wantBuckets)
	}
	lines := f.checkSigners()
	for _, l := range lines {
		if strings.HasPrefix(l, mgmtUin+" ") {
			t.Errorf("a member invocation signed with the management key: %s", l)
		}
	}
	if f.emu.Enabled("e-1250000013") || f.emu.Enabled("f-1250000014") {
		t.Error("a bucket of the refusing or the excluded account was enabled")
	}
	checkNoAssumedSecrets(t, f)
}

// TestOrganizationFanOutCarriesOptions: a timer with options (regions,
// dry run) sends member events with the same options, which the member
// invocations accept and honour.
func TestOrganizationFanOutCarriesOptions(t *testing.T) {
	f := startOrg(t, "PICBUCKET_ACCOUNTS="+memberA)
	timer := []byte(`{"Type":"Timer","TriggerName":"t","Time":"2024-01-01T00:00:00Z","Message":"{\"regions\":[\"ap-shanghai\"],\"include\":[\"c-*\",\"old-*\"],\"dryRun\":true}"}`)
	if _, errMsg := f.invoke(timer); errMsg != "" {
		t.Fatalf("timer: %s", errMsg)
	}
	invs := f.tc.TakeInvocations()
	if len(invs) != 1 {
		t.Fatalf("%d Invokes, want 1", len(invs))
	}
	want := `{"account":{"uin":"` + memberA + `","role":"OrganizationAccessControlRole"},"reconcile":{"regions":["ap-shanghai"],"include":["c-*","old-*"]},"dryRun":true}`
	if invs[0].ClientContext != want {
		t.Errorf("member event %s, want %s", invs[0].ClientContext, want)
	}
	res, errMsg := f.invoke([]byte(invs[0].ClientContext))
	if errMsg != "" {
		t.Fatalf("member: %s", errMsg)
	}
	if got, want := bucketAccounts(res), map[string]string{"c-1250000011": memberA + " would_enable"}; !mapsEqual(got, want) || !res.DryRun {
		t.Errorf("member buckets %v (dry run %v), want %v in a dry run", got, res.DryRun, want)
	}
	if f.emu.Enabled("c-1250000011") {
		t.Error("a dry run enabled a bucket")
	}
}

func TestOrganizationWithoutFanOut(t *testing.T) {
	f := startOrg(t, "PICBUCKET_ACCOUNTS=org", "PICBUCKET_EXCLUDE_ACCOUNTS="+memberExcl, "PICBUCKET_FANOUT=false")
	res, errMsg := f.invoke(readEvent(t, "timer.json"))
	if res != nil || !strings.Contains(errMsg, memberNoRol) || !strings.Contains(errMsg, "trust policy") {
		t.Fatalf("result %v, error %q: want the invocation failed naming %s and the trust policy", res, errMsg, memberNoRol)
	}
	if n := f.tc.CallCount("Invoke"); n != 0 {
		t.Errorf("%d Invokes without fan-out", n)
	}
	// The result is in the log's account lines: every other account done.
	logs := f.logs()
	for uin, want := range map[string]string{mgmtUin: "reconciled", memberA: "reconciled", memberB: "reconciled", memberNoRol: "failed", memberExcl: "skipped"} {
		if !strings.Contains(logs, `"account":"`+uin+`","appId":`) || !regexpMatch(`"account":"`+uin+`"[^\n]*"outcome":"`+want+`"[^\n]*"message":"account"`, logs) {
			t.Errorf("no account line for %s with outcome %s", uin, want)
		}
	}
	for _, name := range []string{"photos-1250000000", "a-1250000011", "c-1250000011", "d-1250000012"} {
		if !f.emu.Enabled(name) {
			t.Errorf("%s not enabled", name)
		}
	}
	if f.emu.Enabled("e-1250000013") || f.emu.Enabled("f-1250000014") {
		t.Error("a bucket of the refusing or the excluded account was enabled")
	}
	f.checkSigners()
	checkNoAssumedSecrets(t, f)
}

func TestMemberEventRefused(t *testing.T) {
	member := []byte(`{"account":{"uin":"` + memberExcl + `"}}`)
	for _, tc := range []struct {
		name     string
		settings []string
		payload  []byte
		want     string
	}{
		{"no PICBUCKET_ACCOUNTS", nil, []byte(`{"account":{"uin":"` + memberA + `"}}`), "needs PICBUCKET_ACCOUNTS"},
		{"excluded", []string{"PICBUCKET_ACCOUNTS=org", "PICBUCKET_EXCLUDE_ACCOUNTS=" + memberExcl}, member, "PICBUCKET_EXCLUDE_ACCOUNTS"},
		{"unlisted", []string{"PICBUCKET_ACCOUNTS=" + memberA}, []byte(`{"account":{"uin":"` + memberB + `"}}`), "does not list"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := startOrg(t, tc.settings...)
			res, errMsg := f.invoke(tc.payload)
			if res != nil || !strings.Contains(errMsg, tc.want) {
				t.Errorf("result %v, error %q; want a refusal naming %q", res, errMsg, tc.want)
			}
			if n := len(f.emu.Requests()) + len(f.tc.Calls()); n != 0 {
				t.Errorf("%d requests for a refused member event", n)
			}
		})
	}
}

// checkNoAssumedSecrets searches everything the function wrote for the
// secret parts of every key the API emulator issued.
func checkNoAssumedSecrets(t *testing.T, f *orgFixture) {
	t.Helper()
	f.mu.Lock()
	keys := slices.Clone(f.all)
	f.mu.Unlock()
	if len(keys) == 0 {
		t.Fatal("no key was issued")
	}
	out := f.out.String()
	for _, k := range keys {
		for _, s := range []string{k.SecretKey, k.Token} {
			if strings.Contains(out, s) {
				t.Errorf("an assumed key's secret reached the output")
			}
		}
	}
	for _, s := range []string{defaultCreds.key, defaultCreds.token, "q-signature", "TC3-HMAC-SHA256 Credential"} {
		if strings.Contains(out, s) {
			t.Errorf("%q reached the output", s)
		}
	}
}

func mapsEqual[V comparable](a, b map[string]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

// TestOrganizationThrottledAssumeRoleDefers: STS stays throttled for every
// AssumeRole. Without fan-out, the members are deferred (the next run picks
// them up), none fails, the management account is reconciled, and the
// invocation succeeds.
func TestOrganizationThrottledAssumeRoleDefers(t *testing.T) {
	f := startOrg(t, "PICBUCKET_ACCOUNTS="+memberA+","+memberB, "PICBUCKET_FANOUT=false")
	f.tc.Throttle("AssumeRole", 1000)
	res, errMsg := f.invoke(readEvent(t, "timer.json"))
	if errMsg != "" {
		t.Fatalf("error %q: a throttled member is deferred, not failed", errMsg)
	}
	want := map[string]handler.AccountOutcome{mgmtUin: handler.AccountReconciled, memberA: handler.AccountDeferred, memberB: handler.AccountDeferred}
	if got := accountOutcomes(res); !mapsEqual(got, want) {
		t.Errorf("accounts %v, want %v", got, want)
	}
	for _, a := range res.Accounts {
		if a.Outcome == handler.AccountDeferred && !strings.Contains(a.Error, "RequestLimitExceeded") {
			t.Errorf("%s deferred for %q", a.Uin, a.Error)
		}
	}
	if f.emu.Enabled("a-1250000011") || !f.emu.Enabled("photos-1250000000") {
		t.Error("want the management account's bucket enabled and no member's")
	}
}

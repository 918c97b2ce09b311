package main

// apply and check against tcemu, which serves every product they call (eb,
// cls, cloudaudit, scf) on one address and checks each request's TC3
// signature and token.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/picbucket/picbucket/internal/tcapi"
	"github.com/picbucket/picbucket/internal/tcapi/tcemu"
	"github.com/picbucket/picbucket/signer"
)

// webhook is a WeCom robot's webhook; its key is a secret.
const (
	webhookKey = "wecom-robot-key-5d1c"
	webhook    = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + webhookKey
)

const (
	wireUIN    = 100012345678
	wireUINStr = "100012345678"
	wireAppID  = "1250000000"
)

type wireFixture struct {
	t    *testing.T
	emu  *tcemu.Server
	url  string
	env  map[string]string
	yml  string // the serverless.yml path
	text string // its text
}

// newWireFixture: the repository's serverless.yml, the function deployed as
// it says, the service event bus, a key of the (management) account.
func newWireFixture(t *testing.T) *wireFixture {
	t.Helper()
	acct := tcemu.Account{Uin: wireUIN, AppID: wireAppID}
	emu := tcemu.New(tcemu.Options{Management: acct})
	emu.EventBridge().AddBus(tcemu.Bus{ID: "eb-svc00001", Name: "default", Type: "Cloud", Region: "ap-guangzhou"})
	b, err := os.ReadFile(filepath.Join("..", "..", "serverless.yml"))
	if err != nil {
		t.Fatal(err)
	}
	k := emu.NewKey(acct)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	f := &wireFixture{t: t, emu: emu, url: srv.URL, yml: filepath.Join(t.TempDir(), "serverless.yml"),
		env: map[string]string{"TENCENTCLOUD_SECRETID": k.SecretID, "TENCENTCLOUD_SECRETKEY": k.SecretKey, "TENCENTCLOUD_SESSIONTOKEN": k.Token}}
	f.write(string(b))
	emu.DeployFunction(tcemu.Function{Region: "ap-guangzhou", Name: "picbucket", Runtime: "Go1", Handler: "main", Role: "picbucket-execution",
		MemorySize: 64, Timeout: 300, Env: f.env0()})
	emu.AddTrigger(tcemu.Trigger{Uin: wireUIN, Region: "ap-guangzhou", Namespace: "default", FunctionName: "picbucket", Type: "timer",
		TriggerName: "picbucket-reconcile", Qualifier: "$DEFAULT", Enable: 1})
	return f
}

func (f *wireFixture) write(text string) {
	f.t.Helper()
	f.text = text
	if err := os.WriteFile(f.yml, []byte(text), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

// env0 is serverless.yml's environment, as the deploy sets it.
func (f *wireFixture) env0() map[string]string {
	return map[string]string{"PICBUCKET_DRY_RUN": "true", "PICBUCKET_REGIONS": "", "PICBUCKET_INCLUDE": "", "PICBUCKET_EXCLUDE": "",
		"PICBUCKET_CONCURRENCY": "8", "PICBUCKET_MAX_ENABLE": "0", "PICBUCKET_SKIP_TAG": "", "PICBUCKET_REQUIRE_TAG": "", "LOG_LEVEL": "info"}
}

func (f *wireFixture) run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	args = append(args[:1:1], append([]string{"-f", f.yml, "--endpoint", f.url, "--uin", wireUINStr}, args[1:]...)...)
	code = run(args, func(k string) string { return f.env[k] }, &out, &errb)
	s := out.String() + errb.String()
	for _, secret := range []string{f.env["TENCENTCLOUD_SECRETKEY"], f.env["TENCENTCLOUD_SESSIONTOKEN"], webhookKey} {
		if secret != "" && strings.Contains(s, secret) {
			f.t.Errorf("output holds a secret:\n%s", s)
		}
	}
	return code, out.String(), errb.String()
}

// emuCall sends one CLS action to the emulator with the fixture's key,
// as the user's own tools would (not counted as wire's).
func (f *wireFixture) emuCall(action string, params map[string]any) (any, string) {
	f.t.Helper()
	u, _ := url.Parse(f.url)
	c, err := tcapi.New(signerCreds(f.env), tcapi.Options{Region: "ap-guangzhou", Endpoint: u})
	if err != nil {
		f.t.Fatal(err)
	}
	if err := c.Call(context.Background(), "cls", "2020-10-16", action, params, nil); err != nil {
		return nil, err.Error()
	}
	return nil, ""
}

// writes are the write actions the emulator answered, EventBridge's
// included.
func (f *wireFixture) writes() []string {
	var w []string
	for _, c := range f.emu.Calls() {
		if !strings.HasPrefix(c.Action, "Describe") && !strings.HasPrefix(c.Action, "List") && !strings.HasPrefix(c.Action, "Get") &&
			!strings.HasPrefix(c.Action, "Search") {
			w = append(w, c.Action)
		}
	}
	return w
}

// nameLogTopic puts the ids apply printed into serverless.yml's inputs.cls.
func (f *wireFixture) nameLogTopic() {
	f.t.Helper()
	var ls, tp string
	for _, t := range f.emu.Topics() {
		if t.Name == LogTopic {
			ls, tp = t.LogsetID, t.ID
		}
	}
	if tp == "" {
		f.t.Fatal("no log topic")
	}
	f.write(strings.Replace(f.text, "  # cls:\n  #   logsetId: \"<logset id wire apply printed>\"\n  #   topicId: \"<topic id wire apply printed>\"\n",
		fmt.Sprintf("  cls:\n    logsetId: %q\n    topicId: %q\n", ls, tp), 1))
	f.emu.DeployFunction(tcemu.Function{Region: "ap-guangzhou", Name: "picbucket", Runtime: "Go1", Handler: "main", Role: "picbucket-execution",
		MemorySize: 64, Timeout: 300, Env: f.env0(), ClsLogsetID: ls, ClsTopicID: tp})
	// The function ran on its timer 20 minutes ago.
	f.emu.AddLog(tp, tcemu.LogLine{Time: time.Now().Add(-20 * time.Minute),
		JSON: `{"level":"info","scfRequestId":"r1","trigger":"timer","dryRun":true,"buckets":6,"enabled":0,"already_enabled":2,"would_enable":4,"message":"summary"}`})
}

func TestApplyThenCheck(t *testing.T) {
	f := newWireFixture(t)

	// check and apply --dry-run only read.
	code, out, errs := f.run("check")
	if code != 1 || len(f.writes()) != 0 || !strings.Contains(out, "✗ log topic picbucket/picbucket-log: missing") ||
		!strings.Contains(out, "✗ EventBridge rule picbucket-putbucket: missing") || !strings.Contains(out, "✓ timer trigger: enabled") ||
		!strings.Contains(out, "✗ execution role picbucket-execution: missing") {
		t.Fatalf("check on a bare account: exit %d, writes %v\n%s%s", code, f.writes(), out, errs)
	}
	code, out, errs = f.run("apply", "--dry-run")
	if code != 0 || len(f.writes()) != 0 || !strings.Contains(out, "plan 1: CreateLogset") || !strings.Contains(out, "plan 2: CreateTopic") ||
		!strings.Contains(out, "would send 1: CreateRule") {
		t.Fatalf("apply --dry-run: exit %d, writes %v\n%s%s", code, f.writes(), out, errs)
	}

	// apply writes, printing what serverless.yml must name.
	code, out, errs = f.run("apply", "--wecom", webhook)
	if w := f.writes(); code != 0 || !slices.Equal(w, []string{"CreateRole", "CreatePolicy", "AttachRolePolicy", "CreateLogset", "CreateTopic", "CreateIndex",
		"CreateAlarmNotice", "CreateAlarm", "CreateAlarm", "CreateAlarm", "CreateRule", "CreateTarget"}) {
		t.Fatalf("apply: exit %d, writes %v\n%s%s", code, w, out, errs)
	}
	if !strings.Contains(out, "next: serverless.yml must name this topic") {
		t.Errorf("apply does not say what to paste:\n%s", out)
	}
	var logTopic string
	for _, tp := range f.emu.Topics() {
		if tp.Name == LogTopic {
			logTopic = tp.ID
		}
	}
	if ix := f.emu.Index(logTopic); ix == nil || len(ix.Fields) != len(indexFields) {
		t.Errorf("index = %+v", ix)
	}
	if rules := f.emu.EventBridge().Rules("eb-svc00001"); len(rules) != 1 {
		t.Errorf("rules = %+v", rules)
	}

	// A second apply writes nothing.
	n := len(f.writes())
	if code, out, errs := f.run("apply"); code != 0 || len(f.writes()) != n {
		t.Errorf("second apply: exit %d, writes %v\n%s%s", code, f.writes()[n:], out, errs)
	}

	// check: the function still logs to the default topic until
	// serverless.yml names the new one and it is deployed again.
	code, out, _ = f.run("check")
	if code != 1 || !strings.Contains(out, "serverless.yml's inputs.cls does not name it") {
		t.Errorf("check before the topic is named: exit %d\n%s", code, out)
	}
	f.nameLogTopic()
	code, out, errs = f.run("check")
	if code != 0 || strings.Contains(out, "✗") || strings.Contains(out, "?") || len(f.writes()) != n {
		t.Errorf("check after apply and deploy: exit %d, writes %v\n%s%s", code, f.writes()[n:], out, errs)
	}

	// A setting changed by hand in the console is named.
	env := f.env0()
	env["PICBUCKET_CONCURRENCY"] = "99"
	fn := tcemu.Function{Region: "ap-guangzhou", Name: "picbucket", Runtime: "Go1", Handler: "main", Role: "picbucket-execution",
		MemorySize: 128, Timeout: 300, Env: env}
	f.emu.DeployFunction(fn)
	code, out, _ = f.run("check")
	for _, want := range []string{"memory 128 MB (want 64)", "settings differ from serverless.yml: PICBUCKET_CONCURRENCY",
		"the function refuses them: invalid setting: PICBUCKET_CONCURRENCY"} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("check after a console edit: exit %d, lacks %q\n%s", code, want, out)
		}
	}

	// --delete removes the rule and target apply made, and nothing else.
	if code, out, errs := f.run("apply", "--delete"); code != 0 || len(f.emu.EventBridge().Rules("eb-svc00001")) != 0 || len(f.emu.Topics()) != 1 {
		t.Errorf("apply --delete: exit %d, rules %v\n%s%s", code, f.emu.EventBridge().Rules("eb-svc00001"), out, errs)
	}
}

// TestOrgTrailTriggerMustBeDeclared: with --org, apply makes the trail and
// says to declare its CLS trigger; check fails until serverless.yml
// declares it, because the next deploy would delete it.
func TestOrgTrailTriggerMustBeDeclared(t *testing.T) {
	f := newWireFixture(t)
	code, out, errs := f.run("apply", "--org", "--notify-uin", "100012345679")
	if code != 0 || len(f.emu.Tracks()) != 1 || !strings.Contains(out, "next: declare the trail's trigger in serverless.yml") {
		t.Fatalf("apply --org: exit %d\n%s%s", code, out, errs)
	}
	tr := f.emu.Tracks()[0]
	if tr.Storage.StoragePrefix != tcapi.StoragePrefix {
		t.Errorf("track storage %+v", tr.Storage)
	}
	var trailTopic string
	for _, tp := range f.emu.Topics() {
		if tp.Name == tcapi.DefaultTopic {
			trailTopic = tp.ID
		}
	}
	f.nameLogTopic()
	code, out, _ = f.run("check", "--org")
	if code != 1 || !strings.Contains(out, "✗ cls trigger on topic "+trailTopic+": not declared in serverless.yml: the next deploy deletes it") ||
		!strings.Contains(out, "✓ organization trail") {
		t.Errorf("check with an undeclared trigger: exit %d\n%s", code, out)
	}
	f.write(f.text + "    - cls:\n        parameters:\n          qualifier: $DEFAULT\n          topicId: \"" + trailTopic + "\"\n          maxWait: 60\n          enable: true\n")
	n := len(f.writes())
	code, out, _ = f.run("check", "--org")
	if code != 1 || !strings.Contains(out, "✗ role SLS_QcsRole (serverless.yml declares a cls trigger): missing") {
		t.Errorf("check without SLS_QcsRole: exit %d\n%s", code, out)
	}
	cls := f.emu.AddPolicy(tcemu.Policy{Name: "QcloudCLSFullAccess", Type: 2, Document: `{"version":"2.0","statement":[{"effect":"allow","action":"cls:*","resource":"*"}]}`})
	f.emu.AddRole(tcemu.Role{Name: "SLS_QcsRole", Document: `{"version":"2.0","statement":[]}`, Policies: []uint64{cls.ID}})
	code, out, errs = f.run("check", "--org")
	if code != 0 || len(f.writes()) != n {
		t.Errorf("check with the trigger declared: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := f.run("apply", "--org"); code != 0 || len(f.writes()) != n || strings.Contains(out, "next:") {
		t.Errorf("second apply --org: exit %d, writes %v\n%s%s", code, f.writes()[n:], out, errs)
	}
}

// TestBadInputSendsNothing: each refusal names what was wrong and costs no
// request.
func TestBadInputSendsNothing(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(f *wireFixture) []string
		code  int
		wants string
	}{
		{"unknown UIN form", func(f *wireFixture) []string { return []string{"--uin", "uin-12ab"} }, 2, `--uin "uin-12ab"`},
		{"region typo", func(f *wireFixture) []string {
			f.write(strings.Replace(f.text, "region: ap-guangzhou", "region: ap-guangzou", 1))
			return nil
		}, 2, "did you mean ap-guangzhou"},
		{"missing serverless.yml", func(f *wireFixture) []string { return []string{"-f", filepath.Join(f.t.TempDir(), "none.yml")} }, 2, "none.yml"},
		{"invalid serverless.yml", func(f *wireFixture) []string {
			f.write(strings.Replace(f.text, `PICBUCKET_CONCURRENCY: "8"`, `PICBUCKET_CONCURRENCY: "0"`, 1))
			return nil
		}, 2, "PICBUCKET_CONCURRENCY"},
		{"namespace wildcard", func(f *wireFixture) []string {
			f.write(strings.Replace(f.text, "  role: picbucket-execution", "  namespace: \"*\"\n  role: picbucket-execution", 1))
			return nil
		}, 2, `inputs.namespace "*"`},
		{"unquoted timer argument", func(f *wireFixture) []string {
			f.write(strings.Replace(f.text, `argument: ""`, `argument: {"dryRun": true}`, 1))
			return nil
		}, 2, "argument is not a quoted string"},
		{"endpoint outside", func(f *wireFixture) []string {
			return []string{"--endpoint", "http://eb.tencentcloudapi.com.example.com:80"}
		}, 2, "--endpoint"},
		{"no key", func(f *wireFixture) []string { f.env = map[string]string{}; return nil }, 1, "TENCENTCLOUD_SECRETID"},
	} {
		for _, sub := range []string{"apply", "check"} {
			t.Run(tc.name+" "+sub, func(t *testing.T) {
				f := newWireFixture(t)
				extra := tc.edit(f)
				code, out, errs := f.run(append([]string{sub}, extra...)...)
				if code != tc.code || !strings.Contains(errs, tc.wants) || len(f.emu.Calls()) != 0 {
					t.Errorf("exit %d (want %d), %d calls, stderr lacks %q?\n%s%s", code, tc.code, len(f.emu.Calls()), tc.wants, out, errs)
				}
			})
		}
	}
}

// TestCheckNamesAMissingReadPermission: a read the key may not make is a ?
// line naming the permission, and check exits 1.
func TestCheckNamesAMissingReadPermission(t *testing.T) {
	f := newWireFixture(t)
	target, _ := url.Parse(f.url)
	proxy := httputil.NewSingleHostReverseProxy(target)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("X-TC-Action") {
		case "GetFunction", "ListRules":
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, `{"Response":{"Error":{"Code":"UnauthorizedOperation","Message":"not allowed"},"RequestId":"r-1"}}`)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	f.url = front.URL
	code, out, errs := f.run("check")
	for _, want := range []string{"? function picbucket in ap-guangzhou/default\n    could not read: the key lacks scf:GetFunction",
		"? EventBridge rule picbucket-putbucket\n    could not read: the key lacks eb:ListRules"} {
		if code != 1 || !strings.Contains(out, want) {
			t.Errorf("exit %d; output lacks %q:\n%s%s", code, want, out, errs)
		}
	}
	if len(f.writes()) != 0 {
		t.Errorf("writes %v", f.writes())
	}
}

// TestIndexKeepsOtherFields: a log topic whose index lacks a field, has one
// of another type, and has a field of the user's own, is modified once:
// the user's field stays; the next apply writes nothing.
func TestIndexKeepsOtherFields(t *testing.T) {
	f := newWireFixture(t)
	ls := f.emu.AddLogset(tcemu.Logset{Uin: wireUIN, Region: "ap-guangzhou", Name: LogLogset})
	tp := f.emu.AddTopic(tcemu.Topic{Uin: wireUIN, Region: "ap-guangzhou", Name: LogTopic, LogsetID: ls.ID})
	fields := []tcapi.IndexField{{Key: "mine", Type: "text"}, {Key: "failed", Type: "text", SQL: true}}
	if _, err := f.emuCall("CreateIndex", tcapi.IndexParams(tp.ID, fields)); err != "" {
		t.Fatal(err)
	}
	code, out, errs := f.run("apply", "--dry-run")
	if code != 0 || !strings.Contains(out, "plan 1: ModifyIndex") || !strings.Contains(out, "failed is text") || !strings.Contains(out, "message missing") {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errs)
	}
	n := len(f.writes())
	if code, out, errs := f.run("apply"); code != 0 || !slices.Equal(f.writes()[n:], []string{"CreateRole", "CreatePolicy", "AttachRolePolicy", "ModifyIndex", "CreateRule", "CreateTarget"}) {
		t.Fatalf("apply: exit %d, writes %v\n%s%s", code, f.writes()[n:], out, errs)
	}
	ix := f.emu.Index(tp.ID)
	keys := map[string]string{}
	for _, fl := range ix.Fields {
		keys[fl.Key] = fl.Type
	}
	if keys["mine"] != "text" || keys["failed"] != "long" || len(keys) != len(indexFields)+1 {
		t.Errorf("index fields %v", keys)
	}
	n = len(f.writes())
	if code, _, _ := f.run("apply"); code != 0 || len(f.writes()) != n {
		t.Errorf("second apply writes %v", f.writes()[n:])
	}
}

// TestIndexFieldsAreThoseOfTheDocs: docs/operating.md's index list and the
// fields apply writes are the same.
func TestIndexFieldsAreThoseOfTheDocs(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "operating.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i := strings.Index(doc, "**Index.**")
	j := strings.Index(doc[i:], "\n\n")
	para := doc[i : i+j]
	for _, f := range indexFields {
		if !strings.Contains(para, "`"+f.Key+"`") {
			t.Errorf("docs/operating.md's index lacks %s", f.Key)
		}
	}
	if n := strings.Count(para, "`"); n/2 != len(indexFields) {
		t.Errorf("docs/operating.md's index names %d fields, apply writes %d", n/2, len(indexFields))
	}
}

func signerCreds(env map[string]string) signer.Credentials {
	return signer.Credentials{SecretID: env["TENCENTCLOUD_SECRETID"], SecretKey: env["TENCENTCLOUD_SECRETKEY"], SessionToken: env["TENCENTCLOUD_SESSIONTOKEN"]}
}

// TestRoleIsLeastPrivilegeAndOthersAreLeftAlone: a role the user made
// (trusting SCF, with the user's own policy) gets wire's policy attached and
// is otherwise unchanged; the policy follows the settings; --delete removes
// only wire's policy.
func TestRoleIsLeastPrivilegeAndOthersAreLeftAlone(t *testing.T) {
	f := newWireFixture(t)
	users := f.emu.AddPolicy(tcemu.Policy{Name: "my-ci-policy", Description: "mine",
		Document: `{"version":"2.0","statement":[{"effect":"allow","action":"ci:*","resource":"*"}]}`})
	trust := `{"version":"2.0","statement":[{"action":"name/sts:AssumeRole","effect":"allow","principal":{"service":"scf.qcloud.com"}}]}`
	f.emu.AddRole(tcemu.Role{Name: "picbucket-execution", Document: trust, Description: "made by hand", Policies: []uint64{users.ID}})

	code, out, _ := f.run("check")
	if code != 1 || !strings.Contains(out, "✓ execution role picbucket-execution: exists, trusts scf.qcloud.com") ||
		!strings.Contains(out, "✗ execution role picbucket-execution's policies lack cos:GetService") {
		t.Errorf("check of the user's role: exit %d\n%s", code, out)
	}
	code, out, errs := f.run("apply")
	var camWrites []string
	for _, w := range f.writes() {
		if strings.Contains(w, "Role") || strings.Contains(w, "Policy") {
			camWrites = append(camWrites, w)
		}
	}
	if code != 0 || !slices.Equal(camWrites, []string{"CreatePolicy", "AttachRolePolicy"}) {
		t.Fatalf("apply: exit %d, CAM writes %v\n%s%s", code, camWrites, out, errs)
	}
	roles := f.emu.Roles()
	if len(roles) != 1 || roles[0].Document != trust || roles[0].Description != "made by hand" || len(roles[0].Policies) != 2 {
		t.Errorf("the user's role changed: %+v", roles)
	}
	var ours tcemu.Policy
	for _, p := range f.emu.Policies() {
		if p.Name == "picbucket-execution-policy" {
			ours = p
		}
	}
	for _, want := range []string{`"ci:CreatePicProcessBucket"`, `"qcs::ci::uid/` + wireAppID + `:bucket/*"`, `"cos:GetService"`} {
		if !strings.Contains(ours.Document, want) {
			t.Errorf("policy lacks %s: %s", want, ours.Document)
		}
	}
	for _, unwanted := range []string{"cos:GetBucketTagging", "sts:AssumeRole", "organization:", "scf:InvokeFunction"} {
		if strings.Contains(ours.Document, unwanted) {
			t.Errorf("policy grants %s, which the settings do not need: %s", unwanted, ours.Document)
		}
	}

	// A tag setting and organization mode widen it, once.
	text := strings.Replace(f.text, `PICBUCKET_SKIP_TAG: ""`, `PICBUCKET_SKIP_TAG: "picbucket=off"`+"\n      PICBUCKET_ACCOUNTS: \"org\"", 1)
	f.write(strings.Replace(text, `PICBUCKET_SERVICES: ""`, `PICBUCKET_SERVICES: "pic,media"`, 1))
	n := len(f.writes())
	if code, out, errs := f.run("apply"); code != 0 || !slices.Contains(f.writes()[n:], "UpdatePolicy") {
		t.Fatalf("apply after the settings changed: exit %d, writes %v\n%s%s", code, f.writes()[n:], out, errs)
	}
	for _, p := range f.emu.Policies() {
		if p.Name == "picbucket-execution-policy" {
			for _, want := range []string{"cos:GetBucketTagging", `"qcs::cam::uin/*:roleName/OrganizationAccessControlRole"`,
				`"ci:CreatePicProcessBucket","ci:CreateMediaBucket"`, `"ci:DescribeMediaBuckets"`,
				`"organization:DescribeOrganizationMembers"`, `"qcs::scf:ap-guangzhou:uin/` + wireUINStr + `:namespace/default/function/picbucket"`} {
				if !strings.Contains(p.Document, want) {
					t.Errorf("organization policy lacks %s: %s", want, p.Document)
				}
			}
		}
	}
	n = len(f.writes())
	if code, _, _ := f.run("apply"); code != 0 || slices.ContainsFunc(f.writes()[n:], func(w string) bool { return strings.Contains(w, "Polic") || strings.Contains(w, "Role") }) {
		t.Errorf("second apply: CAM writes %v", f.writes()[n:])
	}

	// --delete: wire's policy goes, the user's role and policy stay.
	if code, out, errs := f.run("apply", "--delete"); code != 0 || !strings.Contains(out, "kept: role picbucket-execution was not made by wire") {
		t.Fatalf("apply --delete: exit %d\n%s%s", code, out, errs)
	}
	if ps := f.emu.Policies(); len(ps) != 1 || ps[0].ID != users.ID {
		t.Errorf("policies after --delete: %+v", ps)
	}
	if rs := f.emu.Roles(); len(rs) != 1 || !slices.Equal(rs[0].Policies, []uint64{users.ID}) {
		t.Errorf("roles after --delete: %+v", rs)
	}
}

// TestForeignPolicyNameAndUntrustingRole: a policy of wire's name that wire
// did not make is not changed nor attached; a role that does not trust SCF
// is named by check and not changed by apply.
func TestForeignPolicyNameAndUntrustingRole(t *testing.T) {
	f := newWireFixture(t)
	foreign := f.emu.AddPolicy(tcemu.Policy{Name: "picbucket-execution-policy", Description: "someone else's",
		Document: `{"version":"2.0","statement":[{"effect":"allow","action":["cvm:*"],"resource":["*"]}]}`})
	untrusting := `{"version":"2.0","statement":[{"action":"name/sts:AssumeRole","effect":"allow","principal":{"qcs":["qcs::cam::uin/1:root"]}}]}`
	f.emu.AddRole(tcemu.Role{Name: "picbucket-execution", Document: untrusting})
	code, out, _ := f.run("check")
	if code != 1 || !strings.Contains(out, "✗ execution role picbucket-execution: does not trust scf.qcloud.com") {
		t.Errorf("check: exit %d\n%s", code, out)
	}
	code, out, errs := f.run("apply")
	if code != 0 || !strings.Contains(out, "was not made by wire: left alone and not attached") || !strings.Contains(out, "does not trust scf.qcloud.com: not changed") {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
	}
	for _, w := range f.writes() {
		if strings.Contains(w, "Polic") || strings.Contains(w, "Role") {
			t.Errorf("apply wrote %s", w)
		}
	}
	if ps := f.emu.Policies(); len(ps) != 1 || ps[0] != foreign {
		t.Errorf("policies %+v", ps)
	}
}

// TestCheckReadsTheFunctionsLines: no timer summary in two hours, and the
// buckets that failed in the last day, are ✗ lines naming them.
func TestCheckReadsTheFunctionsLines(t *testing.T) {
	f := newWireFixture(t)
	if code, out, errs := f.run("apply", "--notice", "notice-none"); code != 1 || !strings.Contains(errs, "ResourceNotFound.AlarmNoticeNotExist") {
		t.Fatalf("apply with a notice group that does not exist: exit %d\n%s%s", code, out, errs)
	}
	if code, out, errs := f.run("apply", "--wecom", webhook); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
	}
	if code, out, _ := f.run("check"); code != 1 || !strings.Contains(out, "✗ the last timer run: no summary line in the last 2 hours") {
		t.Errorf("check without a run: exit %d\n%s", code, out)
	}
	f.nameLogTopic()
	code, out, _ := f.run("check")
	if code != 0 || !strings.Contains(out, "✓ the last timer run, 20m0s ago: 6 buckets, 0 enabled, 2 already, 4 would enable (dry run true)") ||
		!strings.Contains(out, "✓ no bucket failed in the last day") {
		t.Errorf("check: exit %d\n%s", code, out)
	}
	var topic string
	for _, tp := range f.emu.Topics() {
		if tp.Name == LogTopic {
			topic = tp.ID
		}
	}
	for _, b := range []string{"b-1250000000", "a-1250000000", "b-1250000000"} {
		f.emu.AddLog(topic, tcemu.LogLine{Time: time.Now().Add(-time.Hour), JSON: `{"bucket":"` + b + `","outcome":"failed","code":"InvalidArgument","message":"bucket"}`})
	}
	f.emu.AddLog(topic, tcemu.LogLine{Time: time.Now().Add(-25 * time.Hour), JSON: `{"bucket":"old-1250000000","outcome":"failed","code":"X","message":"bucket"}`})
	code, out, _ = f.run("check")
	if code != 1 || !strings.Contains(out, "✗ 2 buckets failed in the last day: a-1250000000 (InvalidArgument), b-1250000000 (InvalidArgument)") {
		t.Errorf("check with failures: exit %d\n%s", code, out)
	}
}

// TestAlarms: the three alarms on the log topic, notifying a WeCom robot
// whose key is never printed; a second apply writes nothing; another
// channel modifies the group; bad channels cost no request; --delete
// removes the alarms and the group.
func TestAlarms(t *testing.T) {
	for _, tc := range []struct{ args []string }{
		{[]string{"--wecom", "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k"}},
		{[]string{"--wecom", "qyapi.weixin.qq.com/send"}},
		{[]string{"--notice", "my group"}},
		{[]string{"--notify-uin", "12ab"}},
		{[]string{"--notice", "notice-1", "--notify-uin", "100012345679"}},
	} {
		f := newWireFixture(t)
		code, out, errs := f.run(append([]string{"apply"}, tc.args...)...)
		if code != 2 || len(f.emu.Calls()) != 0 {
			t.Errorf("apply %v: exit %d, %d calls\n%s%s", tc.args, code, len(f.emu.Calls()), out, errs)
		}
	}

	f := newWireFixture(t)
	code, out, errs := f.run("apply", "--dry-run", "--wecom", webhook)
	if code != 0 || len(f.writes()) != 0 || !strings.Contains(out, `"Url":"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?(redacted)"`) {
		t.Fatalf("dry run: exit %d, writes %v\n%s%s", code, f.writes(), out, errs)
	}
	if code, out, errs := f.run("apply", "--wecom", webhook); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
	}
	ns, as := f.emu.Notices(), f.emu.Alarms()
	if len(ns) != 1 || len(as) != 3 {
		t.Fatalf("notices %d, alarms %d", len(ns), len(as))
	}
	for _, a := range as {
		if ids := a.Params["AlarmNoticeIds"].([]any); len(ids) != 1 || ids[0] != ns[0].ID {
			t.Errorf("alarm %s notifies %v, want %s", a.Name, ids, ns[0].ID)
		}
	}
	n := len(f.writes())
	if code, _, _ := f.run("apply", "--wecom", webhook); code != 0 || len(f.writes()) != n {
		t.Errorf("second apply writes %v", f.writes()[n:])
	}
	// Without a channel, the alarms keep theirs.
	if code, _, _ := f.run("apply"); code != 0 || len(f.writes()) != n {
		t.Errorf("apply without a channel writes %v", f.writes()[n:])
	}
	if code, _, _ := f.run("apply", "--notify-uin", "100012345679"); code != 0 || !slices.Equal(f.writes()[n:], []string{"ModifyAlarmNotice"}) {
		t.Errorf("another channel: writes %v", f.writes()[n:])
	}
	if code, out, errs := f.run("apply", "--delete"); code != 0 || len(f.emu.Alarms()) != 0 || len(f.emu.Notices()) != 0 {
		t.Errorf("--delete: exit %d, alarms %d, notices %d\n%s%s", code, len(f.emu.Alarms()), len(f.emu.Notices()), out, errs)
	} else if strings.Contains(out, "deploy again") {
		// serverless.yml does not name the kept topic here: --delete
		// still asks for no deploy.
		t.Errorf("--delete tells the user to deploy again:\n%s", out)
	}
}

// TestApplyCreateAnswered5xxLeavesNoDuplicate: each create, answered 502 by a
// proxy after the emulator made it, is found by the next read; apply ends
// with one of each thing, and says it read again.
func TestApplyCreateAnswered5xxLeavesNoDuplicate(t *testing.T) {
	for _, action := range []string{"CreateRole", "CreatePolicy", "AttachRolePolicy", "CreateLogset", "CreateTopic", "CreateIndex", "CreateAlarmNotice", "CreateAlarm", "CreateAuditTrack", "CreateDeliverCloudFunction", "CreateRule", "CreateTarget"} {
		t.Run(action, func(t *testing.T) {
			f := newWireFixture(t)
			target, _ := url.Parse(f.url)
			failed := false
			front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("X-TC-Action") == action && !failed {
					failed = true
					rec := httptest.NewRecorder()
					httputil.NewSingleHostReverseProxy(target).ServeHTTP(rec, r) // it takes effect
					w.WriteHeader(http.StatusBadGateway)
					io.WriteString(w, "<html>502 Bad Gateway</html>")
					return
				}
				httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
			}))
			defer front.Close()
			f.url = front.URL
			code, out, errs := f.run("apply", "--org", "--wecom", webhook)
			if code != 0 || !failed {
				t.Fatalf("exit %d (502 sent: %v)\n%s%s", code, failed, out, errs)
			}
			if action != "CreateRule" && action != "CreateTarget" && (!strings.Contains(out, "502") || !strings.Contains(out, "reading again before sending anything again")) {
				t.Errorf("the retry is not reported:\n%s", out)
			}
			if strings.Contains(out+errs, "Bad Gateway") {
				t.Errorf("the proxy's page is quoted:\n%s%s", out, errs)
			}
			counts := map[string]int{}
			for _, c := range f.emu.Calls() {
				if c.ErrorCode == "" && strings.HasPrefix(c.Action, "Create") {
					counts[c.Action]++
				}
			}
			rules := f.emu.EventBridge().Rules("eb-svc00001")
			if len(rules) == 1 && len(f.emu.EventBridge().Targets(rules[0].ID)) != 1 {
				t.Errorf("after a 502 on %s: %d targets", action, len(f.emu.EventBridge().Targets(rules[0].ID)))
			}
			var indexes int
			for _, c := range f.emu.Calls() {
				if c.ErrorCode == "" && (c.Action == "CreateIndex" || c.Action == "ModifyIndex") {
					indexes++
				}
			}
			if indexes != 1 {
				t.Errorf("after a 502 on %s: the index written %d times", action, indexes)
			}
			if len(f.emu.Roles()) != 1 || len(f.emu.Policies()) != 1 || len(f.emu.Logsets()) != 1 || len(f.emu.Topics()) != 2 ||
				len(f.emu.Notices()) != 1 || len(f.emu.Alarms()) != 3 || len(f.emu.Tracks()) != 1 || len(f.emu.EventBridge().Rules("eb-svc00001")) != 1 {
				t.Errorf("after a 502 on %s: roles %d, policies %d, logsets %d, topics %d, notices %d, alarms %d, tracks %d, rules %d (creates %v)",
					action, len(f.emu.Roles()), len(f.emu.Policies()), len(f.emu.Logsets()), len(f.emu.Topics()), len(f.emu.Notices()),
					len(f.emu.Alarms()), len(f.emu.Tracks()), len(f.emu.EventBridge().Rules("eb-svc00001")), counts)
			}
		})
	}
}

// TestAnErrorEchoingTheWebhookKeepsItsKey: an API error whose message quotes
// the request's WebCallbacks Url (as API 3.0 messages quote a parameter's
// value) prints neither the robot's key nor the query that holds it.
func TestAnErrorEchoingTheWebhookKeepsItsKey(t *testing.T) {
	f := newWireFixture(t)
	target, _ := url.Parse(f.url)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-TC-Action") == "CreateAlarmNotice" {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"Response":{"Error":{"Code":"InvalidParameter","Message":"WebCallbacks[0].Url %s is not reachable"},"RequestId":"r-1"}}`, webhook)
			return
		}
		httputil.NewSingleHostReverseProxy(target).ServeHTTP(w, r)
	}))
	defer front.Close()
	f.url = front.URL
	code, out, errs := f.run("apply", "--wecom", webhook) // run fails the test on the key
	if code == 0 || !strings.Contains(errs, "is not reachable") {
		t.Errorf("exit %d: the refusal is not reported\n%s%s", code, out, errs)
	}
}

// TestSearchedKeysAreIndexed: SCF parses a function's single-line JSON
// output into top-level CLS fields, "only the first layer" (Tencent's Go log
// page, https://www.tencentcloud.com/document/product/583/18032, "Custom Log
// Fields"; tencentyun/intlcloud-documents), so the index names the line's own
// keys; and a key-value search finds a line only through a key the index
// holds (the emulator refuses the others, as CLS does). check and canary,
// after apply, find the lines they search for by every key they name.
func TestSearchedKeysAreIndexed(t *testing.T) {
	f := newWireFixture(t)
	if code, out, errs := f.run("apply", "--wecom", webhook); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
	}
	var topic string
	for _, tp := range f.emu.Topics() {
		if tp.Name == LogTopic {
			topic = tp.ID
		}
	}
	f.nameLogTopic()
	f.emu.AddLog(topic, tcemu.LogLine{Time: time.Now().Add(-10 * time.Minute),
		JSON: `{"level":"info","scfRequestId":"r2","trigger":"timer","dryRun":false,"buckets":7,"enabled":1,"already_enabled":6,"message":"summary"}`})
	if code, out, _ := f.run("check"); !strings.Contains(out, "✓ the last timer run, 10m0s ago: 7 buckets, 1 enabled") {
		t.Errorf("check does not find the summary through the index apply wrote: exit %d\n%s", code, out)
	}
	for _, key := range []string{"scfRequestId", "message", "outcome", "trigger", "service"} {
		if !slices.ContainsFunc(indexFields, func(fl tcapi.IndexField) bool { return fl.Key == key }) {
			t.Errorf("the index lacks %s, which the function's lines carry and wire searches", key)
		}
	}
}

// TestUsersAlarmOfTheSameNameIsLeftAlone: an alarm and a notice group the
// user made, named as wire names its own, are neither modified by apply
// nor deleted by --delete; wire says so.
func TestUsersAlarmOfTheSameNameIsLeftAlone(t *testing.T) {
	f := newWireFixture(t)
	ls := f.emu.AddLogset(tcemu.Logset{Uin: wireUIN, Region: "ap-guangzhou", Name: LogLogset})
	tp := f.emu.AddTopic(tcemu.Topic{Uin: wireUIN, Region: "ap-guangzhou", Name: LogTopic, LogsetID: ls.ID})
	if _, err := f.emuCall("CreateAlarmNotice", map[string]any{"Name": noticeName, "Type": "Trigger",
		"WebCallbacks": []map[string]any{{"CallbackType": "Http", "Method": "POST", "Url": "https://hooks.example.com/mine"}}}); err != "" {
		t.Fatal(err)
	}
	mine := f.emu.Notices()[0].ID
	if _, err := f.emuCall("CreateAlarm", map[string]any{"Name": "picbucket-failures", "Condition": "$1.n > 5", "TriggerCount": 1, "AlarmPeriod": 10,
		"MonitorTime": map[string]any{"Type": "Period", "Time": 5}, "AlarmNoticeIds": []string{mine}, "Status": true,
		"AlarmTargets": []map[string]any{{"TopicId": tp.ID, "LogsetId": ls.ID, "Query": "* | SELECT count(*) AS n", "Number": 1, "StartTimeOffset": -5, "EndTimeOffset": 0}}}); err != "" {
		t.Fatal(err)
	}
	before := f.emu.Alarms()[0]
	code, out, errs := f.run("apply", "--wecom", webhook)
	if code != 0 || slices.Contains(f.writes(), "ModifyAlarm") || slices.Contains(f.writes(), "ModifyAlarmNotice") ||
		!strings.Contains(out, "picbucket-failures") || !strings.Contains(out, "not made by wire") {
		t.Errorf("apply: exit %d, writes %v\n%s%s", code, f.writes(), out, errs)
	}
	if code, out, _ := f.run("check"); code != 1 || !strings.Contains(out, "✗ alarms of wire's names not made by wire: picbucket-failures") {
		t.Errorf("check: exit %d\n%s", code, out)
	}
	code, out, errs = f.run("apply", "--delete")
	var kept bool
	for _, a := range f.emu.Alarms() {
		if a.ID == before.ID && a.Params["Condition"] == "$1.n > 5" {
			kept = true
		}
	}
	if code != 0 || !kept || len(f.emu.Notices()) == 0 || f.emu.Notices()[0].ID != mine {
		t.Errorf("--delete: exit %d, the user's alarm kept %v, notices %+v\n%s%s", code, kept, f.emu.Notices(), out, errs)
	}
}

// TestDeleteDryRunWritesNothing: apply --delete --dry-run prints the
// deletions and sends none; check --org on the wired account writes
// nothing either.
func TestDeleteDryRunWritesNothing(t *testing.T) {
	f := newWireFixture(t)
	if code, out, errs := f.run("apply", "--org", "--wecom", webhook); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
	}
	n := len(f.writes())
	code, out, errs := f.run("apply", "--org", "--delete", "--dry-run")
	if code != 0 || len(f.writes()) != n || !strings.Contains(out, "DeleteAlarm") {
		t.Errorf("apply --delete --dry-run: exit %d, writes %v\n%s%s", code, f.writes()[n:], out, errs)
	}
	f.run("check", "--org")
	if len(f.writes()) != n {
		t.Errorf("check --org writes %v", f.writes()[n:])
	}
}

// TestIndexKeepsTheUsersRule: apply's ModifyIndex keeps what it does not
// manage: the full-text index, another field's tokenizer, and the topic's
// IncludeInternalFields.
func TestIndexKeepsTheUsersRule(t *testing.T) {
	f := newWireFixture(t)
	ls := f.emu.AddLogset(tcemu.Logset{Uin: wireUIN, Region: "ap-guangzhou", Name: LogLogset})
	tp := f.emu.AddTopic(tcemu.Topic{Uin: wireUIN, Region: "ap-guangzhou", Name: LogTopic, LogsetID: ls.ID})
	fullText := map[string]any{"CaseSensitive": false, "Tokenizer": "@&()='\",;:<>[]{}/ \n\t\r", "ContainZH": false}
	if _, err := f.emuCall("CreateIndex", map[string]any{"TopicId": tp.ID, "Status": true, "IncludeInternalFields": true,
		"Rule": map[string]any{"FullText": fullText, "KeyValue": map[string]any{"CaseSensitive": false, "KeyValues": []map[string]any{
			{"Key": "mine", "Value": map[string]any{"Type": "text", "Tokenizer": ",", "SqlFlag": false, "ContainZH": false}}}}}}); err != "" {
		t.Fatal(err)
	}
	if code, out, errs := f.run("apply"); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
	}
	ix := f.emu.Index(tp.ID)
	if !reflect.DeepEqual(ix.Rule["FullText"], fullText) || ix.Extra["IncludeInternalFields"] != true {
		t.Errorf("the full-text index or IncludeInternalFields changed: %v, %v", ix.Rule["FullText"], ix.Extra)
	}
	kv, _ := ix.Rule["KeyValue"].(map[string]any)
	var mine any
	for _, e := range kv["KeyValues"].([]any) {
		if m := e.(map[string]any); m["Key"] == "mine" {
			mine = m["Value"]
		}
	}
	if v, _ := mine.(map[string]any); v == nil || v["Tokenizer"] != "," || kv["CaseSensitive"] != false {
		t.Errorf("the user's field or case sensitivity changed: %v, CaseSensitive %v", mine, kv["CaseSensitive"])
	}
	n := len(f.writes())
	if code, _, _ := f.run("apply"); code != 0 || len(f.writes()) != n {
		t.Errorf("second apply writes %v", f.writes()[n:])
	}
}

// TestHelpSaysWhatDeleteRemoves: the help of --delete names everything it
// removes, not only the EventBridge rule.
func TestHelpSaysWhatDeleteRemoves(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"apply", "-h"}} {
		var out, errb bytes.Buffer
		run(args, func(string) string { return "" }, &out, &errb)
		if s := out.String() + errb.String(); !strings.Contains(s, "alarms") || !strings.Contains(s, "policy") {
			t.Errorf("wire %v: --delete's help does not name the alarms and the policy:\n%s", args, s)
		}
	}
}

// TestDeleteKeepsANoticeGroupOthersUse: the user's own alarm notifies the
// notice group wire made; --delete removes wire's alarms, keeps the group
// (CLS refuses to delete a group an alarm uses) and says so, and still
// removes the EventBridge rule.
func TestDeleteKeepsANoticeGroupOthersUse(t *testing.T) {
	f := newWireFixture(t)
	if code, out, errs := f.run("apply", "--wecom", webhook); code != 0 {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errs)
	}
	var tp, ls string
	for _, x := range f.emu.Topics() {
		if x.Name == LogTopic {
			tp, ls = x.ID, x.LogsetID
		}
	}
	group := f.emu.Notices()[0].ID
	if _, err := f.emuCall("CreateAlarm", map[string]any{"Name": "my-alarm", "Condition": "$1.n > 5", "TriggerCount": 1, "AlarmPeriod": 10,
		"MonitorTime": map[string]any{"Type": "Period", "Time": 5}, "AlarmNoticeIds": []string{group}, "Status": true,
		"AlarmTargets": []map[string]any{{"TopicId": tp, "LogsetId": ls, "Query": "* | SELECT count(*) AS n", "Number": 1, "StartTimeOffset": -5, "EndTimeOffset": 0}}}); err != "" {
		t.Fatal(err)
	}
	code, out, errs := f.run("apply", "--delete")
	if code != 0 || len(f.emu.Alarms()) != 1 || f.emu.Alarms()[0].Name != "my-alarm" || len(f.emu.Notices()) != 1 ||
		len(f.emu.EventBridge().Rules("eb-svc00001")) != 0 || !strings.Contains(out, "kept: notice group") {
		t.Errorf("--delete: exit %d, alarms %d, notices %d, rules %d\n%s%s", code, len(f.emu.Alarms()), len(f.emu.Notices()),
			len(f.emu.EventBridge().Rules("eb-svc00001")), out, errs)
	}
}

// TestGrantsReadsTencentsPolicyForms: a policy written as Tencent's COS and
// CAM documents write them ("name/cos:GetService", "name/ci:*", and the
// capitalized keys Terraform's examples use) grants those actions.
func TestGrantsReadsTencentsPolicyForms(t *testing.T) {
	for _, tc := range []struct {
		doc, action string
		want        bool
	}{
		{`{"version":"2.0","statement":[{"action":["name/cos:GetService"],"effect":"allow","resource":["*"]}]}`, "cos:GetService", true},
		{`{"version":"2.0","statement":[{"action":"name/ci:*","effect":"allow","resource":"*"}]}`, "ci:CreatePicProcessBucket", true},
		{`{"version":"2.0","Statement":[{"Action":["name/cos:GetBucketTagging"],"Effect":"Allow","Resource":["*"]}]}`, "cos:GetBucketTagging", true},
		{`{"version":"2.0","statement":[{"action":["cos:GetService"],"effect":"allow","resource":["*"]}]}`, "cos:GetService", true},
		{`{"version":"2.0","statement":[{"action":["name/cos:GetService"],"effect":"deny","resource":["*"]}]}`, "cos:GetService", false},
		{`{"version":"2.0","statement":[{"action":["name/cos:GetObject"],"effect":"allow","resource":["*"]}]}`, "cos:GetService", false},
	} {
		if got := grants(tc.doc, tc.action); got != tc.want {
			t.Errorf("grants(%s, %s) = %v, want %v", tc.doc, tc.action, got, tc.want)
		}
	}
}

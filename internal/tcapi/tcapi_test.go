package tcapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picbucket/picbucket/internal/retry"
	"github.com/picbucket/picbucket/internal/tcapi"
	"github.com/picbucket/picbucket/internal/tcapi/tcemu"
	"github.com/picbucket/picbucket/signer"
)

const (
	mgmtUin   = 100000000001
	mgmtAppID = "1250000001"
	region    = "ap-guangzhou"
)

// fast retries, so that tests do not wait.
var fast = retry.Policy{Attempts: 5, Base: time.Millisecond, Max: 4 * time.Millisecond}

type env struct {
	emu  *tcemu.Server
	srv  *httptest.Server
	url  *url.URL
	key  tcemu.Key // the management account's (the function's execution role)
	mgmt *tcapi.Client
}

func newEnv(t *testing.T, o tcemu.Options) *env {
	t.Helper()
	o.Management = tcemu.Account{Uin: mgmtUin, AppID: mgmtAppID}
	emu := tcemu.New(o)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	e := &env{emu: emu, srv: srv, url: u, key: emu.NewKey(o.Management)}
	e.mgmt = e.client(t, creds(e.key), nil)
	return e
}

func creds(k tcemu.Key) signer.Credentials {
	return signer.Credentials{SecretID: k.SecretID, SecretKey: k.SecretKey, SessionToken: k.Token}
}

func (e *env) client(t *testing.T, c signer.Credentials, rt http.RoundTripper) *tcapi.Client {
	t.Helper()
	cl, err := tcapi.New(c, tcapi.Options{Region: region, Endpoint: e.url, Timeout: 5 * time.Second, Transport: rt, Retry: fast})
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

func addMembers(emu *tcemu.Server, n int) {
	for i := 0; i < n; i++ {
		emu.AddMember(tcemu.Member{Uin: int64(200000000000 + i), AppID: fmt.Sprint(1300000000 + i)})
	}
}

func TestListMembersPages(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	addMembers(e.emu, 120)
	members, err := e.mgmt.ListMembers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(members) != 120 || members[0].Uin != 200000000000 || members[119].Uin != 200000000119 {
		t.Fatalf("got %d members: first %+v", len(members), members[0])
	}
	if members[5].MemberType != "Invite" || members[5].PermissionStatus != "Confirmed" || members[5].Name == "" {
		t.Errorf("member fields: %+v", members[5])
	}
	var offsets []string
	for _, c := range e.emu.Calls() {
		if c.Action != "DescribeOrganizationMembers" {
			continue
		}
		var p struct{ Offset, Limit int }
		if err := json.Unmarshal([]byte(c.Body), &p); err != nil {
			t.Fatal(err)
		}
		if p.Limit != 50 {
			t.Errorf("Limit = %d, want 50", p.Limit)
		}
		if c.Host != "organization.tencentcloudapi.com" || c.Region != "" || c.Version != "2021-03-31" {
			t.Errorf("call %+v: want Host organization.tencentcloudapi.com, no region, version 2021-03-31", c)
		}
		offsets = append(offsets, fmt.Sprint(p.Offset))
	}
	if strings.Join(offsets, ",") != "0,50,100" {
		t.Errorf("offsets = %v, want 3 pages: 0,50,100", offsets)
	}
}

func TestListMembersEdges(t *testing.T) {
	for _, n := range []int{0, 1, 50, 100} {
		e := newEnv(t, tcemu.Options{ListManagement: true})
		addMembers(e.emu, n)
		members, err := e.mgmt.ListMembers(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(members) != n+1 || members[0].Uin != mgmtUin {
			t.Errorf("%d members (+ management): got %d", n, len(members))
		}
		if want := (n+1)/50 + 1; e.emu.CallCount("DescribeOrganizationMembers") > want {
			t.Errorf("%d members: %d pages, want at most %d", n, e.emu.CallCount("DescribeOrganizationMembers"), want)
		}
	}
}

func TestListMembersRefusedToMember(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	addMembers(e.emu, 2)
	k := e.emu.NewKey(tcemu.Account{Uin: 200000000000, AppID: "1300000000"})
	_, err := e.client(t, creds(k), nil).ListMembers(context.Background())
	if tcapi.Code(err) != "AuthFailure.UnauthorizedOperation" {
		t.Fatalf("a member listing: %v", err)
	}
	stranger := e.emu.NewKey(tcemu.Account{Uin: 300000000000, AppID: "1400000000"})
	_, err = e.client(t, creds(stranger), nil).ListMembers(context.Background())
	if tcapi.Code(err) != "ResourceNotFound.OrganizationNotExist" {
		t.Fatalf("an account outside the organization: %v", err)
	}
}

func TestAssumeRoleThenGetUserAppID(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	addMembers(e.emu, 3)
	var hooked []tcemu.Key
	var mu sync.Mutex
	e.emu.OnIssue = func(k tcemu.Key) {
		mu.Lock()
		defer mu.Unlock()
		hooked = append(hooked, k)
	}
	before := time.Now()
	cred, exp, err := e.mgmt.AssumeRole(context.Background(), "200000000001", "", tcapi.SessionName("req-1"), 600*time.Second+300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if cred.SecretID == "" || cred.SecretKey == "" || cred.SessionToken == "" || cred.SecretID == e.key.SecretID {
		t.Fatalf("credentials %v", cred)
	}
	if d := exp.Sub(before); d < 599*time.Second || d > 601*time.Second {
		t.Errorf("expiry in %s, want about 600 s", d)
	}
	issued := e.emu.IssuedKeys()
	if len(issued) != 1 || len(hooked) != 1 || hooked[0].SecretID != cred.SecretID || hooked[0].SecretKey != cred.SecretKey ||
		hooked[0].Token != cred.SessionToken || hooked[0].AppID != "1300000001" || hooked[0].Uin != 200000000001 {
		t.Fatalf("issued %v, hooked %v", issued, hooked)
	}
	if issued[0].RoleArn != "qcs::cam::uin/200000000001:roleName/OrganizationAccessControlRole" || issued[0].SessionName != "picbucket-req-1" {
		t.Errorf("issued %v", issued[0])
	}
	var sent struct {
		RoleArn, RoleSessionName string
		DurationSeconds          int64
	}
	calls := e.emu.Calls()
	last := calls[len(calls)-1]
	if err := json.Unmarshal([]byte(last.Body), &sent); err != nil {
		t.Fatal(err)
	}
	if sent.DurationSeconds != 600 || last.Host != "sts.tencentcloudapi.com" || last.Region != region || last.Version != "2018-08-13" {
		t.Errorf("AssumeRole sent %+v to %+v", sent, last)
	}

	// The assumed key describes the member's account; the management key, its own.
	member := e.mgmt.With(cred)
	acct, err := member.GetUserAppID(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if acct.AppID != "1300000001" || acct.OwnerUin != "200000000001" || acct.Uin != "200000000001" {
		t.Errorf("member account %+v", acct)
	}
	own, err := e.mgmt.GetUserAppID(context.Background())
	if err != nil || own.AppID != mgmtAppID || own.OwnerUin != fmt.Sprint(mgmtUin) {
		t.Errorf("management account %+v, %v", own, err)
	}
	if c := e.emu.Calls(); c[len(c)-1].Host != "cam.tencentcloudapi.com" || c[len(c)-1].Region != "" {
		t.Errorf("GetUserAppId sent to %+v", c[len(c)-1])
	}
	// A member's key may not assume another member's role.
	_, _, err = member.AssumeRole(context.Background(), "200000000002", "", "picbucket-x", time.Minute)
	if !tcapi.IsRoleRefused(err) {
		t.Errorf("a member assuming a role: %v", err)
	}
	if member.Requests() != e.mgmt.Requests() || e.mgmt.Requests() != int64(len(e.emu.Calls())) {
		t.Errorf("Requests() = %d/%d, emulator saw %d", member.Requests(), e.mgmt.Requests(), len(e.emu.Calls()))
	}
}

func TestAssumeRoleRefusals(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	e.emu.AddMember(tcemu.Member{Uin: 200000000001, AppID: "1300000001", Refuse: "ResourceNotFound.RoleNotFound"})
	e.emu.AddMember(tcemu.Member{Uin: 200000000002, AppID: "1300000002", Refuse: "UnauthorizedOperation"})
	e.emu.AddMember(tcemu.Member{Uin: 200000000003, AppID: "1300000003", Roles: []string{"PicbucketRole"}})
	for _, tc := range []struct {
		uin, role, code string
	}{
		{"200000000001", "", "ResourceNotFound.RoleNotFound"},
		{"200000000002", "", "UnauthorizedOperation"},
		{"200000000003", "", "ResourceNotFound.RoleNotFound"},        // no OrganizationAccessControlRole
		{"200000000009", "", "InvalidParameter.AccountNotAvaliable"}, // not a member
	} {
		before := e.mgmt.Requests()
		_, _, err := e.mgmt.AssumeRole(context.Background(), tc.uin, tc.role, "picbucket-t", time.Minute)
		var ae *tcapi.APIError
		if !errors.As(err, &ae) || ae.Code != tc.code || ae.Service != "sts" || ae.Action != "AssumeRole" || ae.RequestID == "" {
			t.Errorf("%s: err = %v, want %s", tc.uin, err, tc.code)
			continue
		}
		if !tcapi.IsRoleRefused(err) || tcapi.IsThrottled(err) {
			t.Errorf("%s: IsRoleRefused %v IsThrottled %v", tc.uin, tcapi.IsRoleRefused(err), tcapi.IsThrottled(err))
		}
		if n := e.mgmt.Requests() - before; n != 1 {
			t.Errorf("%s: %d requests, want 1 (a refusal is not retried)", tc.uin, n)
		}
	}
	// The other role works.
	if _, _, err := e.mgmt.AssumeRole(context.Background(), "200000000003", "PicbucketRole", "picbucket-t", time.Minute); err != nil {
		t.Fatal(err)
	}
}

func TestAssumeRoleRefusesBadArguments(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	for _, tc := range []struct{ uin, role, session string }{
		{"", "", "picbucket-1"},
		{"12ab", "", "picbucket-1"},
		{"200000000001", "a/b", "picbucket-1"},
		{"200000000001", "", "x"},
		{"200000000001", "", "has space"},
		{"200000000001", "", strings.Repeat("a", 129)},
	} {
		_, _, err := e.mgmt.AssumeRole(context.Background(), tc.uin, tc.role, tc.session, time.Minute)
		if !errors.Is(err, tcapi.ErrInvalid) {
			t.Errorf("%+v: %v, want ErrInvalid", tc, err)
		}
	}
	if e.mgmt.Requests() != 0 {
		t.Errorf("%d requests sent for invalid arguments", e.mgmt.Requests())
	}
}

func TestSessionName(t *testing.T) {
	long := strings.Repeat("a", 200)
	for _, tc := range []struct{ id, want string }{
		{"", "picbucket"},
		{"3f2a9c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b", "picbucket-3f2a9c1e-8b7d-4e6f-9a0b-1c2d3e4f5a6b"},
		{"a b/c:d", "picbucket-a-b-c-d"},
		{"x+=,.@_-y", "picbucket-x+=,.@_-y"},
		{"日本", "picbucket"},
		{"id日本z", "picbucket-id--z"},
		{long, ("picbucket-" + long)[:128]},
	} {
		got := tcapi.SessionName(tc.id)
		if got != tc.want {
			t.Errorf("SessionName(%q) = %q, want %q", tc.id, got, tc.want)
		}
		if !tcapi.ValidSessionName(got) {
			t.Errorf("SessionName(%q) = %q is not valid", tc.id, got)
		}
	}
}

func TestDurationSeconds(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int64
	}{
		{-time.Hour, 1}, {0, 1}, {500 * time.Millisecond, 1}, {time.Second, 1},
		{90*time.Second + 900*time.Millisecond, 90}, {15 * time.Minute, 900}, {7200 * time.Second, 7200},
		{43200 * time.Second, 43200}, {50000 * time.Second, 43200}, {24 * time.Hour, 43200},
	} {
		if got := tcapi.DurationSeconds(tc.d); got != tc.want {
			t.Errorf("DurationSeconds(%s) = %d, want %d", tc.d, got, tc.want)
		}
	}
	// The emulator accepts both ends of the range.
	e := newEnv(t, tcemu.Options{})
	addMembers(e.emu, 1)
	for _, d := range []time.Duration{0, 48 * time.Hour} {
		if _, _, err := e.mgmt.AssumeRole(context.Background(), "200000000000", "", "picbucket-d", d); err != nil {
			t.Errorf("duration %s: %v", d, err)
		}
	}
}

func TestAssumedKeyExpires(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	e := newEnv(t, tcemu.Options{Now: clock})
	addMembers(e.emu, 1)
	cred, _, err := e.mgmt.AssumeRole(context.Background(), "200000000000", "", "picbucket-e", 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(2*time.Minute + time.Second)
	mu.Unlock()
	_, err = e.mgmt.With(cred).GetUserAppID(context.Background())
	if tcapi.Code(err) != "AuthFailure.TokenFailure" {
		t.Fatalf("an expired key: %v", err)
	}
}

func TestSignatureChecked(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	for name, c := range map[string]signer.Credentials{
		"AuthFailure.SignatureFailure": {SecretID: e.key.SecretID, SecretKey: "wrong", SessionToken: e.key.Token},
		"AuthFailure.TokenFailure":     {SecretID: e.key.SecretID, SecretKey: e.key.SecretKey, SessionToken: "wrong"},
		"AuthFailure.SecretIdNotFound": {SecretID: "AKIDunknown", SecretKey: "x", SessionToken: "y"},
	} {
		cl := e.client(t, c, nil)
		_, err := cl.GetUserAppID(context.Background())
		if tcapi.Code(err) != name || cl.Requests() != 1 {
			t.Errorf("want %s (not retried): %v after %d requests", name, err, cl.Requests())
		}
	}
}

func TestInvoke(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	var got []tcemu.Invocation
	e.emu.OnInvoke = func(inv tcemu.Invocation) { got = append(got, inv) }
	event := `{"account":{"uin":"200000000001","role":"OrganizationAccessControlRole"},"reconcile":{},"dryRun":true}`
	res, err := e.mgmt.Invoke(context.Background(), tcapi.InvokeInput{FunctionName: "picbucket", Qualifier: "$DEFAULT", Namespace: "ns1", ClientContext: event})
	if err != nil {
		t.Fatal(err)
	}
	if res.RequestID == "" || res.FunctionRequestID == "" {
		t.Errorf("result %+v", res)
	}
	want := tcemu.Invocation{Region: region, Namespace: "ns1", FunctionName: "picbucket", Qualifier: "$DEFAULT", InvocationType: "Event",
		ClientContext: event, CallerUin: mgmtUin, RequestID: res.RequestID, FunctionRequestID: res.FunctionRequestID}
	if len(got) != 1 || got[0] != want {
		t.Fatalf("OnInvoke got %+v\nwant %+v", got, want)
	}
	// Defaults, and the region override.
	if _, err := e.mgmt.Invoke(context.Background(), tcapi.InvokeInput{FunctionName: "picbucket", Region: "ap-shanghai", ClientContext: "{}"}); err != nil {
		t.Fatal(err)
	}
	invs := e.emu.TakeInvocations()
	if len(invs) != 2 || invs[1].Region != "ap-shanghai" || invs[1].Qualifier != "$LATEST" || invs[1].Namespace != "default" {
		t.Errorf("invocations %+v", invs)
	}
	if len(e.emu.Invocations()) != 0 {
		t.Errorf("TakeInvocations kept them")
	}
	if c := e.emu.Calls(); c[len(c)-1].Host != "scf.tencentcloudapi.com" || c[len(c)-1].Version != "2018-04-16" {
		t.Errorf("Invoke sent to %+v", c[len(c)-1])
	}
	// A declared set of functions: an unknown one is not found.
	e.emu.AddFunction(region, "default", "picbucket")
	_, err = e.mgmt.Invoke(context.Background(), tcapi.InvokeInput{FunctionName: "other", ClientContext: "{}"})
	if tcapi.Code(err) != "ResourceNotFound.Function" {
		t.Errorf("unknown function: %v", err)
	}
}

func TestInvokeEventSize(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	// Exactly 128 KB of JSON passes; one byte more is refused before sending.
	max := `"` + strings.Repeat("x", tcapi.MaxEventSize-2) + `"`
	if _, err := e.mgmt.Invoke(context.Background(), tcapi.InvokeInput{FunctionName: "picbucket", ClientContext: max}); err != nil {
		t.Fatalf("128 KB: %v", err)
	}
	before := e.mgmt.Requests()
	over := `"` + strings.Repeat("x", tcapi.MaxEventSize-1) + `"`
	_, err := e.mgmt.Invoke(context.Background(), tcapi.InvokeInput{FunctionName: "picbucket", ClientContext: over})
	if !errors.Is(err, tcapi.ErrInvalid) || !strings.Contains(err.Error(), "131073 bytes") {
		t.Errorf("128 KB + 1: %v", err)
	}
	for _, in := range []tcapi.InvokeInput{
		{FunctionName: "picbucket", ClientContext: "not json"},
		{FunctionName: "picbucket", ClientContext: ""},
		{FunctionName: "9lives", ClientContext: "{}"},
		{FunctionName: "trailing-", ClientContext: "{}"},
	} {
		if _, err := e.mgmt.Invoke(context.Background(), in); !errors.Is(err, tcapi.ErrInvalid) {
			t.Errorf("%+v: %v", in, err)
		}
	}
	if n := e.mgmt.Requests() - before; n != 0 {
		t.Errorf("%d requests sent for refused invocations", n)
	}
}

func TestEndpointRefused(t *testing.T) {
	c := signer.Credentials{SecretID: "AKIDx", SecretKey: "k"}
	for _, raw := range []string{
		"http://api.example.com:80", "http://8.8.8.8:80", "http://[2001:4860:4860::8888]:80", "http://169.254.1.1:80",
		"http://0.0.0.0:80", "https://127.0.0.1:9000", "http://127.0.0.1", "http://127.0.0.1:9000/path",
		"http://user:pw@127.0.0.1:9000", "http://host.invalid:9000",
	} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		_, err = tcapi.New(c, tcapi.Options{Region: region, Endpoint: u})
		if !errors.Is(err, tcapi.ErrInvalid) || !strings.Contains(err.Error(), "PICBUCKET_API_ENDPOINT") {
			t.Errorf("%s: %v", raw, err)
		}
		if err != nil && strings.Contains(err.Error(), "pw") {
			t.Errorf("%s: the error shows the password: %v", raw, err)
		}
	}
	for _, raw := range []string{"http://127.0.0.1:9000", "http://localhost:9000", "http://[::1]:9000", "http://10.1.2.3:80",
		"http://172.16.0.1:80", "http://192.168.1.1:80", "http://[fd00::1]:80", "http://127.0.0.1:9000/"} {
		u, _ := url.Parse(raw)
		if _, err := tcapi.New(c, tcapi.Options{Region: region, Endpoint: u}); err != nil {
			t.Errorf("%s: %v", raw, err)
		}
	}
	if _, err := tcapi.New(c, tcapi.Options{}); !errors.Is(err, tcapi.ErrInvalid) {
		t.Errorf("no region: %v", err)
	}
	for _, bad := range []signer.Credentials{{SecretKey: "k"}, {SecretID: "AKIDx", SessionToken: "secret-token"}} {
		_, err := tcapi.New(bad, tcapi.Options{Region: region})
		if !errors.Is(err, tcapi.ErrInvalid) || strings.Contains(err.Error(), "secret-token") {
			t.Errorf("%v: %v", bad, err)
		}
	}
}

func TestIntlRootDomain(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	cl, err := tcapi.New(creds(e.key), tcapi.Options{Region: region, Endpoint: e.url, RootDomain: tcapi.IntlRootDomain, Retry: fast})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.GetUserAppID(context.Background()); err != nil {
		t.Fatal(err)
	}
	if c := e.emu.Calls(); c[0].Host != "cam.intl.tencentcloudapi.com" {
		t.Errorf("Host %s", c[0].Host)
	}
}

func TestThrottlingRetried(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	addMembers(e.emu, 1)
	e.emu.Throttle("AssumeRole", 2)
	if _, _, err := e.mgmt.AssumeRole(context.Background(), "200000000000", "", "picbucket-t", time.Minute); err != nil {
		t.Fatalf("after 2 throttled answers: %v", err)
	}
	if n := e.emu.CallCount("AssumeRole"); n != 3 {
		t.Errorf("%d AssumeRole requests, want 3", n)
	}

	// Bounded: 5 attempts, then the throttle is the error.
	e.emu.Throttle("", 100)
	before := e.mgmt.Requests()
	_, err := e.mgmt.ListMembers(context.Background())
	if !tcapi.IsThrottled(err) || tcapi.IsRoleRefused(err) {
		t.Fatalf("throttled throughout: %v", err)
	}
	if n := e.mgmt.Requests() - before; n != 5 {
		t.Errorf("%d attempts, want 5", n)
	}
}

// TestListMemberPagesStreams: each page's members reach the caller before
// the next page is asked for.
func TestListMemberPagesStreams(t *testing.T) {
	e := newEnv(t, tcemu.Options{ListManagement: true})
	addMembers(e.emu, 120)
	var got []int // members handed per page
	var callsBefore []int
	err := e.mgmt.ListMemberPages(context.Background(), func(page []tcapi.Member) {
		got = append(got, len(page))
		callsBefore = append(callsBefore, e.emu.CallCount("DescribeOrganizationMembers"))
	})
	if err != nil {
		t.Fatal(err)
	}
	// 121 listed (the management account first): pages of 50, 50, 21.
	if fmt.Sprint(got) != "[50 50 21]" || fmt.Sprint(callsBefore) != "[1 2 3]" {
		t.Errorf("pages of %v handed after %v requests; want [50 50 21] after [1 2 3]", got, callsBefore)
	}
}

// TestPassThrottles: a throttled answer is the error at once, after one
// request; the client it derives from still retries it.
func TestPassThrottles(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	e.emu.Throttle("Invoke", 1)
	in := tcapi.InvokeInput{FunctionName: "picbucket", ClientContext: "{}"}
	if _, err := e.mgmt.PassThrottles().Invoke(context.Background(), in); !tcapi.IsThrottled(err) {
		t.Fatalf("err = %v, want the throttle", err)
	}
	if n := e.emu.CallCount("Invoke"); n != 1 {
		t.Errorf("%d Invoke requests, want 1", n)
	}
	e.emu.Throttle("Invoke", 1)
	if _, err := e.mgmt.Invoke(context.Background(), in); err != nil {
		t.Fatalf("the original client: %v, want the throttle retried", err)
	}
	if n := e.emu.CallCount("Invoke"); n != 3 {
		t.Errorf("%d Invoke requests, want 3", n)
	}
}

func TestRetriesStopAtDeadline(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	e.emu.Throttle("", 100)
	// A wait of 10 minutes would end past the 1 minute left: the loop
	// returns the throttle at once instead of waiting. Had it begun the
	// wait, the context would have ended first: ctx.Err tells, whatever the
	// machine's speed.
	slow, err := tcapi.New(creds(e.key), tcapi.Options{Region: region, Endpoint: e.url,
		Retry: retry.Policy{Attempts: 5, Base: 10 * time.Minute, Max: 10 * time.Minute, Jitter: func() float64 { return 0.99 }}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = slow.GetUserAppID(ctx)
	if !tcapi.IsThrottled(err) || ctx.Err() != nil || slow.Requests() != 1 {
		t.Errorf("err %v (context: %v) after %d requests: want the throttle at once, no wait past the deadline", err, ctx.Err(), slow.Requests())
	}

	// Latency past the deadline: the context's error, not a hang.
	e = newEnv(t, tcemu.Options{Latency: time.Second})
	ctx2, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	_, err = e.mgmt.GetUserAppID(ctx2)
	if !errors.Is(err, context.DeadlineExceeded) || e.mgmt.Requests() != 1 {
		t.Errorf("latency past the deadline: %v after %d requests", err, e.mgmt.Requests())
	}
}

func TestQPS(t *testing.T) {
	e := newEnv(t, tcemu.Options{QPS: 2})
	cl, _ := tcapi.New(creds(e.key), tcapi.Options{Region: region, Endpoint: e.url, Retry: retry.Policy{Attempts: 1}})
	var throttled int
	for i := 0; i < 4; i++ {
		if _, err := cl.GetUserAppID(context.Background()); tcapi.IsThrottled(err) {
			throttled++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if throttled < 1 {
		t.Errorf("4 calls at QPS 2: %d throttled", throttled)
	}
}

// flaky answers the first n requests itself (status, body), then passes on.
type flaky struct {
	mu     sync.Mutex
	n      int
	status int
	body   string
	err    error
	next   http.RoundTripper
}

func (f *flaky) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	hit := f.n > 0
	f.n--
	f.mu.Unlock()
	if !hit {
		return f.next.RoundTrip(r)
	}
	if f.err != nil {
		return nil, f.err
	}
	return &http.Response{StatusCode: f.status, Status: fmt.Sprintf("%d %s", f.status, http.StatusText(f.status)),
		Header: http.Header{"Content-Type": {"text/html"}}, Body: io.NopCloser(strings.NewReader(f.body)), Request: r}, nil
}

func TestTransportErrorsAnd5xxRetried(t *testing.T) {
	for name, f := range map[string]*flaky{
		"502 html":     {n: 2, status: 502, body: "<html>bad gateway</html>"},
		"503 envelope": {n: 2, status: 503, body: `{"Response":{"Error":{"Code":"InternalError","Message":"x"},"RequestId":"r"}}`},
		"transport":    {n: 2, err: errors.New("connection reset by peer")},
	} {
		e := newEnv(t, tcemu.Options{})
		f.next = http.DefaultTransport
		cl := e.client(t, creds(e.key), f)
		acct, err := cl.GetUserAppID(context.Background())
		if err != nil || acct.AppID != mgmtAppID {
			t.Errorf("%s: %+v, %v", name, acct, err)
		}
		if cl.Requests() != 3 {
			t.Errorf("%s: %d requests, want 3", name, cl.Requests())
		}
	}
	// A 4xx that is not an envelope is not retried.
	e := newEnv(t, tcemu.Options{})
	f := &flaky{n: 10, status: 403, body: "forbidden", next: http.DefaultTransport}
	cl := e.client(t, creds(e.key), f)
	if _, err := cl.GetUserAppID(context.Background()); err == nil || cl.Requests() != 1 {
		t.Errorf("403: %v after %d requests", err, cl.Requests())
	}
}

// TestSecretsNeverShown: no secret key, token or Authorization header in any
// error text or String.
func TestSecretsNeverShown(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	addMembers(e.emu, 1)
	e.emu.AddMember(tcemu.Member{Uin: 200000000009, AppID: "1300000009", Refuse: "UnauthorizedOperation"})
	var texts []string
	var secrets []string
	secrets = append(secrets, e.key.SecretKey, e.key.Token)

	cred, _, err := e.mgmt.AssumeRole(context.Background(), "200000000000", "", "picbucket-s", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, cred.SecretKey, cred.SessionToken)
	texts = append(texts, cred.String(), cred.GoString(), fmt.Sprintf("%v %+v %#v %s %d %x %X %q", cred, cred, cred, cred, cred, cred, cred, cred),
		fmt.Sprintf("%v %+v %#v %s %d %x %q", &cred, &cred, &cred, &cred, &cred, &cred, &cred), fmt.Sprintf("%v %+v", []signer.Credentials{cred}, struct{ C signer.Credentials }{cred}))
	for _, k := range e.emu.IssuedKeys() {
		texts = append(texts, fmt.Sprintf("%v %+v %#v %s", k, k, k, k))
	}
	_, _, err = e.mgmt.AssumeRole(context.Background(), "200000000009", "", "picbucket-s", time.Minute)
	texts = append(texts, fmt.Sprint(err))
	// Wrong secret key, wrong token, expired key.
	for _, c := range []signer.Credentials{
		{SecretID: e.key.SecretID, SecretKey: "wrong-" + e.key.SecretKey, SessionToken: e.key.Token},
		{SecretID: e.key.SecretID, SecretKey: e.key.SecretKey, SessionToken: "wrong-" + e.key.Token},
	} {
		_, err := e.client(t, c, nil).GetUserAppID(context.Background())
		texts = append(texts, fmt.Sprint(err))
	}
	e.emu.ExpireKey(cred.SecretID)
	_, err = e.mgmt.With(cred).GetUserAppID(context.Background())
	texts = append(texts, fmt.Sprint(err))
	// Malformed answers holding a key: an HTML 502, broken JSON, a 403.
	for _, f := range []*flaky{
		{n: 10, status: 502, body: "<p>" + cred.SecretKey + " " + cred.SessionToken + "</p>"},
		{n: 10, status: 200, body: `{"Response":{"Credentials":{"TmpSecretKey":"` + cred.SecretKey + `","Token":"` + cred.SessionToken + `"`},
		{n: 10, status: 403, body: cred.SecretKey + cred.SessionToken},
	} {
		f.next = http.DefaultTransport
		_, _, err := e.client(t, creds(e.key), f).AssumeRole(context.Background(), "200000000000", "", "picbucket-s", time.Minute)
		if err == nil {
			t.Fatal("a malformed answer was accepted")
		}
		texts = append(texts, err.Error(), fmt.Sprintf("%+v %#v", err, err))
	}
	// An error message quoting a URL parameter whose query holds a key.
	const hookKey = "robot-key-0f3a"
	secrets = append(secrets, hookKey)
	f := &flaky{n: 10, status: 200, next: http.DefaultTransport,
		body: `{"Response":{"Error":{"Code":"InvalidParameter","Message":"WebCallbacks.Url https://hooks.example.com/send?key=` + hookKey + ` is invalid"},"RequestId":"r-1"}}`}
	err = e.client(t, creds(e.key), f).Call(context.Background(), "cls", "2020-10-16", "CreateAlarmNotice", map[string]any{}, nil)
	if err == nil || !strings.Contains(err.Error(), "https://hooks.example.com/send?(redacted) is invalid") {
		t.Errorf("a URL in a message: %v", err)
	}
	texts = append(texts, fmt.Sprint(err))
	// A transport error.
	dead := httptest.NewServer(http.NotFoundHandler())
	du, _ := url.Parse(dead.URL)
	dead.Close()
	cl, _ := tcapi.New(creds(e.key), tcapi.Options{Region: region, Endpoint: du, Retry: retry.Policy{Attempts: 1}})
	_, err = cl.GetUserAppID(context.Background())
	texts = append(texts, fmt.Sprint(err))

	for _, text := range texts {
		for _, s := range secrets {
			if s != "" && strings.Contains(text, s) {
				t.Errorf("a secret shows in %q", text)
			}
		}
		if strings.Contains(text, "TC3-HMAC-SHA256 Credential") || strings.Contains(text, "Signature=") {
			t.Errorf("an Authorization header shows in %q", text)
		}
	}
}

// TestCall: the generic sender reaches any service and action in the
// client's region, decodes the Response object, retries a throttled answer,
// and fails with an *APIError carrying the answer's code.
func TestCall(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	e.emu.AddFunction(region, "default", "picbucket")
	e.emu.Throttle("ListTriggers", 1)
	var out struct {
		Triggers   []json.RawMessage
		TotalCount int
		RequestId  string
	}
	params := map[string]any{"FunctionName": "picbucket", "Namespace": "default"}
	if err := e.mgmt.Call(context.Background(), "scf", "2018-04-16", "ListTriggers", params, &out); err != nil {
		t.Fatal(err)
	}
	if out.RequestId == "" || out.TotalCount != 0 {
		t.Errorf("answer %+v", out)
	}
	calls := e.emu.Calls()
	if len(calls) != 2 || calls[0].ErrorCode != "RequestLimitExceeded" || calls[1].ErrorCode != "" ||
		calls[1].Service != "scf" || calls[1].Version != "2018-04-16" || calls[1].Region != region {
		t.Errorf("calls %+v", calls)
	}

	params["FunctionName"] = "other"
	err := e.mgmt.Call(context.Background(), "scf", "2018-04-16", "ListTriggers", params, nil)
	var ae *tcapi.APIError
	if !errors.As(err, &ae) || ae.Code != "ResourceNotFound.Function" || ae.Service != "scf" || ae.Action != "ListTriggers" {
		t.Errorf("missing function: %v", err)
	}
}

// TestFindMember: SearchKey with the UIN's digits; the answer is compared
// exactly, so a member whose UIN or name merely contains the digits is not
// taken for the account, and an account that is no member is reported
// absent with no error.
func TestFindMember(t *testing.T) {
	e := newEnv(t, tcemu.Options{})
	addMembers(e.emu, 120)                                                                           // 200000000000 … 200000000119
	e.emu.AddMember(tcemu.Member{Uin: 1200000000001, AppID: "1400000001"})                           // contains 200000000001's digits
	e.emu.AddMember(tcemu.Member{Uin: 300000000001, AppID: "1400000002", Name: "team-200000000002"}) // its name holds another UIN
	for _, tc := range []struct {
		uin   int64
		found bool
		calls int
	}{
		{200000000001, true, 1},
		{200000000002, true, 1},
		{200000000119, true, 1},
		{300000000001, true, 1},
		{200000000200, false, 1}, // not a member
		{200000000, false, 3},    // a part of 122 members' UINs or names: 3 pages, none exact
		{0, false, 0},
	} {
		before := e.emu.CallCount("DescribeOrganizationMembers")
		m, ok, err := e.mgmt.FindMember(context.Background(), tc.uin)
		if err != nil {
			t.Fatalf("%d: %v", tc.uin, err)
		}
		if ok != tc.found || (ok && m.Uin != tc.uin) {
			t.Errorf("%d: found %v (%+v), want %v", tc.uin, ok, m, tc.found)
		}
		if n := e.emu.CallCount("DescribeOrganizationMembers") - before; n != tc.calls {
			t.Errorf("%d: %d requests, want %d", tc.uin, n, tc.calls)
		}
	}
	for _, c := range e.emu.Calls() {
		var p struct{ SearchKey string }
		json.Unmarshal([]byte(c.Body), &p)
		if p.SearchKey == "" {
			t.Errorf("a request without SearchKey: %s", c.Body)
		}
	}
	// Only the management account may search.
	k := e.emu.NewKey(tcemu.Account{Uin: 200000000000, AppID: "1300000000"})
	if _, _, err := e.client(t, creds(k), nil).FindMember(context.Background(), 200000000001); tcapi.Code(err) != "AuthFailure.UnauthorizedOperation" {
		t.Errorf("a member searching: %v", err)
	}
}

package tcemu_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"

	"github.com/picbucket/picbucket/internal/tcapi/tcemu"
)

var mgmt = tcemu.Account{Uin: 100000000001, AppID: "1250000001"}

// redirect sends the SDK's requests to the emulator, keeping the Host.
type redirect struct{ to *url.URL }

func (t redirect) RoundTrip(r *http.Request) (*http.Response, error) {
	r2 := r.Clone(r.Context())
	r2.Host = r.URL.Host
	r2.URL.Scheme, r2.URL.Host = "http", t.to.Host
	return http.DefaultTransport.RoundTrip(r2)
}

type fixture struct {
	emu *tcemu.Server
	url *url.URL
	key tcemu.Key
}

func newFixture(t *testing.T, o tcemu.Options) *fixture {
	t.Helper()
	o.Management = mgmt
	emu := tcemu.New(o)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	emu.AddMember(tcemu.Member{Uin: 200000000001, AppID: "1300000001"})
	return &fixture{emu: emu, url: u, key: emu.NewKey(mgmt)}
}

// send signs one action with the SDK (TC3) and returns the Response object or the error code.
func (f *fixture) send(t *testing.T, k tcemu.Key, service, version, action, region string, params map[string]any) (map[string]any, string) {
	t.Helper()
	cp := profile.NewClientProfile()
	cp.HttpProfile.ReqMethod = http.MethodPost
	cred := common.NewTokenCredential(k.SecretID, k.SecretKey, k.Token)
	c := common.NewCommonClient(cred, region, cp).WithHttpTransport(redirect{f.url})
	req := tchttp.NewCommonRequest(service, version, action)
	if params == nil {
		params = map[string]any{}
	}
	if err := req.SetActionParameters(params); err != nil {
		t.Fatal(err)
	}
	resp := tchttp.NewCommonResponse()
	if err := c.Send(req, resp); err != nil {
		var se *tcerr.TencentCloudSDKError
		if !errors.As(err, &se) {
			t.Fatalf("%s: %v", action, err)
		}
		return nil, se.Code
	}
	var env struct{ Response map[string]any }
	if err := json.Unmarshal(resp.GetBody(), &env); err != nil {
		t.Fatal(err)
	}
	return env.Response, ""
}

func TestParametersChecked(t *testing.T) {
	f := newFixture(t, tcemu.Options{})
	org := func(p map[string]any) string {
		_, code := f.send(t, f.key, "organization", "2021-03-31", "DescribeOrganizationMembers", "", p)
		return code
	}
	sts := func(p map[string]any) string {
		_, code := f.send(t, f.key, "sts", "2018-08-13", "AssumeRole", "ap-guangzhou", p)
		return code
	}
	scf := func(p map[string]any) string {
		_, code := f.send(t, f.key, "scf", "2018-04-16", "Invoke", "ap-guangzhou", p)
		return code
	}
	arn := "qcs::cam::uin/200000000001:roleName/OrganizationAccessControlRole"
	for _, tc := range []struct {
		name, got, want string
	}{
		{"no paging", org(nil), "MissingParameter"},
		{"Limit 51", org(map[string]any{"Offset": 0, "Limit": 51}), "InvalidParameter"},
		{"Limit 0", org(map[string]any{"Offset": 0, "Limit": 0}), "InvalidParameter"},
		{"Offset not a multiple", org(map[string]any{"Offset": 25, "Limit": 50}), "InvalidParameter"},
		{"unknown parameter", org(map[string]any{"Offset": 0, "Limit": 50, "Limt": 1}), "UnknownParameter"},
		{"case matters", org(map[string]any{"offset": 0, "Limit": 50}), "UnknownParameter"},
		{"paging ok", org(map[string]any{"Offset": 50, "Limit": 50}), ""},
		{"no session name", sts(map[string]any{"RoleArn": arn}), "MissingParameter"},
		{"short session name", sts(map[string]any{"RoleArn": arn, "RoleSessionName": "x"}), "InvalidParameter.ParamError"},
		{"session name charset", sts(map[string]any{"RoleArn": arn, "RoleSessionName": "a b"}), "InvalidParameter.ParamError"},
		{"over 43200", sts(map[string]any{"RoleArn": arn, "RoleSessionName": "ab", "DurationSeconds": 43201}), "InvalidParameter.OverTimeError"},
		{"zero duration", sts(map[string]any{"RoleArn": arn, "RoleSessionName": "ab", "DurationSeconds": 0}), "InvalidParameter.ParamError"},
		{"role id form", sts(map[string]any{"RoleArn": "qcs::cam::uin/200000000001:role/4611686018427397919", "RoleSessionName": "ab"}), "InvalidParameter.ParamError"},
		{"default duration", sts(map[string]any{"RoleArn": arn, "RoleSessionName": "ab"}), ""},
		{"no function", scf(map[string]any{"InvocationType": "Event"}), "MissingParameter"},
		{"bad type", scf(map[string]any{"FunctionName": "fn1", "InvocationType": "Later"}), "InvalidParameterValue"},
		{"event not JSON", scf(map[string]any{"FunctionName": "fn1", "InvocationType": "Event", "ClientContext": "{"}), "InvalidParameterValue.Param"},
		{"event too large", scf(map[string]any{"FunctionName": "fn1", "InvocationType": "Event", "ClientContext": `"` + strings.Repeat("x", tcemu.MaxEventSize) + `"`}), "InvalidParameterValue"},
		{"large sync event", scf(map[string]any{"FunctionName": "fn1", "ClientContext": `"` + strings.Repeat("x", tcemu.MaxEventSize) + `"`}), ""},
	} {
		if tc.got != tc.want {
			t.Errorf("%s: code %q, want %q", tc.name, tc.got, tc.want)
		}
	}
	// The default duration is 7200 s.
	keys := f.emu.IssuedKeys()
	if len(keys) != 1 || time.Until(keys[0].Expires) < 7190*time.Second {
		t.Errorf("issued %v", keys)
	}
}

func TestRoutingAndProtocol(t *testing.T) {
	f := newFixture(t, tcemu.Options{})
	if _, code := f.send(t, f.key, "sts", "2018-08-13", "AssumeRole", "", map[string]any{}); code != "MissingParameter" {
		t.Errorf("sts without a region: %q", code)
	}
	if _, code := f.send(t, f.key, "cam", "2019-01-16", "GetUserAppId", "", nil); code != "" {
		t.Errorf("cam without a region: %q", code)
	}
	if _, code := f.send(t, f.key, "cam", "2018-01-01", "GetUserAppId", "", nil); code != "InvalidAction" {
		t.Errorf("wrong version: %q", code)
	}
	if _, code := f.send(t, f.key, "cam", "2019-01-16", "ListUsers", "", nil); code != "InvalidAction" {
		t.Errorf("unknown action: %q", code)
	}
	if _, code := f.send(t, f.key, "cvm", "2017-03-12", "DescribeInstances", "ap-guangzhou", nil); code != "InvalidAction" {
		t.Errorf("unknown service: %q", code)
	}
	resp, code := f.send(t, f.key, "cam", "2019-01-16", "GetUserAppId", "", nil)
	if code != "" || resp["AppId"] != float64(1250000001) || resp["Uin"] != "100000000001" || resp["OwnerUin"] != "100000000001" || resp["RequestId"] == "" {
		t.Errorf("GetUserAppId answered %v %q", resp, code)
	}
	// Not POST /.
	r, _ := http.NewRequest(http.MethodGet, f.url.String()+"/", nil)
	r.Host = "cam.tencentcloudapi.com"
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Response struct{ Error struct{ Code string } }
	}
	json.NewDecoder(res.Body).Decode(&env)
	res.Body.Close()
	if res.StatusCode != 200 || env.Response.Error.Code != "UnsupportedProtocol" {
		t.Errorf("GET: %d %q", res.StatusCode, env.Response.Error.Code)
	}
	// Unsigned.
	r, _ = http.NewRequest(http.MethodPost, f.url.String()+"/", strings.NewReader("{}"))
	r.Host = "cam.tencentcloudapi.com"
	r.Header.Set("Content-Type", "application/json")
	res, err = http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(res.Body).Decode(&env)
	res.Body.Close()
	if env.Response.Error.Code != "AuthFailure.InvalidAuthorization" {
		t.Errorf("unsigned: %q", env.Response.Error.Code)
	}
	for _, c := range f.emu.Calls() {
		if strings.Contains(c.Body, f.key.SecretKey) || strings.Contains(c.Body, f.key.Token) {
			t.Errorf("a call records a secret: %+v", c)
		}
	}
}

func TestLatencyAndThrottle(t *testing.T) {
	f := newFixture(t, tcemu.Options{Latency: 50 * time.Millisecond})
	start := time.Now()
	if _, code := f.send(t, f.key, "cam", "2019-01-16", "GetUserAppId", "", nil); code != "" || time.Since(start) < 50*time.Millisecond {
		t.Errorf("code %q after %s, want an answer after 50 ms", code, time.Since(start))
	}
	f.emu.SetLatency(0)
	f.emu.Throttle("GetUserAppId", 1)
	if _, code := f.send(t, f.key, "cam", "2019-01-16", "GetUserAppId", "", nil); code != "RequestLimitExceeded" {
		t.Errorf("throttled: %q", code)
	}
	if _, code := f.send(t, f.key, "cam", "2019-01-16", "GetUserAppId", "", nil); code != "" {
		t.Errorf("after the throttle: %q", code)
	}
	if n := f.emu.CallCount("GetUserAppId"); n != 3 {
		t.Errorf("CallCount = %d", n)
	}
}

// TestLimits: off by default; with DocumentedLimits, GetUserAppId (20/s)
// answers RequestLimitExceeded, in the API 3.0 error shape the SDK
// decodes, to a caller's 21st request within a second, while another
// caller and another action are not affected, and a second later the
// caller is accepted again.
func TestLimits(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	f := newFixture(t, tcemu.Options{Now: clock})
	appID := func(k tcemu.Key) string {
		_, code := f.send(t, k, "cam", "2019-01-16", "GetUserAppId", "", nil)
		return code
	}
	for i := range 30 {
		if code := appID(f.key); code != "" {
			t.Fatalf("without limits, request %d: %q", i+1, code)
		}
	}
	f.emu.SetLimits(tcemu.DocumentedLimits)
	advance(2 * time.Second)
	for i := range 20 {
		if code := appID(f.key); code != "" {
			t.Fatalf("request %d of 20 within the limit: %q", i+1, code)
		}
	}
	if code := appID(f.key); code != "RequestLimitExceeded" {
		t.Errorf("the 21st request in a second: %q, want RequestLimitExceeded", code)
	}
	member := f.emu.NewKey(tcemu.Account{Uin: 200000000001, AppID: "1300000001"})
	if code := appID(member); code != "" {
		t.Errorf("another caller: %q, want accepted", code)
	}
	if _, code := f.send(t, f.key, "scf", "2018-04-16", "Invoke", "ap-guangzhou", map[string]any{"FunctionName": "picbucket", "InvocationType": "Event"}); code != "" {
		t.Errorf("another action: %q, want accepted", code)
	}
	advance(time.Second + time.Millisecond)
	if code := appID(f.key); code != "" {
		t.Errorf("a second later: %q, want accepted", code)
	}
	throttled := 0
	for _, c := range f.emu.Calls() {
		if c.ErrorCode == "RequestLimitExceeded" {
			throttled++
		}
	}
	if throttled != 1 {
		t.Errorf("%d calls throttled, want 1", throttled)
	}
}

func TestKeyStringRedacts(t *testing.T) {
	k := tcemu.Key{SecretID: "AKIDx", SecretKey: "sk-secret", Token: "tok-secret", Uin: 1, AppID: "2"}
	for _, s := range []string{k.String(), k.GoString()} {
		if strings.Contains(s, "sk-secret") || strings.Contains(s, "tok-secret") || !strings.Contains(s, "AKIDx") {
			t.Errorf("%s", s)
		}
	}
}

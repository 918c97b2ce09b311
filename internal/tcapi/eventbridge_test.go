package tcapi_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/picbucket/picbucket/internal/tcapi"
	"github.com/picbucket/picbucket/internal/tcapi/tcemu"
	"github.com/picbucket/picbucket/signer"
)

var ebCreds = signer.Credentials{SecretID: "AKIDeventbridgeTest", SecretKey: "eventbridge-secret", SessionToken: "eventbridge-token"}

// ebSkew is how far the emulator's clock is ahead.
var ebSkew time.Duration

func newEBEmulator() *tcemu.Server {
	emu := tcemu.New(tcemu.Options{Now: func() time.Time { return time.Now().Add(ebSkew) }})
	emu.AddKey(tcemu.Key{SecretID: ebCreds.SecretID, SecretKey: ebCreds.SecretKey, Token: ebCreds.SessionToken, Uin: 100012345678})
	emu.EventBridge().AddBus(tcemu.Bus{ID: "eb-svc", Name: "default", Type: "Cloud", Region: "ap-guangzhou"})
	return emu
}

func newEBClient(t *testing.T) (*tcapi.Client, *tcemu.Server) {
	t.Helper()
	emu := newEBEmulator()
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	c, err := tcapi.New(ebCreds, tcapi.Options{Region: "ap-guangzhou", Endpoint: u, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c, emu
}

func TestListRulesPages(t *testing.T) {
	c, emu := newEBClient(t)
	for i := 0; i < 230; i++ {
		emu.EventBridge().SetRule(tcemu.Rule{ID: fmt.Sprintf("rule-%04d", i), Name: fmt.Sprintf("r%04d", i), BusID: "eb-svc", Pattern: `{"a":["b"]}`, Enable: true})
	}
	rules, err := c.ListRules(context.Background(), "eb-svc")
	if err != nil {
		t.Fatal(err)
	}
	if len(rules) != 230 || rules[229].RuleName != "r0229" {
		t.Fatalf("got %d rules", len(rules))
	}
	var lists int
	for _, call := range emu.Calls() {
		if call.Action == "ListRules" {
			lists++
		}
	}
	if lists != 3 {
		t.Errorf("ListRules calls = %d, want 3 pages of 100", lists)
	}
	// The rule is found on the third page, and only read.
	rep, err := c.ApplyRule(context.Background(), tcapi.RuleWiring{RuleName: "r0229", Description: "", Pattern: `{"a":["b"]}`,
		Resource: "qcs::scf:ap-guangzhou:uin/100012345678:namespace/default/function/picbucket/$DEFAULT"})
	if err != nil {
		t.Fatal(err)
	}
	if rep.RuleID != "rule-0229" || rep.Rule != tcapi.Unchanged || rep.Target != tcapi.Created {
		t.Errorf("report = %+v", rep)
	}
}

func TestAPIErrors(t *testing.T) {
	c, _ := newEBClient(t)
	ctx := context.Background()

	_, err := c.GetRule(ctx, "eb-svc", "rule-missing")
	var ae *tcapi.APIError
	if !errors.As(err, &ae) || ae.Code != "ResourceNotFound.Rule" || ae.Action != "GetRule" || ae.RequestID == "" {
		t.Errorf("GetRule on a missing rule: %v", err)
	}

	// A clock more than five minutes off.
	ebSkew = 10 * time.Minute
	_, err = c.ListRules(ctx, "eb-svc")
	if !errors.As(err, &ae) || ae.Code != "AuthFailure.SignatureExpire" || !strings.Contains(err.Error(), "clock") {
		t.Errorf("skewed clock: %v", err)
	}
	ebSkew = 0

	// A misspelt parameter is refused by the emulator as by the API.
	err = c.Call(ctx, "eb", "2021-04-16", "ListRules", map[string]any{"EventBusID": "eb-svc"}, nil)
	if !errors.As(err, &ae) || ae.Code != "UnknownParameter" {
		t.Errorf("unknown parameter: %v", err)
	}

	// The network being down is reported with the action.
	down, _ := url.Parse("http://127.0.0.1:1")
	c2, _ := tcapi.New(ebCreds, tcapi.Options{Region: "ap-guangzhou", Endpoint: down, Timeout: 2 * time.Second})
	if _, err := c2.ListRules(ctx, "eb-svc"); err == nil || !strings.Contains(err.Error(), "ListRules") {
		t.Errorf("unreachable endpoint: %v", err)
	}
}

func TestSCFResource(t *testing.T) {
	got, err := tcapi.SCFResource("ap-guangzhou", "100012345678", "default", "picbucket", "$DEFAULT")
	if want := "qcs::scf:ap-guangzhou:uin/100012345678:namespace/default/function/picbucket/$DEFAULT"; err != nil || got != want {
		t.Errorf("SCFResource = %q, %v; want %q", got, err, want)
	}
	for _, bad := range [][5]string{
		{"guangzhou", "100012345678", "default", "picbucket", "$DEFAULT"},
		{"ap-guangzhou", "12ab", "default", "picbucket", "$DEFAULT"},
		{"ap-guangzhou", "100012345678", "a/b", "picbucket", "$DEFAULT"},
		{"ap-guangzhou", "100012345678", "default", "pic bucket", "$DEFAULT"},
		{"ap-guangzhou", "100012345678", "default", "picbucket", "$NOPE"},
	} {
		if _, err := tcapi.SCFResource(bad[0], bad[1], bad[2], bad[3], bad[4]); err == nil {
			t.Errorf("SCFResource%q accepted", bad)
		}
	}
}

func TestPatternEqual(t *testing.T) {
	if !tcapi.PatternEqual(tcapi.DefaultPattern, `{"data":{"eventName":["PutBucket"]},"source":["cos.cloud.tencent"],"type":["cos:CloudEvent:ApiCall","cos:CloudEvent:ConsoleCall","cos:CloudEvent:MiniProgramCall"]}`) {
		t.Error("key order matters")
	}
	if tcapi.PatternEqual(tcapi.DefaultPattern, `{"source":["cos.cloud.tencent"]}`) {
		t.Error("different patterns compare equal")
	}
	if tcapi.PatternEqual(tcapi.DefaultPattern, `{"source":["cos.cloud.tencent"],"type":["cos:CloudEvent:ApiCall","cos:CloudEvent:ConsoleCall"],"data":{"eventName":["PutBucket"]}}`) {
		t.Error("a pattern without MiniProgramCall compares equal")
	}
	if tcapi.PatternEqual(tcapi.DefaultPattern, `{"source":["cos.cloud.tencent"],"type":["cos:CloudEvent:ConsoleCall","cos:CloudEvent:ApiCall","cos:CloudEvent:MiniProgramCall"],"data":{"eventName":["PutBucket"]}}`) {
		t.Error("array order is ignored (it is kept so that a reordered list is written back as given)")
	}
}

func TestCredentialsFromEnv(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := tcapi.CredentialsFromEnv(env(map[string]string{"TENCENTCLOUD_SECRETID": "id", "TENCENTCLOUD_SECRETKEY": "key"}))
	if err != nil || c.SecretID != "id" || c.SessionToken != "" {
		t.Errorf("%v %v", c, err)
	}
	c, err = tcapi.CredentialsFromEnv(env(map[string]string{"TENCENT_SECRET_ID": "id2", "TENCENT_SECRET_KEY": "key2", "TENCENT_TOKEN": "tok"}))
	if err != nil || c.SecretID != "id2" || c.SessionToken != "tok" {
		t.Errorf("%v %v", c, err)
	}
	if _, err := tcapi.CredentialsFromEnv(env(map[string]string{"TENCENTCLOUD_SECRETID": "id"})); !errors.Is(err, tcapi.ErrNoCredentials) {
		t.Errorf("id without key: %v", err)
	}
	if _, err := tcapi.CredentialsFromEnv(env(nil)); !errors.Is(err, tcapi.ErrNoCredentials) {
		t.Errorf("nothing: %v", err)
	}
	if s := fmt.Sprintf("%v %#v", c, c); strings.Contains(s, "key2") || strings.Contains(s, "tok") {
		t.Errorf("credentials print their secrets: %s", s)
	}
}

// TestEndpointNeverThroughProxy: with a test endpoint, a transport whose
// Proxy names a server is never used with it, in a dry run against the
// account (ReadOnly) too.
func TestEndpointNeverThroughProxy(t *testing.T) {
	srv := httptest.NewServer(newEBEmulator())
	t.Cleanup(srv.Close)
	proxied := 0
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		proxied++
		w.WriteHeader(http.StatusBadGateway)
	}))
	t.Cleanup(proxy.Close)
	u, _ := url.Parse(srv.URL)
	pu, _ := url.Parse(proxy.URL)
	for _, readOnly := range []io.Writer{nil, io.Discard} {
		c, err := tcapi.New(ebCreds, tcapi.Options{Region: "ap-guangzhou", Endpoint: u, Timeout: 5 * time.Second,
			Transport: &http.Transport{Proxy: http.ProxyURL(pu)}, ReadOnly: readOnly})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.ListEventBuses(context.Background()); err != nil {
			t.Errorf("ReadOnly %v: %v", readOnly, err)
		}
	}
	if proxied != 0 {
		t.Errorf("the proxy got %d requests, want none", proxied)
	}
}

package main

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/picbucket/picbucket/internal/ebapi"
	"github.com/picbucket/picbucket/signer"
)

// syncBuffer is a bytes.Buffer safe for the request log's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs the command on a free port until the test ends and returns
// its address and output.
func start(t *testing.T, args ...string) (string, *syncBuffer) {
	t.Helper()
	cfg, err := parseFlags(append([]string{"-addr", "127.0.0.1:0"}, args...), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, cfg, out, func(a string) { addrc <- a }) }()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not listening after 10s")
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return addr, out
}

// client is what wire eventbridge --endpoint builds, with the credentials the banner prints.
func client(t *testing.T, addr string) *ebapi.Client {
	t.Helper()
	c, err := ebapi.New(ebapi.Options{Region: ebapi.ServiceBusRegion, Endpoint: &url.URL{Scheme: "http", Host: addr},
		Credentials: signer.Credentials{SecretID: demoSecretID, SecretKey: demoSecretKey, SessionToken: demoToken}, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wiring(t *testing.T) ebapi.Wiring {
	res, err := ebapi.SCFResource(ebapi.ServiceBusRegion, demoUIN, ebapi.DefaultNamespace, ebapi.DefaultFunction, ebapi.DefaultQualifier)
	if err != nil {
		t.Fatal(err)
	}
	return ebapi.Wiring{RuleName: ebapi.DefaultRuleName, Description: ebapi.DefaultDescription, Pattern: ebapi.DefaultPattern, Resource: res}
}

func TestServesAlone(t *testing.T) {
	addr, out := start(t)
	banner := out.String()
	for _, want := range []string{"listening on http://" + addr, "service event bus " + demoBusID + " in ap-guangzhou",
		"export TENCENTCLOUD_SECRETID=" + demoSecretID + " TENCENTCLOUD_SECRETKEY=" + demoSecretKey + " TENCENTCLOUD_SESSIONTOKEN=" + demoToken,
		"go run ./cmd/wire eventbridge --endpoint http://" + addr + " --uin " + demoUIN + " --dry-run"} {
		if !strings.Contains(banner, want) {
			t.Errorf("banner lacks %q:\n%s", want, banner)
		}
	}

	c := client(t, addr)
	rep, err := c.Apply(context.Background(), wiring(t))
	if err != nil || rep.Rule != ebapi.Created || rep.Target != ebapi.Created || rep.BusID != demoBusID {
		t.Fatalf("Apply = %+v, %v", rep, err)
	}
	rep, err = c.Apply(context.Background(), wiring(t))
	if err != nil || len(rep.Writes) != 0 {
		t.Errorf("second Apply = %+v, %v", rep, err)
	}
	if log := out.String(); !strings.Contains(log, "CreateRule      region ap-guangzhou -> ok") || !strings.Contains(log, "ListTargets") {
		t.Errorf("request log:\n%s", log)
	}
}

func TestOldRule(t *testing.T) {
	addr, out := start(t, "-old-rule", "-quiet")
	rep, err := client(t, addr).Apply(context.Background(), wiring(t))
	if err != nil {
		t.Fatal(err)
	}
	// The function's old target (another qualifier) is kept: one target, one run per event.
	if rep.RuleID != "rule-old00001" || rep.Rule != ebapi.Updated || rep.Target != ebapi.Unchanged || rep.TargetID != "target-old00001" {
		t.Errorf("Apply = %+v", rep)
	}
	if !strings.Contains(strings.Join(rep.Notes, "\n"), "kept: target target-old00001") {
		t.Errorf("notes %q", rep.Notes)
	}
	if log := out.String(); strings.Contains(log, "-> ok") || !strings.Contains(log, "without MiniProgramCall") {
		t.Errorf("-quiet logged requests, or the banner does not describe the old rule:\n%s", log)
	}
}

func TestWrongKeyIsRefused(t *testing.T) {
	addr, _ := start(t, "-quiet")
	c, _ := ebapi.New(ebapi.Options{Region: ebapi.ServiceBusRegion, Endpoint: &url.URL{Scheme: "http", Host: addr},
		Credentials: signer.Credentials{SecretID: demoSecretID, SecretKey: "wrong", SessionToken: demoToken}})
	if _, err := c.ListRules(context.Background(), demoBusID); err == nil || !strings.Contains(err.Error(), "AuthFailure.SignatureFailure") {
		t.Errorf("wrong key: %v", err)
	}
}

func TestFlags(t *testing.T) {
	for _, args := range [][]string{{"extra"}, {"-region", "guangzhou"}, {"-secret-id", ""}, {"-bus-id", ""}, {"-uin", "12ab"}, {"-bogus"}} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
	cfg, err := parseFlags(nil, io.Discard)
	if err != nil || cfg.addr != "127.0.0.1:9100" || cfg.region != "ap-guangzhou" || cfg.oldRule {
		t.Errorf("defaults %+v, %v", cfg, err)
	}
}

package scfrpc

import (
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestPool starts the function binary through a Pool: sequential
// invocations share one instance, concurrent ones get one each, and a
// bound makes them wait instead.
func TestPool(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the function binary")
	}
	bin := filepath.Join(t.TempDir(), "main")
	if err := Build(filepath.Join("..", ".."), bin); err != nil {
		t.Fatal(err)
	}
	// An event the function refuses at once, without a request.
	in := Invocation{Payload: []byte(`{"nothing":true}`), RequestID: "pool-test"}
	invoke := func(p *Pool) {
		resp, proc, err := p.Invoke(in)
		if err != nil || proc == nil || resp.Error == nil || !strings.Contains(resp.Error.Message, "invalid event") {
			t.Errorf("Invoke: %v, %+v, error %v; want the function's refusal", proc, resp, err)
		}
	}

	p := NewPool(bin, nil, io.Discard, io.Discard, 0)
	t.Cleanup(p.Stop)
	for range 3 {
		invoke(p)
	}
	if n := len(p.Processes()); n != 1 {
		t.Errorf("3 invocations one after the other started %d instances, want 1", n)
	}

	started := 0
	p2 := NewPool(bin, nil, io.Discard, io.Discard, 2)
	var mu sync.Mutex
	p2.OnStart = func(*Process) { mu.Lock(); started++; mu.Unlock() }
	t.Cleanup(p2.Stop)
	if err := p2.Prestart(2); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 6 {
		wg.Add(1)
		go func() { defer wg.Done(); invoke(p2) }()
	}
	wg.Wait()
	if n := len(p2.Processes()); n != 2 || started != 2 {
		t.Errorf("6 concurrent invocations, at most 2 instances, 2 warm: %d instances (%d OnStart), want 2", n, started)
	}
	p2.Stop()
	if _, _, err := p2.Invoke(in); err != ErrStopped {
		t.Errorf("Invoke after Stop: %v, want ErrStopped", err)
	}
}

package scfrpc

import (
	"errors"
	"fmt"
	"io"
	"sync"
)

// Pool places invocations on instances the way SCF does: an instance (one
// process of the binary) serves one invocation at a time, so an invocation
// goes to an idle instance, or to a new one when every instance is busy.
// (The Go runtime serves concurrent net/rpc calls, but scf-go-lib sets each
// invocation's Environment with os.Setenv: two at once in one process would
// share one environment, which SCF never does.) The local runner and the
// benchmark deliver a function's asynchronous invocations through a Pool.
type Pool struct {
	binary         string
	env            []string
	stdout, stderr io.Writer
	slots          chan struct{} // nil: no bound

	// OnStart, when set, is called with each instance the Pool starts.
	// Set it before the first Invoke.
	OnStart func(*Process)

	mu      sync.Mutex
	idle    []*Process
	all     []*Process
	stopped bool
}

// NewPool returns a Pool of binary's instances, each started with env and
// writing to stdout and stderr (which must be safe for concurrent use when
// instances share them). At most max instances serve at once (0: no bound);
// an invocation beyond waits for one to be idle.
func NewPool(binary string, env []string, stdout, stderr io.Writer, max int) *Pool {
	p := &Pool{binary: binary, env: env, stdout: stdout, stderr: stderr}
	if max > 0 {
		p.slots = make(chan struct{}, max)
	}
	return p
}

// ErrStopped is returned by Invoke and Prestart after Stop.
var ErrStopped = errors.New("scfrpc: pool stopped")

// Prestart starts n instances, at most 8 at a time, and keeps them idle
// (warm instances).
func (p *Pool) Prestart(n int) error {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, 8)
	for range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			proc, err := p.start()
			if err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				return
			}
			p.put(proc)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Invoke sends in to an idle instance, or to a new one, and returns the
// answer and the instance that served it. An instance whose RPC failed
// (it exited, for example) is stopped and not used again.
func (p *Pool) Invoke(in Invocation) (Response, *Process, error) {
	if p.slots != nil {
		p.slots <- struct{}{}
		defer func() { <-p.slots }()
	}
	proc, err := p.get()
	if err != nil {
		return Response{}, nil, err
	}
	resp, err := proc.Invoke(in)
	if err != nil {
		proc.Stop()
		return Response{}, proc, fmt.Errorf("instance pid %d: %w", proc.Pid(), err)
	}
	p.put(proc)
	return resp, proc, nil
}

// Processes returns every instance the Pool started, in order.
func (p *Pool) Processes() []*Process {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*Process(nil), p.all...)
}

// Stop stops every instance; Invoke fails afterwards.
func (p *Pool) Stop() {
	p.mu.Lock()
	p.stopped = true
	all := p.all
	p.idle = nil
	p.mu.Unlock()
	for _, proc := range all {
		proc.Stop()
	}
}

func (p *Pool) get() (*Process, error) {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return nil, ErrStopped
	}
	if n := len(p.idle); n > 0 {
		proc := p.idle[n-1]
		p.idle = p.idle[:n-1]
		p.mu.Unlock()
		return proc, nil
	}
	p.mu.Unlock()
	return p.start()
}

func (p *Pool) start() (*Process, error) {
	proc, err := Start(p.binary, p.env, p.stdout, p.stderr)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		proc.Stop()
		return nil, ErrStopped
	}
	p.all = append(p.all, proc)
	onStart := p.OnStart
	p.mu.Unlock()
	if onStart != nil {
		onStart(proc)
	}
	return proc, nil
}

func (p *Pool) put(proc *Process) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return // Stop stops it
	}
	p.idle = append(p.idle, proc)
}

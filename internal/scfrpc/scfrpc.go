// Package scfrpc starts a function binary and invokes it exactly as the SCF
// Go runtime does: the binary listens on $_LAMBDA_SERVER_PORT and serves
// net/rpc Function.Ping and Function.Invoke with scf-go-lib's messages. The
// local runner, the tests and the benchmarks use it. The binary serves
// through Serve, which listens on loopback only when Start started it.
package scfrpc

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/rpc"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tencentyun/scf-go-lib/cloudfunction/messages"

	"github.com/picbucket/picbucket/signer"
)

// Build compiles the package in dir (e.g. the module root) to the binary out,
// static (CGO_ENABLED=0) and with -trimpath; flags are added to go build.
func Build(dir, out string, flags ...string) error {
	args := append([]string{"build", "-trimpath", "-o", out}, flags...)
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, b)
	}
	return nil
}

// Process is a running function binary.
type Process struct {
	cmd    *exec.Cmd
	client *rpc.Client
	addr   string
	done   chan error
	// Started is when the process was started; Ready when it first answered Ping.
	Started, Ready time.Time
}

// startAttempts bounds the ports Start tries: the port is free when Start
// picks it, but another process may take it before the binary listens on
// it (then the binary exits, "bind: address already in use").
const startAttempts = 3

// Start runs binary with env (plus _LAMBDA_SERVER_PORT) and waits until it
// answers Function.Ping. The process's stdout and stderr go to the writers.
// When the binary exits before serving, Start tries again on another port,
// up to 3 times in all.
func Start(binary string, env []string, stdout, stderr io.Writer) (*Process, error) {
	for attempt := 1; ; attempt++ {
		p, err := start(binary, env, stdout, stderr)
		if !errors.Is(err, errExited) || attempt == startAttempts {
			return p, err
		}
	}
}

// errExited marks a binary that exited before serving.
var errExited = errors.New("exited before serving")

func start(binary string, env []string, stdout, stderr io.Writer) (*Process, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary)
	// The binary listens on loopback only (Serve): its port is reachable from
	// this host alone.
	cmd.Env = append(env, PortVar+"="+strconv.Itoa(port), LoopbackVar+"=1")
	cmd.Stdout, cmd.Stderr = stdout, stderr
	p := &Process{cmd: cmd, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), done: make(chan error, 1)}
	p.Started = time.Now()
	if err := cmd.Start(); err != nil {
		releasePort(port)
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	go func() {
		err := cmd.Wait()
		releasePort(port)
		p.done <- err
	}()
	for wait := 200 * time.Microsecond; ; wait = min(wait*2, 20*time.Millisecond) {
		if c, err := rpc.Dial("tcp", p.addr); err == nil {
			if err := c.Call("Function.Ping", &messages.PingRequest{}, &messages.PingResponse{}); err == nil {
				p.Ready = time.Now()
				p.client = c
				return p, nil
			}
			c.Close()
		}
		select {
		case err := <-p.done:
			return nil, fmt.Errorf("%s %w: %v", binary, errExited, err)
		case <-time.After(wait):
		}
		if time.Since(p.Started) > 15*time.Second {
			p.Stop()
			return nil, fmt.Errorf("%s did not answer Function.Ping within 15s", binary)
		}
	}
}

// PeakRSS returns the process's peak resident set size in bytes (VmHWM
// from /proc; Linux only).
func (p *Process) PeakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.Pid()))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", p.Pid())
}

// Pid returns the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Invocation is one Function.Invoke request.
type Invocation struct {
	Payload     []byte
	RequestID   string
	Timeout     time.Duration     // the deadline is now + Timeout; 30s when zero
	Environment map[string]string // sent as the request's Environment JSON, as SCF does
	AppID       string
	Uin         string
	Region      string
	Function    string
	// MemoryMB is the request's MemoryLimitInMb, which SCF sets to the
	// function's memorySize; 128 when zero.
	MemoryMB int32
}

// String shows the invocation without its payload and without the values
// of its Environment, which carries the key: only their names.
func (in Invocation) String() string {
	names := slices.Sorted(maps.Keys(in.Environment))
	return fmt.Sprintf("scfrpc.Invocation{RequestID:%s Function:%s Region:%s AppID:%s Uin:%s Timeout:%s Payload:%d bytes Environment:%s (values not shown)}",
		in.RequestID, in.Function, in.Region, in.AppID, in.Uin, in.Timeout, len(in.Payload), names)
}

// GoString is String: %#v prints no secret either.
func (in Invocation) GoString() string { return in.String() }

// Format implements fmt.Formatter: every verb prints String.
func (in Invocation) Format(f fmt.State, verb rune) { signer.FormatMasked(f, verb, in.String()) }

// MarshalJSON implements json.Marshaler as String does: the Environment's
// names, not its values.
func (in Invocation) MarshalJSON() ([]byte, error) {
	return json.Marshal(in.String())
}

// Response is the function's answer: a payload or an error.
type Response struct {
	Payload []byte
	Error   *messages.InvokeResponse_Error
}

// Invoke sends one Function.Invoke and waits for the answer.
func (p *Process) Invoke(in Invocation) (Response, error) {
	if in.Timeout == 0 {
		in.Timeout = 30 * time.Second
	}
	deadline := time.Now().Add(in.Timeout)
	env, err := json.Marshal(in.Environment)
	if err != nil {
		return Response{}, err
	}
	req := &messages.InvokeRequest{
		Payload:            in.Payload,
		RequestId:          in.RequestID,
		Deadline:           messages.InvokeRequest_Timestamp{Seconds: deadline.Unix(), Nanos: int64(deadline.Nanosecond())},
		FunctionName:       in.Function,
		FunctionVersion:    "$LATEST",
		Namespace:          "default",
		MemoryLimitInMb:    cmp.Or(in.MemoryMB, 128),
		TimeLimitInMs:      int32(in.Timeout / time.Millisecond),
		Environment:        string(env),
		TencentcloudRegion: in.Region,
		TencentcloudAppID:  in.AppID,
		TencentcloudUin:    in.Uin,
	}
	var resp messages.InvokeResponse
	if err := p.client.Call("Function.Invoke", req, &resp); err != nil {
		return Response{}, fmt.Errorf("Function.Invoke: %w", err)
	}
	return Response{Payload: resp.Payload, Error: resp.Error}, nil
}

// Stop kills the process and waits for it.
func (p *Process) Stop() {
	if p.client != nil {
		p.client.Close()
	}
	if p.cmd.Process != nil {
		p.cmd.Process.Kill()
	}
	<-p.done
	p.done <- nil
}

// ports are the ports handed to this process's binaries still running:
// the system may hand a port out again once freePort closed it, and two
// binaries started at once must not get the same one.
var ports = struct {
	sync.Mutex
	used map[int]bool
}{used: map[int]bool{}}

// freePort returns a port free now and not handed to a binary still
// running; releasePort gives it back.
func freePort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		ports.Lock()
		if !ports.used[port] {
			ports.used[port] = true
			ports.Unlock()
			return port, nil
		}
		ports.Unlock()
	}
	return 0, errors.New("scfrpc: no free port")
}

func releasePort(port int) {
	ports.Lock()
	delete(ports.used, port)
	ports.Unlock()
}

package scfrpc

import (
	"io"
	"net"
	"net/netip"
	"net/rpc"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/tencentyun/scf-go-lib/cloudfunction/messages"
)

// hostAddr returns an address of this host that is not loopback, or skips.
func hostAddr(t *testing.T) netip.Addr {
	t.Helper()
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Skipf("interface addresses: %v", err)
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(n.IP); ok && !ip.Unmap().IsLoopback() && !ip.IsLinkLocalUnicast() {
				return ip.Unmap()
			}
		}
	}
	t.Skip("this host has no address but loopback")
	return netip.Addr{}
}

// ping dials addr and sends Function.Ping.
func ping(addr string) error {
	c, err := rpc.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	return c.Call("Function.Ping", &messages.PingRequest{}, &messages.PingResponse{})
}

// TestServeLoopback starts the function binary as Start does and checks
// that its RPC port answers on loopback and on no other address of this
// host (the traffic stays on the host: it is addressed to the host itself).
// Then it starts the binary as SCF does, without LoopbackVar, and checks
// that it serves as scf-go-lib's StartHandler always has: on every
// interface.
func TestServeLoopback(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the function binary")
	}
	host := hostAddr(t)
	bin := filepath.Join(t.TempDir(), "main")
	if err := Build(filepath.Join("..", ".."), bin); err != nil {
		t.Fatal(err)
	}

	p, err := Start(bin, nil, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Stop)
	_, port, _ := net.SplitHostPort(p.addr)
	if err := ping(p.addr); err != nil {
		t.Fatalf("Ping on %s: %v", p.addr, err)
	}
	if err := ping(net.JoinHostPort(host.String(), port)); err == nil {
		t.Errorf("the function started by Start answers on %s:%s: its RPC port is open beyond loopback", host, port)
	}
	// The function served there is scf-go-lib's: an invocation works.
	resp, err := p.Invoke(Invocation{Payload: []byte(`{"nothing":true}`), RequestID: "loopback"})
	if err != nil || resp.Error == nil || resp.Error.Message == "" {
		t.Errorf("Invoke: %v, %+v; want the function's refusal of the event", err, resp)
	}

	// As SCF starts it: scf-go-lib's StartHandler, unchanged.
	free, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	defer releasePort(free)
	cmd := exec.Command(bin)
	cmd.Env = []string{PortVar + "=" + strconv.Itoa(free)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := net.JoinHostPort(host.String(), strconv.Itoa(free))
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if err = ping(addr); err == nil || time.Now().After(end) {
			break
		}
	}
	if err != nil {
		t.Errorf("started as SCF starts it, the function does not answer on %s: %v", addr, err)
	}
}

// TestNewFunction: scf-go-lib's Function is still the type newFunction
// knows how to fill.
func TestNewFunction(t *testing.T) {
	if _, err := newFunction(nil); err != nil {
		t.Fatal(err)
	}
}

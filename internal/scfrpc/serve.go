package scfrpc

import (
	"errors"
	"fmt"
	"net"
	"net/rpc"
	"os"
	"reflect"
	"unsafe"

	"github.com/tencentyun/scf-go-lib/cloudfunction"
)

// LoopbackVar is the variable Start sets in a function process's
// environment ("1") so that Serve listens on loopback only.
const LoopbackVar = "_PICBUCKET_RPC_LOOPBACK"

// PortVar is the variable that carries the port the SCF Go runtime talks to
// the function on (scf-go-lib cloudfunction/entry.go).
const PortVar = "_LAMBDA_SERVER_PORT"

// Serve serves h over the SCF Go runtime's protocol, and returns only an
// error that stopped it.
//
// On SCF (LoopbackVar unset) it is scf-go-lib's cloudfunction.StartHandler
// itself, which listens on 0.0.0.0:$_LAMBDA_SERVER_PORT, every interface,
// as the platform expects. Started by this package (Start, Pool: the local
// runner, the tests, the benchmarks), it listens on
// 127.0.0.1:$_LAMBDA_SERVER_PORT only, and serves the same scf-go-lib
// cloudfunction.Function there (its Ping and Invoke, unchanged): on a
// developer's machine, anyone who can reach the port can invoke the function
// and set its environment (Invoke sets each variable of the request's
// Environment), so no other host may reach it.
func Serve(h cloudfunction.Handler) error {
	if os.Getenv(LoopbackVar) != "1" {
		cloudfunction.StartHandler(h) // exits the process on failure; never returns
		return errors.New("scfrpc: cloudfunction.StartHandler returned")
	}
	fn, err := newFunction(h)
	if err != nil {
		return err
	}
	srv := rpc.NewServer()
	if err := srv.Register(fn); err != nil {
		return fmt.Errorf("scfrpc: %w", err)
	}
	lis, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", os.Getenv(PortVar)))
	if err != nil {
		return fmt.Errorf("scfrpc: %w", err)
	}
	srv.Accept(lis)
	return errors.New("scfrpc: accept returned")
}

// newFunction returns scf-go-lib's cloudfunction.Function serving h, as
// StartHandler makes it. Function keeps its handler in an unexported field
// and only StartHandler, which also listens on every interface, sets it:
// newFunction sets it through reflect, after checking that the field is
// there with the type StartHandler gives it, so that a version of scf-go-lib
// that changed it is refused here (and by TestServeLoopback) instead of
// misused.
func newFunction(h cloudfunction.Handler) (*cloudfunction.Function, error) {
	fn := new(cloudfunction.Function)
	f := reflect.ValueOf(fn).Elem().FieldByName("handler")
	want := reflect.TypeFor[cloudfunction.Handler]()
	if !f.IsValid() || f.Type() != want {
		return nil, fmt.Errorf("scfrpc: scf-go-lib's cloudfunction.Function has no field handler of type %s: this version is not supported", want)
	}
	reflect.NewAt(want, unsafe.Pointer(f.UnsafeAddr())).Elem().Set(reflect.ValueOf(&h).Elem())
	return fn, nil
}

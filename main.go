// Command picbucket is the SCF function (runtime Go1) that makes sure every COS
// bucket of the account has Cloud Infinite image processing (async) enabled.
// See README.md.
package main

import (
	"log"
	"os"

	"github.com/picbucket/picbucket/handler"
	"github.com/picbucket/picbucket/internal/cli"
	"github.com/picbucket/picbucket/internal/scfrpc"
)

func main() {
	// Not started by SCF (no _LAMBDA_SERVER_PORT): one invocation from the
	// command line, with the user's own credentials.
	if cli.Wanted(os.Getenv) {
		os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, handler.New(os.Stderr)))
	}
	// Settings and credentials are read at each invocation, not here: SCF
	// passes fresh ones with every request. On SCF, Serve is scf-go-lib's
	// cloudfunction.StartHandler; started by the local runner or the tests,
	// it serves the same on loopback only.
	log.Fatal(scfrpc.Serve(handler.New(os.Stdout)))
}

// Command picbucket is the SCF function (runtime Go1) that makes sure every COS
// bucket of the account has Cloud Infinite image processing (async) enabled.
// See README.md.
package main

import (
	"os"

	"github.com/tencentyun/scf-go-lib/cloudfunction"

	"github.com/picbucket/picbucket/handler"
	"github.com/picbucket/picbucket/internal/cli"
)

func main() {
	// Not started by SCF (no _LAMBDA_SERVER_PORT): one invocation from the
	// command line, with the user's own credentials.
	if cli.Wanted(os.Getenv) {
		os.Exit(cli.Run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, handler.New(os.Stderr)))
	}
	// Settings and credentials are read at each invocation, not here: SCF
	// passes fresh ones with every request.
	cloudfunction.StartHandler(handler.New(os.Stdout))
}

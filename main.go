// Command picbucket is the SCF function (runtime Go1) that makes sure every COS
// bucket of the account has Cloud Infinite image processing (async) enabled.
// See README.md.
package main

import (
	"os"

	"github.com/tencentyun/scf-go-lib/cloudfunction"

	"github.com/picbucket/picbucket/handler"
)

func main() {
	// Settings and credentials are read at each invocation, not here: SCF
	// passes fresh ones with every request.
	cloudfunction.StartHandler(handler.New(os.Stdout))
}

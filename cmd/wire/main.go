// Command wire sets up everything around the deployed function and shows
// whether it is in place. It reads serverless.yml, the file the deploy uses,
// for the function's name, region, role and settings.
//
//	go run ./cmd/wire apply --dry-run   # read the account, print the writes apply would send
//	go run ./cmd/wire apply             # write them; a second run writes nothing
//	go run ./cmd/wire apply --org       # also the organization trail (management account)
//	go run ./cmd/wire apply --delete    # remove what apply made (the log topic and the trail are kept)
//	go run ./cmd/wire check             # read only: a checklist, exit 0 when every line is ✓
//	go run ./cmd/wire canary            # a temporary bucket: how long until it is enabled, by which trigger
//
// `wire eventbridge` and `wire trail` run one resource with all its flags
// (formerly cmd/ebwire and cmd/auditwire). Every call goes through the
// official SDK's common client (tencentcloud-sdk-go), TC3-HMAC-SHA256 signed,
// through internal/tcapi's sender.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/picbucket/picbucket/internal/usage"
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// command is wire's help.
var command = usage.Command{
	Name: "go run ./cmd/wire",
	What: "wire sets up everything around the deployed picbucket function (apply) and shows whether it works (check, canary).",
	Synopsis: `  go run ./cmd/wire apply [--dry-run] [--delete] [--org] [--wecom URL | --notice ID | --notify-uin UIN] [flags]
  go run ./cmd/wire check [--org] [flags]
  go run ./cmd/wire canary [--keep] [--wait 5m] [--poll 5s] [flags]
  go run ./cmd/wire eventbridge [flags]   (one resource, all its flags; -h lists them)
  go run ./cmd/wire trail [flags]`,
	More: `apply and check read serverless.yml (-f) for the function's name, region and settings.
Credentials: TENCENTCLOUD_SECRETID, TENCENTCLOUD_SECRETKEY, TENCENTCLOUD_SESSIONTOKEN
(or TENCENT_SECRET_ID, TENCENT_SECRET_KEY, TENCENT_TOKEN). Exit status: 0 done (check: every
line ✓), 1 failed (check: a line is ✗ or ?), 2 on a usage error. The flags below are apply's and check's
("apply:" marks apply's own); each subcommand's -h lists all of its own.`,
}

// run dispatches the subcommands; it returns the exit status.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help") {
		// The help lists the flags apply and check share.
		fs := flag.NewFlagSet("apply", flag.ContinueOnError)
		var c common
		c.flags(fs)
		fs.Bool("dry-run", false, "apply: read the account and print the writes apply would send; send none")
		fs.Bool("delete", false, "apply: remove what apply made: the role and policy it made, the alarms and notice group, the EventBridge rule and target (the log topic and the trail are kept)")
		command.Help(stdout, fs)
		return usage.ExitHelp
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return command.Fail(stderr, fmt.Errorf("name a subcommand first: apply, check, canary, eventbridge or trail"))
	}
	switch args[0] {
	case "apply":
		return runApply(args[1:], getenv, stdout, stderr)
	case "check":
		return runCheck(args[1:], getenv, stdout, stderr)
	case "eventbridge":
		return runEventBridge(args[1:], getenv, stdout, stderr)
	case "trail":
		return runTrail(args[1:], getenv, stdout, stderr)
	case "canary":
		return runCanary(args[1:], getenv, stdout, stderr)
	}
	return command.Fail(stderr, fmt.Errorf("unknown subcommand %q: want apply, check, canary, eventbridge or trail", args[0]))
}

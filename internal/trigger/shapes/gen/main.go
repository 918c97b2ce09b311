// Command gen writes each payload of package shapes, in the order of
// shapes.All, to DIR/<index>.json: go run ./internal/trigger/shapes/gen DIR.
//
// The memory test of the function (memory_test.go) runs under the race
// detector in CI, where building the 6 MB payloads and gzipping the CLS
// documents takes ten times as long as in a plain build (100 s against
// 10 s on 2 cores); it builds this command without the race detector and
// reads the files instead. One payload is held at a time.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/picbucket/picbucket/internal/trigger/shapes"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: gen DIR")
		os.Exit(2)
	}
	for i, s := range shapes.All() {
		if err := os.WriteFile(filepath.Join(os.Args[1], strconv.Itoa(i)+".json"), s.Payload(), 0o600); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}

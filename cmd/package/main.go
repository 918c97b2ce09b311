// Command package builds what is deployed: the function as a static
// linux/amd64 binary (CGO_ENABLED=0, -trimpath, -ldflags "-s -w") at
// dist/main, the directory serverless.yml's src points at, and the same
// binary zipped with mode 0755 at build/picbucket.zip, for uploads that take
// a zip. It checks the zip (one entry "main" at the root, executable, ELF
// x86-64, static, under the size budget) and prints both sizes.
//
//	go run ./cmd/package            # from the module root
//	go run ./cmd/package -C DIR     # build the module in DIR
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/picbucket/picbucket/internal/deploy"
)

func main() {
	dir := flag.String("C", ".", "the module root to build; outputs go under it")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./cmd/package [-C DIR]\n\n"+
			"Builds %s/%s and %s (GO selects the go command).\n", deploy.DistDir, deploy.BinaryName, deploy.ZipPath)
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 0 {
		flag.Usage()
		os.Exit(2)
	}
	res, err := deploy.Package(*dir, *dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "package:", err)
		os.Exit(1)
	}
	fmt.Printf("%-22s %s  (%s/%s, static, stripped)\n", rel(*dir, res.Binary), size(res.BinaryBytes), deploy.GOOS, deploy.GOARCH)
	fmt.Printf("%-22s %s  (one entry %q, mode 0755; budget %s)\n", rel(*dir, res.Zip), size(res.ZipBytes), deploy.BinaryName, size(deploy.MaxZipBytes))
}

func rel(base, path string) string {
	if r, err := filepath.Rel(base, path); err == nil {
		return r
	}
	return path
}

func size(n int64) string {
	return fmt.Sprintf("%10d bytes = %5.2f MiB", n, float64(n)/(1<<20))
}

// Command package builds what is deployed: the function as a static
// linux/amd64 binary (CGO_ENABLED=0, -trimpath, -ldflags "-s -w") at
// dist/main, the directory serverless.yml's src points at, and the same
// binary zipped with mode 0755 at build/picbucket.zip, for uploads that take
// a zip. It checks the zip (one entry "main" at the root, executable, ELF
// x86-64, static, under the size budget) and prints both sizes. The zip is
// reproducible: the same binary gives the same zip, byte for byte. It builds
// only this module: a directory whose go.mod names another is refused before
// anything under it is deleted.
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
	"github.com/picbucket/picbucket/internal/usage"
)

// command is this command, for its -h.
var command = usage.Command{
	Name: "go run ./cmd/package",
	What: "package builds what is deployed: the static linux/amd64 function binary and its zip, checked.",
	More: fmt.Sprintf(`It writes %s/%s (the directory serverless.yml deploys) and %s (the binary alone,
mode 0755, reproducible), checks the zip and prints both sizes. The directory -C names must be this module's
root (its go.mod names %s); nothing is built or deleted otherwise. The GO environment variable selects the go command.`, deploy.DistDir, deploy.BinaryName, deploy.ZipPath, deploy.ModulePath),
}

func main() {
	fs := flag.NewFlagSet("package", flag.ContinueOnError)
	dir := fs.String("C", ".", "the module root to build; outputs go under it")
	if err := command.Parse(fs, os.Args[1:], os.Stdout); err != nil {
		os.Exit(command.Fail(os.Stderr, err))
	}
	if fs.NArg() != 0 {
		os.Exit(command.Fail(os.Stderr, fmt.Errorf("unexpected arguments %q", fs.Args())))
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

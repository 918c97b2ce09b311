// Package deploy builds the deployable artifacts of the function and holds
// the names that serverless.yml, the package tool and the tests share.
//
// The SCF Go runtime (Go1) runs a linux/amd64 executable whose file name is
// the function's handler, found at the root of the code package. Package
// builds that executable into DistDir, which serverless.yml's `src` points at
// (the Serverless component zips that directory itself, so it must hold
// nothing but the binary), and also writes ZipPath, the same binary zipped
// with its executable bit, for uploads that take a zip (console, COS, API).
package deploy

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// Names shared by serverless.yml, cmd/package and the tests.
const (
	// BinaryName is the executable's file name, and so serverless.yml's handler.
	BinaryName = "main"
	// DistDir holds the binary alone; serverless.yml's src is "./" + DistDir.
	DistDir = "dist"
	// ZipPath is the zipped binary, relative to the output directory. It is
	// kept out of DistDir so that the deployed package is exactly the binary.
	ZipPath = "build/picbucket.zip"
	// GOOS and GOARCH are those of the SCF Go1 runtime.
	GOOS   = "linux"
	GOARCH = "amd64"
	// MaxZipBytes is the most the zip may weigh: the size budget the tests
	// hold the build to, well under SCF's limits for a direct upload.
	MaxZipBytes = 6 << 20
	// ModulePath is this module's path: Package builds only a directory
	// whose go.mod names it.
	ModulePath = "github.com/picbucket/picbucket"
)

// ZipTime is the modification time of the zip's one entry, whatever the
// binary's own: the zip is a function of the binary's bytes alone, so the
// same binary always gives the same zip, byte for byte. It is the earliest
// time a zip header (MS-DOS date) can hold.
var ZipTime = time.Date(1980, time.January, 1, 0, 0, 0, 0, time.UTC)

// BuildFlags are the go build flags of the deployed binary: paths trimmed,
// symbol table and DWARF stripped.
var BuildFlags = []string{"-trimpath", "-ldflags", "-s -w"}

// Result describes what Package wrote.
type Result struct {
	Binary      string // path of the binary: <outDir>/dist/main
	BinaryBytes int64
	Zip         string // path of the zip: <outDir>/build/picbucket.zip
	ZipBytes    int64
}

// Package builds the main package of the module in moduleDir as a static
// linux/amd64 binary (CGO_ENABLED=0, -trimpath, -ldflags "-s -w") at
// outDir/DistDir/BinaryName, and zips it to outDir/ZipPath with mode 0755 in
// the zip header. It first checks that moduleDir is this module
// (CheckModule), and refuses to build or delete anything otherwise. DistDir
// is then emptied so that it holds only the binary. The go command is $GO
// when set, else "go" from PATH. The zip is checked with InspectZip before
// Package returns.
func Package(moduleDir, outDir string) (Result, error) {
	dist := filepath.Join(outDir, DistDir)
	if err := CheckModule(moduleDir); err != nil {
		return Result{}, fmt.Errorf("%w; nothing built, %s left as it is", err, dist)
	}
	res := Result{Binary: filepath.Join(dist, BinaryName), Zip: filepath.Join(outDir, filepath.FromSlash(ZipPath))}
	absBin, err := filepath.Abs(res.Binary)
	if err != nil {
		return res, err
	}
	if err := os.RemoveAll(dist); err != nil {
		return res, err
	}
	if err := os.MkdirAll(dist, 0o755); err != nil {
		return res, err
	}
	goCmd := os.Getenv("GO")
	if goCmd == "" {
		goCmd = "go"
	}
	args := append([]string{"build"}, BuildFlags...)
	args = append(args, "-o", absBin, ".")
	cmd := exec.Command(goCmd, args...)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+GOOS, "GOARCH="+GOARCH)
	if out, err := cmd.CombinedOutput(); err != nil {
		return res, fmt.Errorf("deploy: %s %s: %w\n%s", goCmd, strings.Join(args, " "), err, out)
	}
	fi, err := os.Stat(res.Binary)
	if err != nil {
		return res, err
	}
	res.BinaryBytes = fi.Size()
	if err := WriteZip(res.Binary, res.Zip); err != nil {
		return res, err
	}
	zi, err := InspectZip(res.Zip)
	if err != nil {
		return res, err
	}
	res.ZipBytes = zi.ZipBytes
	return res, nil
}

// ErrNotModule reports a directory that is not this module.
var ErrNotModule = errors.New("not the picbucket module")

// CheckModule checks that dir is the root of this module: its go.mod's
// module directive names ModulePath.
func CheckModule(dir string) error {
	data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return fmt.Errorf("deploy: %w: %s: %w", ErrNotModule, dir, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(strings.SplitN(line, "//", 2)[0])
		if len(f) == 2 && f[0] == "module" {
			if p := strings.Trim(f[1], "\"`"); p != ModulePath {
				return fmt.Errorf("deploy: %w: %s is module %q, want %q", ErrNotModule, dir, p, ModulePath)
			}
			return nil
		}
	}
	return fmt.Errorf("deploy: %w: %s has no module directive", ErrNotModule, filepath.Join(dir, "go.mod"))
}

// WriteZip writes a zip holding binary alone, at its root under the name
// BinaryName, deflated, with mode 0755 (and so the Unix creator) and the
// time ZipTime in its header: the same binary gives the same zip, byte for
// byte. It writes a temporary file next to zipPath and renames it.
func WriteZip(binary, zipPath string) error {
	in, err := os.Open(binary)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(zipPath), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(zipPath), ".picbucket-*.zip")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	zw := zip.NewWriter(tmp)
	hdr := &zip.FileHeader{Name: BinaryName, Method: zip.Deflate, Modified: ZipTime}
	hdr.SetMode(0o755)
	w, err := zw.CreateHeader(hdr)
	if err == nil {
		_, err = io.Copy(w, in)
	}
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("deploy: write %s: %w", zipPath, err)
	}
	return os.Rename(tmp.Name(), zipPath)
}

// ZipInfo describes a deployable zip.
type ZipInfo struct {
	ZipBytes    int64       // size of the zip file
	BinaryBytes int64       // uncompressed size of the binary in it
	Mode        os.FileMode // the binary's mode in the zip header
}

// InspectZip checks that the zip at path is deployable as is: exactly one
// entry, BinaryName, at its root; executable mode; an ELF x86-64 executable
// with no PT_INTERP program header (statically linked); at most MaxZipBytes.
func InspectZip(path string) (ZipInfo, error) {
	var zi ZipInfo
	fi, err := os.Stat(path)
	if err != nil {
		return zi, err
	}
	zi.ZipBytes = fi.Size()
	zr, err := zip.OpenReader(path)
	if err != nil {
		return zi, fmt.Errorf("deploy: %s: %w", path, err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != BinaryName {
		names := make([]string, len(zr.File))
		for i, f := range zr.File {
			names[i] = f.Name
		}
		return zi, fmt.Errorf("deploy: %s holds %q, want exactly one entry %q at its root", path, names, BinaryName)
	}
	f := zr.File[0]
	zi.Mode = f.Mode()
	zi.BinaryBytes = int64(f.UncompressedSize64)
	if !zi.Mode.IsRegular() || zi.Mode.Perm()&0o111 != 0o111 {
		return zi, fmt.Errorf("deploy: %s: %s has mode %s, want an executable regular file (0755)", path, BinaryName, zi.Mode)
	}
	rc, err := f.Open()
	if err != nil {
		return zi, err
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		return zi, fmt.Errorf("deploy: %s: %w", path, err)
	}
	if err := CheckBinary(bytes.NewReader(data)); err != nil {
		return zi, fmt.Errorf("deploy: %s: %w", path, err)
	}
	if zi.ZipBytes > MaxZipBytes {
		return zi, fmt.Errorf("deploy: %s is %d bytes, more than the %d-byte budget", path, zi.ZipBytes, MaxZipBytes)
	}
	return zi, nil
}

// ErrNotDeployable reports a binary the Go1 runtime cannot run as is.
var ErrNotDeployable = errors.New("binary not deployable")

// CheckBinary checks that r holds a 64-bit little-endian x86-64 ELF
// executable with no PT_INTERP program header, that is, one that needs no
// dynamic loader and no shared C library on the SCF host.
func CheckBinary(r io.ReaderAt) error {
	f, err := elf.NewFile(r)
	if err != nil {
		return fmt.Errorf("%w: not an ELF file: %v", ErrNotDeployable, err)
	}
	defer f.Close()
	if f.Class != elf.ELFCLASS64 || f.Data != elf.ELFDATA2LSB || f.Machine != elf.EM_X86_64 {
		return fmt.Errorf("%w: ELF %s %s %s, want ELFCLASS64 ELFDATA2LSB EM_X86_64 (GOOS=%s GOARCH=%s)",
			ErrNotDeployable, f.Class, f.Data, f.Machine, GOOS, GOARCH)
	}
	if f.Type != elf.ET_EXEC {
		return fmt.Errorf("%w: ELF type %s, want ET_EXEC (a static, non-PIE executable)", ErrNotDeployable, f.Type)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%w: dynamically linked (it has a PT_INTERP program header); build with CGO_ENABLED=0", ErrNotDeployable)
		}
	}
	return nil
}

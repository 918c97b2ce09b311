package deploy

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestValidateCron(t *testing.T) {
	good := []string{
		"0 15 * * * * *", // the shipped timer
		"*/5 * * * * * *",
		"0 15 10 1 * * *",
		"0 15 10 * * MON-FRI *",
		"0 0 10,14,16 * * * *",
		"0 */30 9-17 * * * *",
		"0 0 12 * * WED *",
		"0 0 12 * * wed *",
		"1/10 0 0 1-15 JAN,jul 0-6 2024-2099",
		"05 5 05 * * * 1970",
	}
	for _, c := range good {
		if err := ValidateCron(c); err != nil {
			t.Errorf("ValidateCron(%q) = %v, want nil", c, err)
		}
	}
	bad := map[string]string{
		"0 15 * * *":            "5 fields",
		"0 15 * * * * * *":      "8 fields",
		"60 * * * * * *":        "second",
		"0 60 * * * * *":        "minute",
		"0 0 24 * * * *":        "hour",
		"0 0 0 0 * * *":         "day",
		"0 0 0 32 * * *":        "day",
		"0 0 0 * 13 * *":        "month",
		"0 0 0 * * 7 *":         "week",
		"0 0 0 * * SUNDAY *":    "week",
		"0 0 0 * * * 1969":      "year",
		"0 0 0 * * * 2100":      "year",
		"*/0 * * * * * *":       "step",
		"*/x * * * * * *":       "step",
		"10-5 * * * * * *":      "backwards",
		"1,,2 * * * * * *":      "empty",
		"? * * * * * *":         "second",
		"0 0 0 L * * *":         "day",
		"0 0 0 * * MON-FRIX *":  "week",
		"0 0 0 * * * 2024-2200": "year",
		"+5 * * * * * *":        "second",
	}
	for c, want := range bad {
		err := ValidateCron(c)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateCron(%q) = %v, want an error mentioning %q", c, err, want)
		}
	}
}

func TestWriteAndInspectZip(t *testing.T) {
	dir := t.TempDir()
	fake := filepath.Join(dir, "fake")
	if err := os.WriteFile(fake, []byte("not a program"), 0o600); err != nil {
		t.Fatal(err)
	}
	zipPath := filepath.Join(dir, "out", "x.zip")
	if err := WriteZip(fake, zipPath); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != BinaryName {
		t.Fatalf("zip entries = %v, want just %q", zr.File, BinaryName)
	}
	// The mode is 0755 whatever the file's own mode.
	if m := zr.File[0].Mode(); m.Perm() != 0o755 || !m.IsRegular() {
		t.Errorf("mode = %s, want -rwxr-xr-x", m)
	}
	if _, err := InspectZip(zipPath); !errors.Is(err, ErrNotDeployable) {
		t.Errorf("InspectZip of a non-ELF entry: %v, want ErrNotDeployable", err)
	}

	// The running test binary is an ELF executable; whether it is static
	// depends on how the test was built (-race links the C library).
	self, err := os.Open(os.Args[0])
	if err != nil {
		t.Skip(err)
	}
	defer self.Close()
	if err := CheckBinary(self); err != nil && !errors.Is(err, ErrNotDeployable) {
		t.Errorf("CheckBinary(test binary): %v", err)
	}

	// A zip with a second entry, or a non-executable one, is refused.
	for name, write := range map[string]func(*zip.Writer){
		"two entries": func(zw *zip.Writer) {
			for _, n := range []string{BinaryName, "extra"} {
				h := &zip.FileHeader{Name: n}
				h.SetMode(0o755)
				w, _ := zw.CreateHeader(h)
				w.Write([]byte("x"))
			}
		},
		"not executable": func(zw *zip.Writer) {
			h := &zip.FileHeader{Name: BinaryName}
			h.SetMode(0o644)
			w, _ := zw.CreateHeader(h)
			w.Write([]byte("x"))
		},
		"not ELF": func(zw *zip.Writer) {
			h := &zip.FileHeader{Name: BinaryName}
			h.SetMode(0o755)
			w, _ := zw.CreateHeader(h)
			w.Write([]byte("#!/bin/sh\necho hi\n"))
		},
		"in a folder": func(zw *zip.Writer) {
			h := &zip.FileHeader{Name: "dist/" + BinaryName}
			h.SetMode(0o755)
			w, _ := zw.CreateHeader(h)
			w.Write([]byte("x"))
		},
	} {
		p := filepath.Join(dir, strings.ReplaceAll(name, " ", "-")+".zip")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		zw := zip.NewWriter(f)
		write(zw)
		zw.Close()
		f.Close()
		if _, err := InspectZip(p); err == nil {
			t.Errorf("%s: InspectZip accepted it", name)
		}
	}
}

// TestZipReproducible zips the same bytes twice, with different file times
// in between, and wants the same zip, byte for byte.
func TestZipReproducible(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, BinaryName)
	if err := os.WriteFile(bin, bytes.Repeat([]byte("the same binary "), 4096), 0o755); err != nil {
		t.Fatal(err)
	}
	var zips [][]byte
	for i, mtime := range []time.Time{time.Date(2024, 5, 20, 10, 15, 0, 0, time.UTC), time.Date(2026, 12, 7, 11, 45, 31, 0, time.Local)} {
		if err := os.Chtimes(bin, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, fmt.Sprintf("out%d", i), "picbucket.zip")
		if err := WriteZip(bin, p); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		zips = append(zips, b)
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if got := zr.File[0].Modified; !got.Equal(ZipTime) {
			t.Errorf("entry time %s, want ZipTime %s", got, ZipTime)
		}
	}
	if !bytes.Equal(zips[0], zips[1]) {
		t.Errorf("two zips of the same bytes differ (%d and %d bytes): the file time leaks into the zip", len(zips[0]), len(zips[1]))
	}
}

// TestPackageChecksTheModuleFirst runs Package on directories that are not
// this module, each with a dist/ holding a file, and wants an error that
// names the directory and the file left in place.
func TestPackageChecksTheModuleFirst(t *testing.T) {
	for name, gomod := range map[string]string{
		"no go.mod":      "",
		"another module": "module example.com/other\n\ngo 1.23\n",
		"no module line": "go 1.23\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if gomod != "" {
				if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			keep := filepath.Join(dir, DistDir, "keep.txt")
			if err := os.MkdirAll(filepath.Dir(keep), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(keep, []byte("the user's file"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Package(dir, dir)
			if !errors.Is(err, ErrNotModule) || !strings.Contains(err.Error(), dir) {
				t.Errorf("Package(%s) = %v, want ErrNotModule naming the directory", name, err)
			}
			if _, serr := os.Stat(keep); serr != nil {
				t.Errorf("Package(%s) removed %s: %v", name, keep, serr)
			}
		})
	}
	// The module itself passes the check, with the module path in quotes too.
	if err := CheckModule("../.."); err != nil {
		t.Errorf("CheckModule(module root) = %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("// a comment\nmodule \""+ModulePath+"\" // here\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := CheckModule(dir); err != nil {
		t.Errorf("CheckModule(quoted module path) = %v", err)
	}
}

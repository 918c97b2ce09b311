package deploy

import (
	"archive/zip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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

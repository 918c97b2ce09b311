package main_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryToolHelp: every command of the repository (each cmd/ tool and
// the function's own command line) answers -h the same way: exit status
// 0, a first line saying what it is for, a usage line, then its flags, on
// stdout, and nothing on stderr.
func TestEveryToolHelp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every command")
	}
	tools := []struct {
		pkg   string // what go build builds
		bin   string // the binary's name
		first string // the start of the first line
		flag  string // a flag the help lists
	}{
		{".", "picbucket", "main is the picbucket function", "-event"},
		{"./cmd/local", "local", "local runs the function once", "-env"},
		{"./cmd/emulator", "emulator", "emulator serves the COS/CI emulator", "-addr"},
		{"./cmd/wire", "wire", "wire sets up everything around the deployed picbucket function", "-dry-run"},
		{"./cmd/bench", "bench", "bench measures a reconciliation", "-caps"},
		{"./cmd/package", "package", "package builds what is deployed", "-C"},
	}
	// Every tool in cmd/ is in the table.
	dirs, err := filepath.Glob("cmd/*")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		found := false
		for _, tool := range tools {
			found = found || tool.pkg == "./"+d
		}
		if !found {
			t.Errorf("%s is not in the table: its -h is not checked", d)
		}
	}

	dir := t.TempDir()
	args := []string{"build", "-o", dir + string(os.PathSeparator)}
	for _, tool := range tools {
		args = append(args, tool.pkg)
	}
	if b, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	for _, tool := range tools {
		for _, h := range []string{"-h", "-help"} {
			t.Run(tool.bin+" "+h, func(t *testing.T) {
				cmd := exec.Command(filepath.Join(dir, tool.bin), h)
				cmd.Dir = dir
				cmd.Env = append(os.Environ(), "_LAMBDA_SERVER_PORT=") // main: a terminal, not SCF
				var out, errb bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &errb
				if err := cmd.Run(); err != nil {
					t.Fatalf("exit: %v\nstdout:\n%s\nstderr:\n%s", err, out.String(), errb.String())
				}
				lines := strings.Split(out.String(), "\n")
				if !strings.HasPrefix(lines[0], tool.first) || !strings.HasSuffix(lines[0], ".") || len(lines) < 3 || lines[1] != "" ||
					!strings.HasPrefix(lines[2], "usage:") {
					t.Errorf("want a first line starting %q, a blank line and a usage line; got:\n%s", tool.first, out.String())
				}
				if !strings.Contains(out.String(), "\nflags:\n") || !strings.Contains(out.String(), "\n  "+tool.flag+" ") && !strings.Contains(out.String(), "\n  "+tool.flag+"\n") {
					t.Errorf("the flags, %s among them, are not listed:\n%s", tool.flag, out.String())
				}
				if errb.Len() != 0 {
					t.Errorf("stderr %q, want nothing", errb.String())
				}
			})
		}
	}
}

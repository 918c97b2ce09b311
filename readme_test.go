package main_test

// README.md's commands must run as written when copied from the raw file.
// This test reads them out of README.md:
//
//   - ```sh blocks run as bash scripts from the repository root (set -e):
//     every command in them must succeed;
//   - `go test` commands (in any block or code span) must select at least
//     one test: the -run pattern is given to `go test -list`;
//   - `make TARGET` must name a target of the Makefile;
//   - `go run ./cmd/X ARGS` in other blocks and in code spans (commands
//     that need an account) are built and run with ARGS and -h, so that a
//     renamed or removed flag fails here; `go run ./cmd/local` lines run
//     for real against the embedded emulator.

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// readmeBlock is one fenced code block.
type readmeBlock struct {
	lang  string
	lines []string
}

func readmeParts(t *testing.T) (blocks []readmeBlock, spans []string) {
	t.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var cur *readmeBlock
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	spanRE := regexp.MustCompile("`([^`]+)`")
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "```") {
			if cur == nil {
				cur = &readmeBlock{lang: strings.TrimPrefix(line, "```")}
			} else {
				blocks = append(blocks, *cur)
				cur = nil
			}
			continue
		}
		if cur != nil {
			cur.lines = append(cur.lines, line)
			continue
		}
		for _, m := range spanRE.FindAllStringSubmatch(line, -1) {
			spans = append(spans, m[1])
		}
	}
	return blocks, spans
}

// isRepoCommand reports a command line that names this repository's code.
func isRepoCommand(s string) bool {
	for _, p := range []string{"go run ./", "go test", "make ", "go build"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// stripComment drops a trailing "# comment".
func stripComment(s string) string {
	if i := strings.Index(s, " #"); i >= 0 {
		s = s[:i]
	}
	return strings.TrimSpace(s)
}

func TestReadmeCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("runs README's commands")
	}
	blocks, spans := readmeParts(t)
	var scripts [][]string
	var checks []string
	for _, b := range blocks {
		switch b.lang {
		case "sh", "bash":
			var script []string
			for _, l := range b.lines {
				c := stripComment(l)
				if strings.HasPrefix(c, "go test") || strings.HasPrefix(c, "make ") {
					checks = append(checks, c)
					continue
				}
				script = append(script, l)
			}
			scripts = append(scripts, script)
		default:
			for _, l := range b.lines {
				if c := stripComment(l); isRepoCommand(c) {
					checks = append(checks, c)
				}
			}
		}
	}
	for _, s := range spans {
		if isRepoCommand(s) {
			checks = append(checks, s)
		}
	}
	if len(scripts) < 2 || len(checks) < 3 {
		t.Fatalf("found %d sh blocks and %d other commands in README.md: the parser is broken", len(scripts), len(checks))
	}

	tools := t.TempDir()
	built := map[string]string{}
	build := func(pkg string) string {
		if p, ok := built[pkg]; ok {
			return p
		}
		out := filepath.Join(tools, strings.ReplaceAll(strings.TrimPrefix(pkg, "./"), "/", "_"))
		if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", pkg, err, b)
		}
		built[pkg] = out
		return out
	}

	for _, c := range checks {
		t.Run(c, func(t *testing.T) {
			args := shellFields(strings.Split(c, " | ")[0])
			switch {
			case args[0] == "make":
				mk, _ := os.ReadFile("Makefile")
				if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(args[1]) + `:`).Match(mk) {
					t.Errorf("Makefile has no target %q", args[1])
				}
			case args[0] == "go" && args[1] == "test":
				checkGoTest(t, args[2:])
			case args[0] == "go" && args[1] == "build":
				// Built by the sh blocks.
			case args[0] == "go" && args[1] == "run" && args[2] == "./cmd/local" && !containsArg(args, "-h"):
				runChecked(t, 2*time.Minute, nil, build("./cmd/local"), args[3:]...)
			case args[0] == "go" && args[1] == "run":
				bin := build(args[2])
				rest := placeholders(args[3:])
				cmd := exec.Command(bin, append(rest, "-h")...)
				cmd.Env = cleanEnv()
				out, err := cmd.CombinedOutput()
				if err != nil || strings.Contains(string(out), "not defined") || strings.Contains(string(out), "unknown flag") {
					t.Errorf("%s %q -h: %v\n%s", args[2], rest, err, out)
				}
			default:
				t.Errorf("no check for %q", c)
			}
		})
	}

	for i, script := range scripts {
		t.Run("sh block "+string(rune('1'+i)), func(t *testing.T) {
			body := "set -euo pipefail\n" + strings.Join(script, "\n") + "\n"
			runChecked(t, 4*time.Minute, func() {
				for _, f := range []string{"main", "emulator", "ebemu", "ebwire"} {
					os.Remove(f)
				}
			}, "bash", "-c", body)
		})
	}
}

// runChecked runs name args from the repository root in a process group of
// its own (so that background jobs die with it), without the caller's
// PICBUCKET_* and TENCENTCLOUD_* settings, and fails t unless it exits 0.
func runChecked(t *testing.T, limit time.Duration, cleanup func(), name string, args ...string) {
	t.Helper()
	if cleanup != nil {
		defer cleanup()
	}
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = cleanEnv()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A background job of a failed script keeps the output pipe open: stop
	// waiting for it shortly after the script itself has ended.
	cmd.WaitDelay = 2 * time.Second
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	if err != nil {
		t.Errorf("%s %q: %v\n%s", name, args, err, tail(out.String(), 4000))
	}
}

func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PICBUCKET_") || strings.HasPrefix(kv, "TENCENTCLOUD_") || strings.HasPrefix(kv, "TENCENT_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// checkGoTest checks that a README `go test` command selects tests: with a
// -run pattern, `go test -list` must list at least one test per package
// pattern's match. `go test ./...` alone is the CI command itself.
func checkGoTest(t *testing.T, args []string) {
	var pattern string
	var pkgs []string
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case a == "-run":
			i++
			pattern = args[i]
		case strings.HasPrefix(a, "-run="):
			pattern = strings.TrimPrefix(a, "-run=")
		case a == "-fuzz" || a == "-fuzztime" || a == "-count" || a == "-bench":
			i++
		case strings.HasPrefix(a, "-"):
		default:
			pkgs = append(pkgs, a)
		}
	}
	if pattern == "" {
		return
	}
	out, err := exec.Command("go", append([]string{"test", "-list", pattern}, pkgs...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go test -list %q %v: %v\n%s", pattern, pkgs, err, out)
	}
	if !regexp.MustCompile(`(?m)^(Test|Fuzz|Benchmark|Example)`).Match(out) {
		t.Errorf("-run %q selects no test in %v:\n%s", pattern, pkgs, out)
	}
}

// shellFields splits a command line on spaces, honouring single and double
// quotes (enough for README's commands).
func shellFields(s string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	in := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '\'' || r == '"':
			quote, in = r, true
		case r == ' ':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		out = append(out, cur.String())
	}
	return out
}

// placeholders replaces "<your account UIN>"-style words with a value of
// the right form.
func placeholders(args []string) []string {
	var out []string
	skip := false
	for _, a := range args {
		if skip {
			if strings.HasSuffix(a, ">") {
				skip = false
			}
			continue
		}
		if strings.HasPrefix(a, "<") {
			out = append(out, "100012345678")
			skip = !strings.HasSuffix(a, ">")
			continue
		}
		out = append(out, a)
	}
	return out
}

func containsArg(args []string, a string) bool {
	for _, x := range args {
		if x == a {
			return true
		}
	}
	return false
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

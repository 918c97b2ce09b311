package main_test

// README.md's commands must run as written when copied from the raw file.
// This test reads them out of README.md:
//
//   - ```sh blocks run as bash scripts (set -e) in a temporary directory
//     holding a copy of events/, as a user's shell in a scratch directory
//     would: every command in them must succeed. `go` there builds this
//     module: a package argument `.`, `./...` or `./cmd/X` names the module
//     root, so built binaries land in the temporary directory, never in the
//     checkout. Every 127.0.0.1:PORT of a block is moved to a free port
//     (port 0), and every tool of cmd/ that a block starts must be given
//     each flag whose default is a loopback address (the emulator's -addr
//     127.0.0.1:9000) on its line, where it is moved too: a block never
//     needs, nor talks to, the port a user's own emulator may hold. The
//     test takes no fixed port itself;
//   - `go test` commands (in any block or code span) must select at least
//     one test: the -run pattern is given to `go test -list`;
//   - `make TARGET` must name a target of the Makefile;
//   - `go run ./cmd/X ARGS` in other blocks and in code spans (commands
//     that need an account) are built and run with ARGS and -h, so that a
//     renamed or removed flag fails here; `go run ./cmd/local` lines run
//     for real against the embedded emulator.
//
// No file of the checkout may change while it runs (checked).

import (
	"bufio"
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
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
	root, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	before := checkoutFiles(t, root)
	defer func() {
		if diff := diffCheckout(before, checkoutFiles(t, root)); diff != "" {
			t.Errorf("README's commands changed the checkout:\n%s", diff)
		}
	}()

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

	work := readmeWorkDir(t, root)
	goWork := readmeGoWork(t, root)
	// Commands run in work, as if typed there, with the module found
	// through a workspace instead of the working directory.
	workEnv := []string{"GOWORK=" + goWork, "PICBUCKET_README_ROOT=" + root}
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
				runChecked(t, 2*time.Minute, work, workEnv, build("./cmd/local"), args[3:]...)
			case args[0] == "go" && args[1] == "run":
				bin := build(args[2])
				rest := placeholders(args[3:])
				cmd := exec.Command(bin, append(rest, "-h")...)
				cmd.Dir = work
				cmd.Env = append(cleanEnv(), workEnv...)
				out, err := cmd.CombinedOutput()
				if err != nil || strings.Contains(string(out), "not defined") || strings.Contains(string(out), "unknown flag") {
					t.Errorf("%s %q -h: %v\n%s", args[2], rest, err, out)
				}
			default:
				t.Errorf("no check for %q", c)
			}
		})
	}

	t.Run("loopback defaults given", func(t *testing.T) {
		if n := checkLoopbackDefaults(t, scripts, build); n == 0 {
			t.Errorf("no tool started by README's sh blocks has a loopback default: README starts the emulator, whose -addr has one, so the check is broken")
		}
	})
	for i, script := range scripts {
		t.Run("sh block "+strconv.Itoa(i+1), func(t *testing.T) {
			body := movePorts(t, strings.Join(script, "\n"))
			runChecked(t, 4*time.Minute, work, workEnv, "bash", "-c", readmePrelude+body+"\n")
		})
	}
}

// readmePrelude starts every sh block: bash's strict mode, and a `go` that
// reads the package arguments `.`, `./...` and `./cmd/X` as the module
// root's, so that the block can run outside the checkout.
const readmePrelude = `set -euo pipefail
go() {
  local a=() x
  for x in "$@"; do
    case $x in
      .) a+=("$PICBUCKET_README_ROOT") ;;
      ./...|./cmd/*|./internal/*) a+=("$PICBUCKET_README_ROOT/${x#./}") ;;
      *) a+=("$x") ;;
    esac
  done
  command go "${a[@]}"
}
`

// readmeWorkDir returns a temporary directory that holds a copy of the
// checkout's events/, which README's commands name by relative path.
func readmeWorkDir(t *testing.T, root string) string {
	t.Helper()
	work := t.TempDir()
	src := filepath.Join(root, "events")
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(work, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(work, rel), b, 0o644)
	})
	if err != nil {
		t.Fatalf("copying events/: %v", err)
	}
	return work
}

// readmeGoWork writes, outside the checkout, a go.work file that uses the
// module at root, so that `go build -o main <root>` works from any
// directory; it returns the file's path, for GOWORK.
func readmeGoWork(t *testing.T, root string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("go", "work", "init", root)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), "GOWORK=")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go work init %s: %v\n%s", root, err, out)
	}
	return filepath.Join(dir, "go.work")
}

// checkLoopbackDefaults checks that every tool of cmd/ an sh block starts
// ("./X ...") is given, on its line, each flag whose default is a loopback
// address (as its -h lists them), and returns how many such flags the
// blocks' tools have.
func checkLoopbackDefaults(t *testing.T, scripts [][]string, build func(string) string) int {
	t.Helper()
	found := 0
	for _, script := range scripts {
		for _, line := range script {
			for _, part := range strings.FieldsFunc(stripComment(line), func(r rune) bool { return r == '&' || r == ';' || r == '|' }) {
				args := shellFields(strings.TrimSpace(part))
				if len(args) == 0 || !strings.HasPrefix(args[0], "./") {
					continue
				}
				tool := "./cmd/" + strings.TrimPrefix(args[0], "./")
				if _, err := os.Stat(tool); err != nil {
					continue
				}
				help, _ := exec.Command(build(tool), "-h").CombinedOutput()
				for _, flag := range loopbackDefaults(string(help)) {
					found++
					if !containsArg(args, "-"+flag) && !containsArg(args, "--"+flag) {
						t.Errorf("README starts %s without -%s, whose default is a loopback address: %q", args[0], flag, line)
					}
				}
			}
		}
	}
	return found
}

var (
	helpFlagRE        = regexp.MustCompile(`^\s+-(-?[a-zA-Z][\w-]*)`)
	loopbackDefaultRE = regexp.MustCompile(`\(default "(?:[a-z]+://)?(?:127\.0\.0\.1|localhost|\[::1\]):\d+`)
)

// loopbackDefaults returns the flags of a flag package -h text whose
// default is a loopback address.
func loopbackDefaults(help string) []string {
	var flags []string
	current := ""
	for _, l := range strings.Split(help, "\n") {
		if m := helpFlagRE.FindStringSubmatch(l); m != nil {
			current = strings.TrimPrefix(m[1], "-")
		}
		if current != "" && loopbackDefaultRE.MatchString(l) {
			flags = append(flags, current)
			current = ""
		}
	}
	return flags
}

var loopbackPortRE = regexp.MustCompile(`\b(127\.0\.0\.1|localhost):(\d+)\b`)

// movePorts rewrites every loopback HOST:PORT of script to a port that was
// free a moment ago, the same port for the same number.
func movePorts(t *testing.T, script string) string {
	t.Helper()
	moved := map[string]string{}
	return loopbackPortRE.ReplaceAllStringFunc(script, func(m string) string {
		sub := loopbackPortRE.FindStringSubmatch(m)
		p, ok := moved[sub[2]]
		if !ok {
			p = freePort(t)
			moved[sub[2]] = p
		}
		return sub[1] + ":" + p
	})
}

// freePort returns a loopback port the kernel just chose and released.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// fileState is what a change to a file alters.
type fileState struct {
	size  int64
	mode  fs.FileMode
	mtime time.Time
}

// checkoutFiles lists every file under root but .git, ignored files
// included, with its size, mode and modification time.
func checkoutFiles(t *testing.T, root string) map[string]fileState {
	t.Helper()
	files := map[string]fileState{}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Name() == ".git" {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		files[rel] = fileState{size: info.Size(), mode: info.Mode(), mtime: info.ModTime()}
		return nil
	})
	if err != nil {
		t.Fatalf("listing the checkout: %v", err)
	}
	return files
}

// diffCheckout describes the files added, removed or changed between two
// listings, one a line; "" when there are none.
func diffCheckout(before, after map[string]fileState) string {
	var lines []string
	for p, a := range after {
		switch b, ok := before[p]; {
		case !ok:
			lines = append(lines, "added "+p)
		case b != a:
			lines = append(lines, fmt.Sprintf("changed %s (%d bytes %v -> %d bytes %v)", p, b.size, b.mtime, a.size, a.mtime))
		}
	}
	for p := range before {
		if _, ok := after[p]; !ok {
			lines = append(lines, "removed "+p)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

// runChecked runs name args in dir in a process group of its own (so that
// background jobs die with it), without the caller's PICBUCKET_* and
// TENCENTCLOUD_* settings but with env, and fails t unless it exits 0.
func runChecked(t *testing.T, limit time.Duration, dir string, env []string, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
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

func TestMovePorts(t *testing.T) {
	in := "./emulator -addr 127.0.0.1:9000 &\nexport PICBUCKET_ENDPOINT=http://127.0.0.1:9000 OTHER=localhost:9100\nport 9000 stays"
	out := movePorts(t, in)
	m := loopbackPortRE.FindAllStringSubmatch(out, -1)
	if len(m) != 3 || m[0][2] != m[1][2] || m[0][2] == m[2][2] || m[0][2] == "9000" || m[2][2] == "9100" {
		t.Errorf("movePorts(%q) = %q: want 9000 moved to one free port twice, 9100 to another", in, out)
	}
	if !strings.HasSuffix(out, "port 9000 stays") {
		t.Errorf("movePorts changed a number that is no address: %q", out)
	}
}

func TestDiffCheckout(t *testing.T) {
	at := time.Unix(1700000000, 0)
	before := map[string]fileState{"a": {1, 0o644, at}, "b": {2, 0o644, at}, "c": {3, 0o755, at}}
	for _, c := range []struct {
		name  string
		after map[string]fileState
		want  string
	}{
		{"same", map[string]fileState{"a": {1, 0o644, at}, "b": {2, 0o644, at}, "c": {3, 0o755, at}}, ""},
		{"added", map[string]fileState{"a": {1, 0o644, at}, "b": {2, 0o644, at}, "c": {3, 0o755, at}, "main": {9, 0o755, at}}, "added main"},
		{"removed", map[string]fileState{"a": {1, 0o644, at}, "b": {2, 0o644, at}}, "removed c"},
		{"rewritten", map[string]fileState{"a": {1, 0o644, at.Add(time.Second)}, "b": {2, 0o644, at}, "c": {3, 0o755, at}}, "changed a"},
		{"resized", map[string]fileState{"a": {1, 0o644, at}, "b": {5, 0o644, at}, "c": {3, 0o755, at}}, "changed b"},
	} {
		if got := diffCheckout(before, c.after); !strings.HasPrefix(got, c.want) || (c.want == "") != (got == "") {
			t.Errorf("%s: diffCheckout = %q, want %q", c.name, got, c.want)
		}
	}
}

// TestBuildOutputsIgnored checks that every binary README.md or the
// Makefile builds at the top of the checkout is in .gitignore and is
// removed by `make clean`: the function (main, or picbucket from a bare
// `go build`), each tool of cmd/ (`go build ./cmd/X` writes X), dist/ and
// build/.
func TestBuildOutputsIgnored(t *testing.T) {
	outputs := []string{"/main", "/picbucket", "/dist/", "/build/"}
	tools, err := os.ReadDir("cmd")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range tools {
		if d.IsDir() {
			outputs = append(outputs, "/"+d.Name())
		}
	}
	ignore, err := os.ReadFile(".gitignore")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(ignore), "\n")
	for _, o := range outputs {
		if !slices.Contains(lines, o) {
			t.Errorf(".gitignore lacks %s", o)
		}
	}
	if _, err := exec.LookPath("make"); err != nil {
		t.Logf("no make: %v; `make clean` not checked", err)
		return
	}
	out, err := exec.Command("make", "-n", "clean").CombinedOutput()
	if err != nil {
		t.Fatalf("make -n clean: %v\n%s", err, out)
	}
	removed := strings.Fields(string(out))
	for _, o := range outputs {
		if name := strings.Trim(o, "/"); !slices.Contains(removed, name) {
			t.Errorf("make clean leaves %s (it runs: %s)", name, out)
		}
	}
}

// readmeMaxLines is README.md's budget: what it is, quick start, deploy,
// settings, operating; the rest lives in docs/.
const readmeMaxLines = 200

// TestReadmeShape checks README.md's length, that its relative links name
// files of the repository, and that every `README.md, "Section"` pointer in
// serverless.yml names a heading of README.md.
func TestReadmeShape(t *testing.T) {
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(readme), "\n"); n > readmeMaxLines {
		t.Errorf("README.md has %d lines, want at most %d: move long parts to docs/", n, readmeMaxLines)
	}
	for _, m := range regexp.MustCompile(`\]\(([^)#:]+)(#[^)]*)?\)`).FindAllStringSubmatch(string(readme), -1) {
		if _, err := os.Stat(m[1]); err != nil {
			t.Errorf("README.md links to %s: %v", m[1], err)
		}
	}
	headings := map[string]bool{}
	for _, l := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(l, "#") {
			headings[strings.TrimSpace(strings.TrimLeft(l, "#"))] = true
		}
	}
	sls, err := os.ReadFile("serverless.yml")
	if err != nil {
		t.Fatal(err)
	}
	pointers := regexp.MustCompile(`README\.md, "([^"]+)"`).FindAllStringSubmatch(string(sls), -1)
	if len(pointers) == 0 {
		t.Error(`serverless.yml names no README.md section (README.md, "Section"): the check is broken`)
	}
	for _, m := range pointers {
		if !headings[m[1]] {
			t.Errorf("serverless.yml points to README.md section %q, which does not exist", m[1])
		}
	}
}

func TestLoopbackDefaults(t *testing.T) {
	help := "flags:\n  -addr string\n    \tlisten address (default \"127.0.0.1:9000\")\n  -appid string\n    \tAPPID (default \"1250000000\")\n" +
		"  -endpoint string\n    \tthe service\n    \tat (default \"http://localhost:9100\")\n  -public string\n    \t(default \"https://cos.example.com:443\")\n"
	if got := loopbackDefaults(help); strings.Join(got, ",") != "addr,endpoint" {
		t.Errorf("loopbackDefaults = %q, want addr and endpoint", got)
	}
}

// TestEnvFilesIgnored checks that the .env files README tells deployers to
// keep their keys in (and their .env.* variants, at any depth) are ignored
// by git, so that a `git add .` never commits a key.
func TestEnvFilesIgnored(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skipf("no git: %v", err)
	}
	if err := exec.Command("git", "rev-parse", "--git-dir").Run(); err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	for _, path := range []string{".env", ".env.local", ".env.production", "cmd/wire/.env", "docs/.env.example"} {
		// --no-index: the rules alone decide, whether or not the path exists or is tracked.
		out, err := exec.Command("git", "check-ignore", "--no-index", "-v", path).CombinedOutput()
		if err != nil {
			t.Errorf("git check-ignore %s: %v (%s): want it ignored by .gitignore", path, err, strings.TrimSpace(string(out)))
		}
	}
}

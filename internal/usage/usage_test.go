package usage_test

import (
	"bytes"
	"errors"
	"flag"
	"strings"
	"testing"

	"github.com/picbucket/picbucket/internal/usage"
)

func newFlags() (*flag.FlagSet, *int) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	n := fs.Int("n", 3, "how many")
	fs.Bool("v", false, "say more")
	return fs, n
}

func TestParse(t *testing.T) {
	cmd := usage.Command{Name: "go run ./cmd/t", What: "t counts things.", Args: "FILE", More: "Exit status 0."}
	for _, c := range []struct {
		args       []string
		status     int    // Fail's answer; -1 when Parse succeeds
		stdout     string // the start of stdout
		stderr     string // all of stderr
		notStdout  string
		wantParsed int
	}{
		{args: []string{"-n", "5", "f"}, status: -1, wantParsed: 5},
		{args: []string{"-h"}, status: 0,
			stdout: "t counts things.\n\nusage: go run ./cmd/t [flags] FILE\n\nExit status 0.\n\nflags:\n  -n int\n    \thow many (default 3)\n"},
		{args: []string{"-n", "9", "-help"}, status: 0, stdout: "t counts things.\n", notStdout: "default 9"},
		{args: []string{"-bogus"}, status: 2, stderr: "t: flag provided but not defined: -bogus\nrun 'go run ./cmd/t -h' for usage\n"},
		{args: []string{"-n", "x"}, status: 2, stderr: "t: invalid value \"x\" for flag -n: parse error\nrun 'go run ./cmd/t -h' for usage\n"},
	} {
		fs, n := newFlags()
		var out, errb bytes.Buffer
		err := cmd.Parse(fs, c.args, &out)
		status := -1
		if err != nil {
			status = cmd.Fail(&errb, err)
		}
		if status != c.status || !strings.HasPrefix(out.String(), c.stdout) || errb.String() != c.stderr ||
			(c.notStdout != "" && strings.Contains(out.String(), c.notStdout)) || (status == -1 && *n != c.wantParsed) {
			t.Errorf("%q: status %d, -n %d\nstdout %q\nstderr %q", c.args, status, *n, out.String(), errb.String())
		}
		if c.status == 0 && !strings.Contains(out.String(), "-v\tsay more") {
			t.Errorf("%q: help lacks -v:\n%s", c.args, out.String())
		}
		if c.status != 0 && out.Len() != 0 {
			t.Errorf("%q: stdout %q, want nothing", c.args, out.String())
		}
	}
}

// TestHelpMergesSets: several forms' flags are listed once each, and a
// command with neither flags nor a synopsis gets a plain usage line.
func TestHelpMergesSets(t *testing.T) {
	a, _ := newFlags()
	b := flag.NewFlagSet("b", flag.ContinueOnError)
	b.Int("n", 7, "another n")
	b.String("region", "", "a region")
	var out bytes.Buffer
	usage.Command{What: "m does two things.", Synopsis: "  m one\n  m two\n"}.Help(&out, a, b)
	got := out.String()
	if !strings.HasPrefix(got, "m does two things.\n\nusage:\n  m one\n  m two\n\nflags:\n") ||
		strings.Count(got, "  -n int") != 1 || !strings.Contains(got, "how many (default 3)") || !strings.Contains(got, "-region string") {
		t.Errorf("help:\n%s", got)
	}
	out.Reset()
	usage.Command{Name: "x", What: "x does it."}.Help(&out, flag.NewFlagSet("x", flag.ContinueOnError))
	if got := out.String(); got != "x does it.\n\nusage: x\n" {
		t.Errorf("help without flags: %q", got)
	}
	if s := (usage.Command{Name: "x"}).Fail(&out, flag.ErrHelp); s != usage.ExitHelp {
		t.Errorf("Fail(ErrHelp) = %d", s)
	}
	if s := (usage.Command{Name: "x"}).Fail(&out, errors.New("no")); s != usage.ExitUsage {
		t.Errorf("Fail(error) = %d", s)
	}
}

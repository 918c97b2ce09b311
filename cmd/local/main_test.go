package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/picbucket/picbucket/internal/scfrpc"
)

func TestEnvFlag(t *testing.T) {
	for _, c := range []struct {
		args    []string
		want    []string // the collected entries
		errWant string   // a part of the error, when the command line is wrong
	}{
		{[]string{"-env", "PICBUCKET_REGIONS=ap-guangzhou,ap-shanghai", "e.json"}, []string{"PICBUCKET_REGIONS=ap-guangzhou,ap-shanghai"}, ""},
		{[]string{"-env", "A=1", "-env", "B=x=y", "-env", "_C=", "e.json"}, []string{"A=1", "B=x=y", "_C="}, ""},
		{[]string{"-env=LOG_LEVEL=debug", "e.json"}, []string{"LOG_LEVEL=debug"}, ""},
		{[]string{"e.json"}, nil, ""},
		{[]string{"-env", "NOEQUALS", "e.json"}, nil, `"NOEQUALS" is not KEY=VALUE`},
		{[]string{"-env", "=v", "e.json"}, nil, `"=v" has an empty key`},
		{[]string{"-env", "1A=b", "e.json"}, nil, `key "1A" is not a variable name`},
		{[]string{"-env", "A-B=c", "e.json"}, nil, `key "A-B"`},
		{[]string{"-env", "A B=c", "e.json"}, nil, `key "A B"`},
		{[]string{"-env", "OK=1", "-env", "BAD", "e.json"}, nil, `"BAD"`},
	} {
		o, err := parse(c.args, io.Discard)
		if c.errWant != "" {
			if err == nil || !strings.Contains(err.Error(), c.errWant) || !strings.Contains(err.Error(), "-env") {
				t.Errorf("%q: error %v, want one naming -env and %s", c.args, err, c.errWant)
			}
			continue
		}
		if err != nil || !slices.Equal(o.env, c.want) || o.event != "e.json" {
			t.Errorf("%q: env %q, event %q, %v; want %q", c.args, o.env, o.event, err, c.want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "want one EVENT.json, got 0"},
		{[]string{"a.json", "b.json"}, "got 2"},
		{[]string{"-env", "x", "a.json"}, `invalid value "x" for flag -env`},
		{[]string{"-bogus", "a.json"}, "-bogus"},
		{[]string{"-timeout", "0s", "a.json"}, "-timeout"},
	} {
		var out, errb bytes.Buffer
		code := run(c.args, &out, &errb)
		lines := strings.Split(strings.TrimSpace(errb.String()), "\n")
		if code != 2 || out.Len() != 0 || !strings.Contains(errb.String(), c.want) || len(lines) != 2 || !strings.Contains(lines[1], "-h") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", c.args, code, out.String(), errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := run([]string{"-h"}, &out, &errb); code != 0 || !strings.Contains(errb.String(), "usage:") || !strings.Contains(errb.String(), "-env") {
		t.Errorf("-h: exit %d, stderr %q", code, errb.String())
	}
}

// The binaries the end-to-end tests run, built once.
var (
	buildOnce           sync.Once
	localBin, fnBin     string
	buildErr            error
	repoRoot, buildsDir string
)

// binaries builds cmd/local and the function into a directory that lives
// as long as the test binary (t.TempDir is per test).
func binaries(t *testing.T) (local, fn, root string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs binaries")
	}
	buildOnce.Do(func() {
		if repoRoot, buildErr = filepath.Abs(filepath.Join("..", "..")); buildErr != nil {
			return
		}
		if buildsDir, buildErr = os.MkdirTemp("", "picbucket-local-test"); buildErr != nil {
			return
		}
		localBin, fnBin = filepath.Join(buildsDir, "local"), filepath.Join(buildsDir, "main")
		cmd := exec.Command("go", "build", "-o", localBin, "./cmd/local")
		cmd.Dir = repoRoot
		if b, err := cmd.CombinedOutput(); err != nil {
			buildErr = errors.New("go build ./cmd/local: " + err.Error() + "\n" + string(b))
			return
		}
		buildErr = scfrpc.Build(repoRoot, fnBin)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return localBin, fnBin, repoRoot
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildsDir != "" {
		os.RemoveAll(buildsDir)
	}
	os.Exit(code)
}

type result struct {
	DryRun  bool `json:"dryRun"`
	Results []struct {
		Bucket, Region, Outcome string
	} `json:"results"`
	Summary map[string]int `json:"summary"`
}

// runLocal runs the built command from the repository root, as
// `go run ./cmd/local ARGS…` would, and decodes its stdout: exactly one JSON value.
func runLocal(t *testing.T, args ...string) (result, string) {
	t.Helper()
	local, fn, root := binaries(t)
	cmd := exec.Command(local, append([]string{"-binary", fn}, args...)...)
	cmd.Dir = root
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("local %q: %v\nstdout:\n%s\nstderr:\n%s", args, err, out.String(), errb.String())
	}
	dec := json.NewDecoder(bytes.NewReader(out.Bytes()))
	var res result
	if err := dec.Decode(&res); err != nil {
		t.Fatalf("local %q: stdout is not a JSON result: %v\n%s", args, err, out.String())
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); err != io.EOF {
		t.Fatalf("local %q: stdout holds more than the result (%v): %s", args, err, extra)
	}
	return res, errb.String()
}

// otherPoint lists the samples whose point is an outcome other than
// enabling a bucket: for them any of enabled, would_enable,
// already_enabled or skipped will do.
var otherPoint = map[string]bool{
	"eventbridge-putbucket-nobucket.json": true, // names no bucket: the function reconciles
}

// TestEverySample runs every file in events/ through the local runner, as
// README shows: go run ./cmd/local events/FILE.
func TestEverySample(t *testing.T) {
	_, _, root := binaries(t)
	files, err := filepath.Glob(filepath.Join(root, "events", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no events/*.json: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			res, logs := runLocal(t, "events/"+name)
			s := res.Summary
			ok := s["enabled"] > 0
			want := "enabled"
			switch {
			case otherPoint[name]:
				ok = s["enabled"]+s["would_enable"]+s["already_enabled"]+s["skipped"] > 0
				want = "enabled, would_enable, already_enabled or skipped"
			case res.DryRun:
				ok = s["would_enable"] > 0
				want = "would_enable"
			}
			if !ok || s["failed"] > 0 {
				t.Errorf("summary %v: want a bucket %s and none failed\nresults %+v\nstderr:\n%s", s, want, res.Results, logs)
			}
		})
	}
}

// TestEnvAndStreams: repeated -env settings reach the function whole
// (commas included), and the function's log lines go to stderr.
func TestEnvAndStreams(t *testing.T) {
	res, logs := runLocal(t, "-env", "PICBUCKET_REGIONS=ap-guangzhou", "-env", "PICBUCKET_EXCLUDE=photos-0*,taken-*",
		"-env", "LOG_LEVEL=debug", "events/timer.json")
	var got []string
	for _, r := range res.Results {
		got = append(got, r.Bucket+"@"+r.Region+":"+r.Outcome)
	}
	want := []string{"archive-1250000000@ap-guangzhou:enabled", "bucketname-1250000000@ap-guangzhou:enabled", "photos-1250000000@ap-guangzhou:enabled"}
	if !slices.Equal(got, want) {
		t.Errorf("results %v, want %v", got, want)
	}
	// The function's JSON log lines (debug included) are on stderr.
	for _, want := range []string{`"message":"summary"`, `"level":"debug"`, "emulator saw"} {
		if !strings.Contains(logs, want) {
			t.Errorf("stderr lacks %s:\n%s", want, logs)
		}
	}
}

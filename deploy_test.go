package main_test

// Deployment checks: serverless.yml against the code (runtime, handler,
// package directory, settings, timer), and the deployable zip built by the
// same function `go run ./cmd/package` uses.

import (
	"archive/zip"
	"bytes"
	"debug/elf"
	"encoding/json"
	"github.com/picbucket/picbucket/internal/tcapi"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/picbucket/picbucket/internal/config"
	"github.com/picbucket/picbucket/internal/deploy"
	"github.com/picbucket/picbucket/internal/trigger"
)

// deployServerless is the part of serverless.yml these tests read. Fields
// the component accepts but the tests do not check are ignored.
type deployServerless struct {
	Component string `yaml:"component"`
	Name      string `yaml:"name"`
	Inputs    struct {
		Name        string    `yaml:"name"`
		Src         yaml.Node `yaml:"src"`
		Handler     string    `yaml:"handler"`
		Runtime     string    `yaml:"runtime"`
		Region      string    `yaml:"region"`
		Role        string    `yaml:"role"`
		MemorySize  int       `yaml:"memorySize"`
		Timeout     int       `yaml:"timeout"`
		Environment struct {
			Variables yaml.Node `yaml:"variables"`
		} `yaml:"environment"`
		Events []map[string]struct {
			Parameters struct {
				Name           string    `yaml:"name"`
				Qualifier      string    `yaml:"qualifier"`
				CronExpression string    `yaml:"cronExpression"`
				Enable         yaml.Node `yaml:"enable"`
				Argument       string    `yaml:"argument"`
			} `yaml:"parameters"`
		} `yaml:"events"`
	} `yaml:"inputs"`
}

func deployReadServerless(t *testing.T) deployServerless {
	t.Helper()
	b, err := os.ReadFile("serverless.yml")
	if err != nil {
		t.Fatal(err)
	}
	var s deployServerless
	if err := yaml.Unmarshal(b, &s); err != nil {
		t.Fatalf("serverless.yml: %v", err)
	}
	return s
}

// SCF's limits (SCF "Limits"; tencent-scf docs/configure.md).
var (
	deployFunctionNameRE = regexp.MustCompile(`^[A-Za-z][\w-]{0,58}[A-Za-z0-9]$`)
	deployEnvNameRE      = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	deployTimerNameRE    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,59}$`)
	deployReserved       = []string{"SCF_", "QCLOUD_", "TENCENTCLOUD_"}
)

func TestServerlessYAMLMatchesTheCode(t *testing.T) {
	s := deployReadServerless(t)
	in := s.Inputs
	if s.Component != "scf" {
		t.Errorf("component = %q, want scf", s.Component)
	}
	if in.Runtime != "Go1" {
		t.Errorf("runtime = %q, want Go1", in.Runtime)
	}
	if in.Handler != deploy.BinaryName {
		t.Errorf("handler = %q, want %q (the binary the package tool writes)", in.Handler, deploy.BinaryName)
	}
	if in.Src.Kind != yaml.ScalarNode || filepath.Clean(in.Src.Value) != deploy.DistDir {
		t.Errorf("src = %q, want ./%s (the directory holding only the binary)", in.Src.Value, deploy.DistDir)
	}
	if !deployFunctionNameRE.MatchString(in.Name) {
		t.Errorf("name %q: want 2-60 letters, digits, _ or -, starting with a letter, ending with a letter or digit", in.Name)
	}
	if in.Name != tcapi.DefaultFunction {
		t.Errorf("name %q differs from wire eventbridge's default --function %q", in.Name, tcapi.DefaultFunction)
	}
	if !tcapi.ValidRegion(in.Region) {
		t.Errorf("region %q is not a region id", in.Region)
	}
	if in.Role == "" {
		t.Error("no role: the function signs with its execution role's temporary key")
	}
	if m := in.MemorySize; m != 64 && (m < 128 || m > 3072 || m%128 != 0) {
		t.Errorf("memorySize = %d, want 64 or 128-3072 in steps of 128", m)
	}
	if in.Timeout < 1 || in.Timeout > 900 {
		t.Errorf("timeout = %d, want 1-900 seconds", in.Timeout)
	}

	// Environment: only settings the code reads, as strings, none reserved,
	// all valid, the test setting absent.
	vars := map[string]string{}
	v := in.Environment.Variables
	if v.Kind != yaml.MappingNode {
		t.Fatalf("environment.variables is not a mapping")
	}
	size := 0
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], v.Content[i+1]
		name := k.Value
		if !slices.Contains(config.Names, name) {
			t.Errorf("environment variable %s is not a setting the function reads (config.Names)", name)
		}
		if !deployEnvNameRE.MatchString(name) {
			t.Errorf("environment variable name %q is not [A-Za-z][A-Za-z0-9_]*", name)
		}
		for _, p := range deployReserved {
			if strings.HasPrefix(name, p) {
				t.Errorf("environment variable %s uses the reserved prefix %s", name, p)
			}
		}
		if val.Kind != yaml.ScalarNode || val.Tag != "!!str" {
			t.Errorf("environment variable %s = %s is a %s, want a string (quote it)", name, val.Value, val.Tag)
		}
		if name == config.Endpoint {
			t.Errorf("%s is a test setting; it must not be deployed", name)
		}
		vars[name] = val.Value
		size += len(name) + len(val.Value)
	}
	if size > 4096 {
		t.Errorf("environment variables total %d bytes, more than SCF's 4 KB", size)
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Errorf("the settings in serverless.yml do not load: %v", err)
	}
	if time.Duration(in.Timeout)*time.Second <= cfg.DeadlineMargin {
		t.Errorf("timeout %ds leaves no time before the deadline margin %s", in.Timeout, cfg.DeadlineMargin)
	}

	// Timer: enabled (the component's default is off), a valid 7-field cron,
	// and an argument the function accepts.
	timers := 0
	for _, ev := range in.Events {
		for kind, e := range ev {
			if kind != "timer" {
				continue
			}
			timers++
			p := e.Parameters
			if p.Enable.Kind != yaml.ScalarNode || p.Enable.Tag != "!!bool" || p.Enable.Value != "true" {
				t.Errorf("timer %q: enable must be the boolean true (the component sends CLOSE otherwise)", p.Name)
			}
			if err := deploy.ValidateCron(p.CronExpression); err != nil {
				t.Errorf("timer %q: %v", p.Name, err)
			}
			if !deployTimerNameRE.MatchString(p.Name) {
				t.Errorf("timer name %q: want at most 60 of a-z A-Z 0-9 - _, starting with a letter", p.Name)
			}
			if p.Qualifier != "$DEFAULT" {
				t.Errorf("timer %q: qualifier %q, want $DEFAULT", p.Name, p.Qualifier)
			}
			if len(p.Argument) > 4096 {
				t.Errorf("timer %q: argument is longer than 4 KB", p.Name)
			}
			payload, _ := json.Marshal(map[string]string{"Type": "Timer", "TriggerName": p.Name, "Time": "2024-05-20T10:15:00Z", "Message": p.Argument})
			req, err := trigger.ParseWith(payload, trigger.Options{})
			if err != nil {
				t.Errorf("timer %q: the function refuses its event: %v", p.Name, err)
			} else if req.Reconcile == nil {
				t.Errorf("timer %q: its event does not reconcile", p.Name)
			}
		}
	}
	if timers == 0 {
		t.Error("no timer trigger: nothing reconciles the buckets events missed")
	}
}

// TestPackageZip builds the deployable zip exactly as `go run ./cmd/package`
// does and checks what SCF will unpack.
func TestPackageZip(t *testing.T) {
	t.Parallel() // builds and compresses: let it overlap with the other tests
	out := t.TempDir()
	start := time.Now()
	res, err := deploy.Package(".", out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built in %s: %s %d bytes, %s %d bytes", time.Since(start).Round(time.Millisecond), res.Binary, res.BinaryBytes, res.Zip, res.ZipBytes)

	entries, err := os.ReadDir(filepath.Join(out, deploy.DistDir))
	if err != nil || len(entries) != 1 || entries[0].Name() != deploy.BinaryName {
		t.Errorf("%s holds %v (%v), want only %s", deploy.DistDir, entries, err, deploy.BinaryName)
	}
	if res.Zip != filepath.Join(out, filepath.FromSlash(deploy.ZipPath)) {
		t.Errorf("zip at %s, want %s", res.Zip, deploy.ZipPath)
	}

	zr, err := zip.OpenReader(res.Zip)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 {
		t.Fatalf("zip has %d entries, want 1", len(zr.File))
	}
	f := zr.File[0]
	if f.Name != deploy.BinaryName {
		t.Errorf("entry %q, want %q at the zip's root", f.Name, deploy.BinaryName)
	}
	if m := f.Mode(); !m.IsRegular() || m.Perm()&0o111 != 0o111 {
		t.Errorf("entry mode %s, want executable", m)
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	ef, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatalf("not an ELF file: %v", err)
	}
	if ef.Class != elf.ELFCLASS64 || ef.Machine != elf.EM_X86_64 || ef.Type != elf.ET_EXEC {
		t.Errorf("ELF %s %s %s, want ELFCLASS64 EM_X86_64 ET_EXEC", ef.Class, ef.Machine, ef.Type)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has a PT_INTERP program header: it is dynamically linked")
		}
	}
	if ef.Section(".symtab") != nil {
		t.Error("the binary has a symbol table: -ldflags -s was not applied")
	}
	if res.ZipBytes >= deploy.MaxZipBytes {
		t.Errorf("zip is %d bytes, want < %d", res.ZipBytes, deploy.MaxZipBytes)
	}

	// Packaging again gives the same zip, byte for byte: a build of the same
	// sources is the same binary (-trimpath), and the zip holds nothing else
	// of the moment it was made. The second build is newer: its file time
	// differs, and must not reach the zip.
	again, err := deploy.Package(".", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	first, err1 := os.ReadFile(res.Zip)
	second, err2 := os.ReadFile(again.Zip)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if !bytes.Equal(first, second) {
		t.Errorf("packaging twice gave different zips (%d and %d bytes): not reproducible", len(first), len(second))
	}
}

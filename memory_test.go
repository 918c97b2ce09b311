package main_test

// Memory (issue 19, item 6): every event form, at any size SCF delivers
// synchronously (6 MB), is answered within the memory serverless.yml
// deploys (64 MB). Each adversarial shape of internal/trigger/shapes is
// sent through the SCF runtime protocol to a fresh function process; the
// kernel's high-water mark of its resident memory (VmHWM) is read after
// the answer. The figures are in docs/performance.md.

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/picbucket/picbucket/internal/emulator"
	"github.com/picbucket/picbucket/internal/trigger/shapes"
)

// deployedMemoryMB reads memorySize from serverless.yml.
func deployedMemoryMB(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("serverless.yml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*memorySize:\s*(\d+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("serverless.yml has no memorySize")
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}

// shapePayloads writes every payload of shapes.All to a temporary
// directory, as <index>.json, through internal/trigger/shapes/gen built
// without the race detector (under it, building them takes ten times as
// long), and returns the directory.
func shapePayloads(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	gen := filepath.Join(dir, "gen")
	cmd := exec.Command("go", "build", "-o", gen, "./internal/trigger/shapes/gen")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	if out, err := exec.Command(gen, dir).CombinedOutput(); err != nil {
		t.Fatalf("gen: %v\n%s", err, out)
	}
	return dir
}

func TestWorstShapesWithinDeployedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("starts one process per shape")
	}
	limit := deployedMemoryMB(t) << 20
	payloads := shapePayloads(t)
	for i, s := range shapes.All() {
		t.Run(s.Name, func(t *testing.T) {
			f := start(t, emulator.Options{})
			f.memoryMB = int32(limit >> 20) // as SCF tells the function its memorySize
			f.emu.AddBucket("photos-1250000000", "ap-guangzhou", true)
			idle, err := f.proc.PeakRSS()
			if err != nil {
				t.Skipf("no peak RSS on this system: %v", err)
			}
			payload, err := os.ReadFile(filepath.Join(payloads, strconv.Itoa(i)+".json"))
			if err != nil {
				t.Fatal(err)
			}
			res, errMsg := f.invokeWith(payload, defaultCreds, 60*time.Second)
			if res == nil && errMsg == "" {
				t.Fatal("no answer")
			}
			peak, err := f.proc.PeakRSS()
			if err != nil {
				t.Fatal(err)
			}
			outcome := errMsg
			if res != nil {
				outcome = "a result: " + strconv.Itoa(len(res.Results)) + " results"
			}
			t.Logf("%d-byte payload: peak RSS %.1f MiB (%.1f MiB before the event); %.120s", len(payload),
				float64(peak)/(1<<20), float64(idle)/(1<<20), outcome)
			if peak >= limit {
				t.Errorf("peak RSS %.1f MiB, want under the deployed %d MiB", float64(peak)/(1<<20), limit>>20)
			}
		})
	}
}

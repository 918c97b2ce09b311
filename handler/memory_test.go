package handler

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestLimitMemory: an invocation's deployed memory sets the soft limit to
// memoryShare of it; an unknown size leaves it alone, and a limit the
// process started with (GOMEMLIMIT) stands.
func TestLimitMemory(t *testing.T) {
	old := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetMemoryLimit(old); memoryLimit.mb = 0 })

	memoryLimit.mb = 0
	limitMemory(0)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("no size: limit %d, want none", got)
	}
	limitMemory(64)
	if got := debug.SetMemoryLimit(-1); got != 48<<20 {
		t.Errorf("64 MB: limit %d, want %d (48 MiB)", got, 48<<20)
	}
	limitMemory(128)
	if got := debug.SetMemoryLimit(-1); got != 96<<20 {
		t.Errorf("128 MB: limit %d, want %d (96 MiB)", got, 96<<20)
	}

	memoryLimit.mb = 0
	debug.SetMemoryLimit(200 << 20) // as GOMEMLIMIT=200MiB at start
	limitMemory(64)
	if got := debug.SetMemoryLimit(-1); got != 200<<20 {
		t.Errorf("with the process's own limit: %d, want it kept (%d)", got, 200<<20)
	}
}

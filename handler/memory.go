package handler

import (
	"math"
	"runtime/debug"
	"sync"
)

// The function's memory: SCF kills an instance that passes the memory it
// deploys with (serverless.yml's memorySize, 64 MB), and tells each
// invocation that size (the request's MemoryLimitInMb, scf-go-lib
// functioncontext.FunctionContext.MemoryLimitInMb). Go's collector, left
// to GOGC alone, lets the heap grow to twice what was live at the last
// collection: a run whose results are large (20,000 rows from a 190 KB CLS
// event) peaked at 64-76 MiB of RSS. A soft limit (runtime/debug
// SetMemoryLimit) makes the collector work harder instead as the heap
// nears it.

// memoryShare is the part of the deployed memory the Go runtime's soft
// limit allows: the rest is for what the limit does not count (the
// binary's pages, about 9 MiB resident before the first event) and for
// overshoot.
const memoryShare = 0.75

// memoryLimit remembers the limit set, so that it is set once per size.
var memoryLimit struct {
	sync.Mutex
	mb int32
}

// limitMemory sets the Go runtime's soft memory limit to memoryShare of
// mb MiB, the invocation's deployed memory, unless mb is unknown (0) or
// the process started with a limit of its own (GOMEMLIMIT, which the
// runtime reads at start only): the operator's choice stands.
func limitMemory(mb int32) {
	if mb <= 0 {
		return
	}
	memoryLimit.Lock()
	defer memoryLimit.Unlock()
	if memoryLimit.mb == mb || (memoryLimit.mb == 0 && debug.SetMemoryLimit(-1) != math.MaxInt64) {
		return
	}
	memoryLimit.mb = mb
	debug.SetMemoryLimit(int64(math.Round(float64(int64(mb)<<20) * memoryShare)))
}

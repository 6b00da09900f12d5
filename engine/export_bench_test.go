package engine

import (
	"syscall"
	"time"
)

// BenchKernels are the matrix kernels the external benchmarks use: the last
// of testKernels (OpenBLAS when built with the openblas tag).
var BenchKernels = testKernels[len(testKernels)-1]

// CPUTime returns the user and system CPU time the process has used, which
// a benchmark on a machine shared with other jobs reports next to wall
// time (CPU time per operation is far less disturbed by the other load).
func CPUTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestKernels are the Kernels implementations of this build, for the
// external tests.
var TestKernels = testKernels

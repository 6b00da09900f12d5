//go:build cgo

package targets

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"syscall"
	"time"
	"unsafe"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/ortrun"
)

// MeasureModel times model (ONNX bytes) in ONNX Runtime under the cost
// model's host protocol (BENCHMARK.md section D): default session options
// (graph optimization level "all"), 1 intra-op thread, sequential execution,
// batch 1 (symbolic dims bound to 1), seeded N(0, 1) float32 inputs, warmup
// untimed runs, then runs timed runs with preallocated outputs. It returns
// the median wall time and the median CPU time of the calling thread, which
// with one intra-op thread and sequential execution runs every kernel.
// Inputs must be float32.
func MeasureModel(model []byte, runs, warmup int) (Measurement, error) {
	if runs < 1 {
		return Measurement{}, fmt.Errorf("targets: measure: %d runs, want at least 1", runs)
	}
	if err := ortrun.Available(); err != nil {
		return Measurement{}, fmt.Errorf("targets: measure: %w", err)
	}
	ins, outs, err := ortrun.ModelInfo(model)
	if err != nil {
		return Measurement{}, fmt.Errorf("targets: measure: %w", err)
	}
	so, err := ort.NewSessionOptions()
	if err != nil {
		return Measurement{}, fmt.Errorf("targets: measure: session options: %v", err)
	}
	defer so.Destroy()
	if err := so.SetIntraOpNumThreads(1); err != nil {
		return Measurement{}, fmt.Errorf("targets: measure: intra-op threads: %v", err)
	}
	var inNames, outNames []string
	for _, v := range ins {
		inNames = append(inNames, v.Name)
	}
	for _, v := range outs {
		outNames = append(outNames, v.Name)
	}
	sess, err := ort.NewDynamicAdvancedSessionWithONNXData(model, inNames, outNames, so)
	if err != nil {
		return Measurement{}, fmt.Errorf("targets: measure: creating session: %v", err)
	}
	defer sess.Destroy()
	inputs := make([]ort.Value, len(ins))
	outputs := make([]ort.Value, len(outs))
	defer func() {
		for _, v := range append(inputs, outputs...) {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	for i, in := range ins {
		if in.DType != ir.Float32 {
			return Measurement{}, fmt.Errorf("targets: measure: input %q is %s, want f32", in.Name, in.DType)
		}
		dims := make([]int64, len(in.Dims))
		n := int64(1)
		for j, d := range in.Dims {
			dims[j] = max(d, 1) // symbolic dims (the batch) bound to 1
			n *= dims[j]
		}
		rng := rand.New(rand.NewPCG(1, uint64(i)))
		data := make([]float32, n)
		for j := range data {
			data[j] = float32(rng.NormFloat64())
		}
		if inputs[i], err = ort.NewTensor(ort.NewShape(dims...), data); err != nil {
			return Measurement{}, fmt.Errorf("targets: measure: input %q: %v", in.Name, err)
		}
	}
	// The first run lets ONNX Runtime allocate the outputs; later runs
	// reuse them, so the timed runs do no Go-side allocation.
	if err := sess.Run(inputs, outputs); err != nil {
		return Measurement{}, fmt.Errorf("targets: measure: run: %v", err)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	for range max(warmup-1, 0) {
		if err := sess.Run(inputs, outputs); err != nil {
			return Measurement{}, fmt.Errorf("targets: measure: run: %v", err)
		}
	}
	wall := make([]time.Duration, runs)
	cpu := make([]time.Duration, runs)
	for i := range runs {
		c0, w0 := threadCPU(), time.Now()
		if err := sess.Run(inputs, outputs); err != nil {
			return Measurement{}, fmt.Errorf("targets: measure: timed run %d: %v", i, err)
		}
		wall[i], cpu[i] = time.Since(w0), threadCPU()-c0
	}
	return Measurement{Runs: runs, WallMs: medianMs(wall), CPUMs: medianMs(cpu)}, nil
}

// threadCPU returns the calling OS thread's CPU time (user and system).
func threadCPU() time.Duration {
	const clockThreadCPUTimeID = 3
	var ts syscall.Timespec
	syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID, uintptr(unsafe.Pointer(&ts)), 0)
	return time.Duration(ts.Nano())
}

func medianMs(ds []time.Duration) float64 {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	n := len(s)
	if n == 0 {
		return 0
	}
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return float64(med) / 1e6
}

// ORTVersion returns the version of the loaded ONNX Runtime.
func ORTVersion() (string, error) { return ortrun.Version() }

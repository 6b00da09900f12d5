package engine

import (
	"math"
	"sync"

	"github.com/ferminets/fermi/ir"
)

// Buffer reuse.
//
// Every Executor owns an arena of float32 buffers that its runs (Run,
// RunAll, Evaluate) and its Trainer's steps take kernel outputs and scratch
// space from and give back once nothing reads them, so a steady stream of
// same-shaped batches allocates almost nothing after the first. A run
// tracks the buffers it took in a runState: a buffer goes back to the
// arena when the last value (or tape entry) holding it is dropped, or when
// the run ends, except for the buffers of the values the run returns to its
// caller, which leave the arena for good. Views (Reshape, Flatten, …) share
// their input's buffer, so holds are counted per buffer, keyed by the
// address of its first element; kernels never return a sub-slice of a
// pooled buffer with a different start.

// arenaKeep is how many runs a buffer size may go unrequested before the
// arena forgets its free buffers of that size (so a change of batch size
// does not keep the old batch's buffers forever).
const arenaKeep = 8

// arena is a free list of float32 buffers by length, shared by the
// concurrent runs of one Executor.
type arena struct {
	mu   sync.Mutex
	free map[int]*bucket
	gen  uint64              // runs started so far
	f64  map[int][][]float64 // free float64 buffers (the moments fusion's plane sums), by length
}

type bucket struct {
	bufs [][]float32
	last uint64 // gen of the last request
}

func newArena() *arena { return &arena{free: map[int]*bucket{}} }

// start begins a run: it forgets the sizes no recent run asked for.
func (a *arena) start() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.gen++
	for n, b := range a.free {
		if a.gen-b.last > arenaKeep {
			delete(a.free, n)
		}
	}
}

// get returns a buffer of n > 0 elements, zeroed when zero is set (a
// recycled buffer otherwise holds stale data).
func (a *arena) get(n int, zero bool) []float32 {
	a.mu.Lock()
	b := a.free[n]
	if b == nil {
		b = &bucket{}
		a.free[n] = b
	}
	b.last = a.gen
	var buf []float32
	if k := len(b.bufs); k > 0 {
		buf = b.bufs[k-1]
		b.bufs[k-1] = nil
		b.bufs = b.bufs[:k-1]
	}
	a.mu.Unlock()
	if buf == nil {
		return make([]float32, n)
	}
	if zero {
		clear(buf)
	}
	return buf
}

// getF64 returns a float64 buffer of n elements, of stale contents.
func (a *arena) getF64(n int) []float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	if l := a.f64[n]; len(l) > 0 {
		a.f64[n] = l[:len(l)-1]
		return l[len(l)-1]
	}
	return make([]float64, n)
}

// putF64 gives back a buffer of getF64.
func (a *arena) putF64(buf []float64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.f64 == nil {
		a.f64 = map[int][][]float64{}
	}
	a.f64[len(buf)] = append(a.f64[len(buf)], buf)
}

// poisonArena makes put fill every returned buffer with NaN, so that tests
// catch a kernel reading a recycled buffer it did not write, or a buffer
// given back while a value still reads it.
var poisonArena = false

// put gives buf back.
func (a *arena) put(buf []float32) {
	if poisonArena {
		nan := float32(math.NaN())
		for i := range buf {
			buf[i] = nan
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	b := a.free[len(buf)]
	if b == nil {
		b = &bucket{last: a.gen}
		a.free[len(buf)] = b
	}
	b.bufs = append(b.bufs, buf)
}

// runState tracks the arena buffers of one run or training step: the
// buffers taken and, for each, how many values hold it.
type runState struct {
	a    *arena
	mu   sync.Mutex // kernels take buffers from several goroutines
	mine map[*float32][]float32
	refs map[*float32]int
	fuse bool // Relus are folded into their producers (fuse.go)
	// moments holds the per-plane sums of convolution outputs, by data,
	// for the BatchNormalization that reads them (fuse.go).
	moments map[*float32][]float64
	// gradBase is the gradient a Conv's input already has, offered to the
	// Conv's backward, and gradBaseTaken whether it added it (fuse.go).
	gradBase      *ir.Tensor
	gradBaseTaken bool
}

func newRunState(a *arena) *runState {
	a.start()
	return &runState{a: a, mine: map[*float32][]float32{}, refs: map[*float32]int{}}
}

// take returns an arena buffer of n elements, zeroed when zero is set.
func (r *runState) take(n int, zero bool) []float32 {
	if n <= 0 {
		return []float32{}
	}
	buf := r.a.get(n, zero)
	r.mu.Lock()
	r.mine[&buf[0]] = buf
	r.mu.Unlock()
	return buf
}

// key returns the run's key of t's data, or nil when the data is not an
// arena buffer of this run.
func (r *runState) key(t *ir.Tensor) *float32 {
	if t == nil || t.DType != ir.Float32 || len(t.F32) == 0 {
		return nil
	}
	p := &t.F32[0]
	r.mu.Lock()
	_, ok := r.mine[p]
	r.mu.Unlock()
	if !ok {
		return nil
	}
	return p
}

// hold counts one more holder of t's buffer.
func (r *runState) hold(t *ir.Tensor) {
	if p := r.key(t); p != nil {
		r.mu.Lock()
		r.refs[p]++
		r.mu.Unlock()
	}
}

// drop counts one holder of t's buffer less and gives the buffer back to
// the arena when none is left.
func (r *runState) drop(t *ir.Tensor) {
	p := r.key(t)
	if p == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.refs[p]--; r.refs[p] > 0 {
		return
	}
	delete(r.refs, p)
	buf := r.mine[p]
	delete(r.mine, p)
	r.a.put(buf)
}

// settle gives back the buffers of ts that nothing holds (kernel outputs
// that were not kept, gradients that were not needed).
func (r *runState) settle(ts []*ir.Tensor) {
	for _, t := range ts {
		r.hold(t)
	}
	for _, t := range ts {
		r.drop(t)
	}
}

// release gives back a scratch buffer taken with take that no value holds.
func (r *runState) release(buf []float32) {
	if len(buf) == 0 {
		return
	}
	p := &buf[0]
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.mine[p]; !ok || r.refs[p] > 0 {
		return
	}
	delete(r.mine, p)
	r.a.put(buf)
}

// finish ends the run: every buffer still taken goes back to the arena,
// except those of keep, which leave it (the caller owns them now).
func (r *runState) finish(keep []*ir.Tensor) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range keep {
		if t != nil && t.DType == ir.Float32 && len(t.F32) > 0 {
			delete(r.mine, &t.F32[0])
		}
	}
	for _, buf := range r.mine {
		r.a.put(buf)
	}
	r.mine, r.refs = nil, nil
}

// abandon ends the run without giving anything back: every buffer it took
// is left to the caller and the collector.
func (r *runState) abandon() {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.mine, r.refs = nil, nil
	r.mu.Unlock()
}

// alloc returns a zeroed float32 tensor of the given dims, from the run's
// arena when e belongs to a run.
func (e *Executor) alloc(dims []int) *ir.Tensor {
	return &ir.Tensor{DType: ir.Float32, Dims: dims64(dims), F32: e.buf(prod(dims), true)}
}

// allocRaw is alloc for kernels that write every element: a recycled
// buffer is not cleared first.
func (e *Executor) allocRaw(dims []int) *ir.Tensor {
	return &ir.Tensor{DType: ir.Float32, Dims: dims64(dims), F32: e.buf(prod(dims), false)}
}

// buf returns n float32s (zeroed when zero is set) from the run's arena,
// or freshly allocated outside a run.
func (e *Executor) buf(n int, zero bool) []float32 {
	if e.rs == nil {
		return make([]float32, n)
	}
	return e.rs.take(n, zero)
}

// scratch returns a buffer of n float32s for a kernel's temporary use, to
// be given back with unscratch; its contents are undefined.
func (e *Executor) scratch(n int) []float32 { return e.buf(n, false) }

// unscratch gives back a buffer from scratch.
func (e *Executor) unscratch(buf []float32) {
	if e.rs != nil {
		e.rs.release(buf)
	}
}

// inRun returns a copy of e whose kernels take their buffers from a new
// run of e's arena.
func (e *Executor) inRun() *Executor {
	r := *e
	if e.arena != nil { // nil in tests that compare against fresh buffers
		r.rs = newRunState(e.arena)
	}
	return &r
}

// hold, drop and settle forward to the run's state; they do nothing
// outside a run.
func (e *Executor) hold(t *ir.Tensor) {
	if e.rs != nil {
		e.rs.hold(t)
	}
}

func (e *Executor) drop(t *ir.Tensor) {
	if e.rs != nil {
		e.rs.drop(t)
	}
}

func (e *Executor) settle(ts []*ir.Tensor) {
	if e.rs != nil {
		e.rs.settle(ts)
	}
}

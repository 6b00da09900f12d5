package engine

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/ferminets/fermi/ir"
)

// kernel computes the outputs of node n from its input tensors (nil for an
// omitted optional input). It returns one tensor per output of n (nil for
// outputs it does not compute). Errors describe the problem without the node
// name, which the executor adds.
type kernel func(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error)

// forward is the forward kernel of every supported op.
var forward = [...]kernel{
	ir.OpConv:              conv,
	ir.OpConvTranspose:     convTranspose,
	ir.OpBatchNorm:         batchNorm,
	ir.OpRelu:              unaryOp,
	ir.OpClip:              clip,
	ir.OpLeakyRelu:         unaryOp,
	ir.OpSigmoid:           unaryOp,
	ir.OpHardSigmoid:       unaryOp,
	ir.OpHardSwish:         unaryOp,
	ir.OpTanh:              unaryOp,
	ir.OpErf:               unaryOp,
	ir.OpSqrt:              unaryOp,
	ir.OpAdd:               binaryOp,
	ir.OpSub:               binaryOp,
	ir.OpMul:               binaryOp,
	ir.OpDiv:               binaryOp,
	ir.OpPow:               binaryOp,
	ir.OpConcat:            concat,
	ir.OpSplit:             split,
	ir.OpSlice:             slice,
	ir.OpMaxPool:           maxPool,
	ir.OpAveragePool:       averagePool,
	ir.OpGlobalAveragePool: globalAveragePool,
	ir.OpReduceMean:        reduceMean,
	ir.OpResize:            resize,
	ir.OpGemm:              gemm,
	ir.OpMatMul:            matMul,
	ir.OpFlatten:           flatten,
	ir.OpReshape:           reshape,
	ir.OpTranspose:         transpose,
	ir.OpSqueeze:           squeeze,
	ir.OpUnsqueeze:         unsqueeze,
	ir.OpSoftmax:           softmax,
	ir.OpDropout:           dropout,
	ir.OpIdentity:          identity,
	ir.OpPad:               pad,
	ir.OpShape:             shape,
	ir.OpGather:            gather,
	ir.OpCast:              cast,
	ir.OpConstant:          constant,
	ir.OpQuantizeLinear:    quantizeLinear,
	ir.OpDequantizeLinear:  dequantizeLinear,
}

func forwardOf(op ir.Op) kernel {
	if int(op) < len(forward) {
		return forward[op]
	}
	return nil
}

type config struct {
	threads int
	kernels Kernels
}

// Option configures an Executor.
type Option func(*config)

// WithThreads sets how many goroutines kernels may use (default
// runtime.GOMAXPROCS(0)). Results do not depend on it. A Kernels
// implementation may add its own parallelism inside one large product
// (gonum's Sgemm uses up to GOMAXPROCS goroutines).
func WithThreads(n int) Option {
	return func(c *config) {
		if n > 0 {
			c.threads = n
		}
	}
}

// WithKernels sets the implementation of the matrix kernels (default Blocked).
func WithKernels(k Kernels) Option {
	return func(c *config) {
		if k != nil {
			c.kernels = k
		}
	}
}

// Executor runs one graph. It is safe for concurrent use by multiple
// goroutines: Run keeps its state on the stack. The graph must not change
// while the Executor is in use.
type Executor struct {
	g       *ir.Graph
	cfg     config
	params  map[*ir.Value]*ir.Tensor
	lastUse map[*ir.Value]int // index of the last node reading a value; len(Nodes) for graph outputs
	arena   *arena            // buffers shared by the runs (arena.go)
	rs      *runState         // the run this copy of the Executor belongs to, nil outside runs
	fuse    fusion            // Relus that Run folds into their producers (fuse.go)
}

// New checks that every node of g has a kernel, that every graph input has a
// known rank and that every parameter holds data, and returns an executor
// for g. Opaque and unsupported nodes are all named in the error.
func New(g *ir.Graph, opts ...Option) (*Executor, error) {
	e := &Executor{g: g, cfg: config{threads: runtime.GOMAXPROCS(0), kernels: Blocked{}},
		params: make(map[*ir.Value]*ir.Tensor), lastUse: make(map[*ir.Value]int), arena: newArena(), fuse: planFusion(g, inferenceFusion)}
	for _, o := range opts {
		o(&e.cfg)
	}
	var bad []string
	for _, n := range g.Nodes {
		if n.Op == ir.OpOpaque || forwardOf(n.Op) == nil {
			bad = append(bad, fmt.Sprintf("%q (%s)", n.Name, n.TypeName()))
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("engine: graph %q: no kernel for nodes %s", g.Name, strings.Join(bad, ", "))
	}
	for _, v := range g.Inputs {
		if v.Shape == nil {
			return nil, fmt.Errorf("engine: input %q has unknown rank", v.Name)
		}
	}
	for _, p := range g.Params {
		t, err := materialize(p.Const)
		if err != nil {
			return nil, fmt.Errorf("engine: parameter %q: %v", p.Name, err)
		}
		e.params[p] = t
	}
	for i, n := range g.Nodes {
		for _, v := range n.Inputs {
			if v != nil {
				e.lastUse[v] = i
			}
		}
	}
	for _, v := range g.Outputs {
		e.lastUse[v] = len(g.Nodes)
	}
	return e, nil
}

// materialize returns t with its data filled in from its initializer recipe
// when only the recipe is stored, after checking the data's length.
func materialize(t *ir.Tensor) (*ir.Tensor, error) {
	if t == nil {
		return nil, fmt.Errorf("no data")
	}
	if t.Init != nil && t.DType == ir.Float32 && len(t.F32) == 0 && t.Len() > 0 {
		t = t.Init.Materialize(t.Dims)
	}
	if err := t.CheckData(); err != nil {
		return nil, err
	}
	return widenHalf(t), nil // float16 runs widened (float16.go)
}

// Run executes the graph on inputs (keyed by graph input name) and returns
// the graph outputs in g.Outputs order. Returned tensors may share data with
// the inputs, the parameters or each other: treat them as read-only.
func (e *Executor) Run(inputs map[string]*ir.Tensor) ([]*ir.Tensor, error) {
	vals, err := e.run(inputs, false)
	if err != nil {
		return nil, err
	}
	out := make([]*ir.Tensor, len(e.g.Outputs))
	for i, v := range e.g.Outputs {
		out[i] = narrowHalf(v, vals[v])
	}
	return out, nil
}

// RunAll executes the graph and returns every value it computed, inputs and
// parameters included, keyed by value name (read-only, as for Run).
func (e *Executor) RunAll(inputs map[string]*ir.Tensor) (map[string]*ir.Tensor, error) {
	vals, err := e.run(inputs, true)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*ir.Tensor, len(vals))
	for v, t := range vals {
		out[v.Name] = narrowHalf(v, t)
	}
	return out, nil
}

func (e *Executor) run(inputs map[string]*ir.Tensor, keep bool) (_ map[*ir.Value]*ir.Tensor, err error) {
	if !keep { // RunAll returns every value: no buffer could go back
		e = e.inRun()
		if e.rs != nil {
			e.rs.fuse = true // nor could a Relu be folded into its producer
		}
		defer func() {
			if err != nil {
				e.rs.finish(nil)
			}
		}()
	}
	vals := make(map[*ir.Value]*ir.Tensor, len(e.params)+len(e.g.Nodes)+len(inputs))
	for p, t := range e.params {
		vals[p] = t
	}
	if err := e.bindInputs(inputs, vals); err != nil { // a fed input overrides a parameter of the same value
		return nil, err
	}
	for i, n := range e.g.Nodes {
		in := make([]*ir.Tensor, len(n.Inputs))
		for j, v := range n.Inputs {
			if v == nil || v.Name == "" {
				continue
			}
			t, ok := vals[v]
			if !ok {
				return nil, fmt.Errorf("engine: node %q (%s): input %q has no value", n.Name, n.TypeName(), v.Name)
			}
			in[j] = t
		}
		var outs []*ir.Tensor
		if e.reluViewed(n) { // its producer rectified the input (fuse.go)
			outs = in[:1]
		} else if outs, err = callKernel(e, n, in); err != nil {
			return nil, fmt.Errorf("engine: node %q (%s): %w", n.Name, n.TypeName(), err)
		}
		for j, v := range n.Outputs {
			if v == nil || v.Name == "" {
				continue
			}
			if j >= len(outs) || outs[j] == nil {
				return nil, fmt.Errorf("engine: node %q (%s): output %d not computed", n.Name, n.TypeName(), j)
			}
			t, ok := asDeclared(v, outs[j]) // rounds float16 outputs (float16.go)
			if !ok {
				return nil, fmt.Errorf("engine: node %q (%s): output %q is %v, graph declares %v", n.Name, n.TypeName(), v.Name, outs[j].DType, v.DType)
			}
			vals[v] = t
			e.hold(t)
		}
		if !keep {
			e.settle(outs)
			for _, v := range n.Inputs {
				if t, ok := vals[v]; ok && v != nil && e.lastUse[v] == i && v.Const == nil {
					delete(vals, v)
					e.drop(t)
				}
			}
		}
	}
	if !keep {
		kept := make([]*ir.Tensor, 0, len(e.g.Outputs))
		for _, v := range e.g.Outputs {
			kept = append(kept, vals[v])
		}
		e.rs.finish(kept)
	}
	return vals, nil
}

// callKernel runs n's forward kernel. A kernel panic (a bug, or a graph
// the verifier should have rejected) becomes an error naming the node
// rather than crashing the caller.
func callKernel(e *Executor, n *ir.Node, in []*ir.Tensor) (outs []*ir.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("internal error: %v", r)
		}
	}()
	return forward[n.Op](e, n, in)
}

// bindInputs checks inputs against the graph's declared inputs: dtype, rank,
// static sizes, and consistent sizes for each symbolic dim.
func (e *Executor) bindInputs(inputs map[string]*ir.Tensor, vals map[*ir.Value]*ir.Tensor) error {
	syms := map[string]int64{}
	for name := range inputs {
		if !slices.ContainsFunc(e.g.Inputs, func(v *ir.Value) bool { return v.Name == name }) {
			return fmt.Errorf("engine: graph %q has no input %q", e.g.Name, name)
		}
	}
	for _, v := range e.g.Inputs {
		if v.Const != nil { // an input with a default value
			if _, ok := inputs[v.Name]; !ok {
				t, err := materialize(v.Const)
				if err != nil {
					return fmt.Errorf("engine: input %q: default value: %v", v.Name, err)
				}
				vals[v] = t
				continue
			}
		}
		t, ok := inputs[v.Name]
		if !ok || t == nil {
			return fmt.Errorf("engine: input %q not given", v.Name)
		}
		if t.DType != v.DType {
			return fmt.Errorf("engine: input %q is %v, want %v", v.Name, t.DType, v.DType)
		}
		if err := t.CheckData(); err != nil {
			return fmt.Errorf("engine: input %q: %v", v.Name, err)
		}
		t = widenHalf(t)
		if len(t.Dims) != len(v.Shape) {
			return fmt.Errorf("engine: input %q has shape %v, want %v", v.Name, t.Dims, v.Shape)
		}
		for i, d := range v.Shape {
			switch {
			case d.Static() && d.Size != t.Dims[i]:
				return fmt.Errorf("engine: input %q has shape %v, want %v", v.Name, t.Dims, v.Shape)
			case d.Sym != "":
				if s, ok := syms[d.Sym]; ok && s != t.Dims[i] {
					return fmt.Errorf("engine: input %q has shape %v, but %s = %d from an earlier input", v.Name, t.Dims, d.Sym, s)
				}
				syms[d.Sym] = t.Dims[i]
			}
		}
		vals[v] = t
	}
	return nil
}

// elemChunk is how many elements one item of parallelElems' work holds.
const elemChunk = 4096

// parallelElems calls f(lo, hi) on ranges of elements covering [0, n),
// split across threads in items of elemChunk elements: the elementwise
// passes' split.
func (e *Executor) parallelElems(n int, f func(lo, hi int)) {
	e.parallel(n/elemChunk+1, func(lo, hi int) {
		f(lo*elemChunk, min(hi*elemChunk, n))
	})
}

// parallel calls f(lo, hi) on contiguous chunks covering [0, n), using at
// most e's thread count goroutines. Each index belongs to exactly one chunk,
// so results that f writes per index do not depend on the thread count.
func (e *Executor) parallel(n int, f func(lo, hi int)) {
	t := min(e.cfg.threads, n)
	if t <= 1 {
		if n > 0 {
			f(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	panics := make([]any, t)
	for i := 0; i < t; i++ {
		lo, hi := i*n/t, (i+1)*n/t
		wg.Add(1)
		go func() {
			defer func() {
				panics[i] = recover()
				wg.Done()
			}()
			f(lo, hi)
		}()
	}
	wg.Wait()
	for _, p := range panics {
		if p != nil {
			panic(p) // re-raised on the caller's goroutine, where callKernel recovers it
		}
	}
}

// ints converts int64 dims to ints.
func ints(d []int64) []int {
	out := make([]int, len(d))
	for i, v := range d {
		out[i] = int(v)
	}
	return out
}

// dims64 converts int dims to int64.
func dims64(d []int) []int64 {
	out := make([]int64, len(d))
	for i, v := range d {
		out[i] = int64(v)
	}
	return out
}

func prod(d []int) int {
	p := 1
	for _, v := range d {
		p *= v
	}
	return p
}

// newF32 returns a zeroed float32 tensor of the given dims.
func newF32(dims []int) *ir.Tensor {
	return &ir.Tensor{DType: ir.Float32, Dims: dims64(dims), F32: make([]float32, prod(dims))}
}

// needF32 checks that t is a float32 tensor of the given rank (any rank if rank < 0).
func needF32(t *ir.Tensor, what string, rank int) error {
	if t == nil {
		return fmt.Errorf("%s is missing", what)
	}
	if t.DType != ir.Float32 {
		return fmt.Errorf("%s is %v, want f32", what, t.DType)
	}
	if rank >= 0 && len(t.Dims) != rank {
		return fmt.Errorf("%s has %d dims, want %d", what, len(t.Dims), rank)
	}
	return nil
}

// axis normalizes a possibly negative axis for the given rank.
func axis(a int64, rank int) (int, error) {
	if a < -int64(rank) || a >= int64(rank) {
		return 0, fmt.Errorf("axis %d out of range for rank %d", a, rank)
	}
	if a < 0 {
		a += int64(rank)
	}
	return int(a), nil
}

// sameDims reports whether a and b are equal.
func sameDims(a, b []int64) bool { return slices.Equal(a, b) }

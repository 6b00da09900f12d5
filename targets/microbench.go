package targets

import (
	"fmt"

	"github.com/ferminets/fermi/ir"
)

// MicroBenchmark is one generated calibration graph: a single kernel (a
// layer and the ops the host runtime fuses into it) on a batch-1 input.
type MicroBenchmark struct {
	Name  string
	Class OpClass
	Graph *ir.Graph
}

// microBuilder builds one micro-benchmark graph with deterministic weights.
type microBuilder struct {
	b    *ir.Builder
	seed uint64
}

func newMicro(name string) *microBuilder { return &microBuilder{b: ir.NewBuilder(name)} }

func (m *microBuilder) param(name string, dims ...int64) *ir.Value {
	m.seed++
	return m.b.Param(name, ir.Init{Kind: "normal", Seed: m.seed, A: 0, B: 0.05}.Materialize(dims))
}

func (m *microBuilder) input(dims ...int64) *ir.Value {
	return m.b.Input("x", ir.Float32, ir.Static(dims...))
}

func (m *microBuilder) finish(y *ir.Value) (*ir.Graph, error) {
	m.b.Output(y)
	return m.b.Build()
}

// convSpec is one convolution micro-benchmark: C_in → C_out on an H×H
// input, K×K kernel, stride S, Groups groups, followed by BN and/or an
// activation that the host fuses into the convolution.
type convSpec struct {
	Cin, Cout, H, K, S, Groups int
	BN                         bool
	Act                        ir.Op // OpInvalid: none
}

func (c convSpec) name() string {
	s := fmt.Sprintf("conv_c%d_o%d_h%d_k%d_s%d", c.Cin, c.Cout, c.H, c.K, c.S)
	if c.Groups > 1 {
		s = fmt.Sprintf("dwconv_c%d_h%d_k%d_s%d", c.Cin, c.H, c.K, c.S)
	}
	if c.BN {
		s += "_bn"
	}
	if c.Act != ir.OpInvalid {
		s += "_" + c.Act.Info().Name
	}
	return s
}

func buildConv(c convSpec) (*ir.Graph, error) {
	m := newMicro(c.name())
	x := m.input(1, int64(c.Cin), int64(c.H), int64(c.H))
	g := max(c.Groups, 1)
	w := m.param("w", int64(c.Cout), int64(c.Cin/g), int64(c.K), int64(c.K))
	ins := []*ir.Value{x, w}
	if !c.BN {
		ins = append(ins, m.param("b", int64(c.Cout)))
	}
	p := int64(c.K / 2)
	y := m.b.Node(ir.OpConv, "conv", ins, ir.IntsAttr("kernel_shape", int64(c.K), int64(c.K)),
		ir.IntsAttr("strides", int64(c.S), int64(c.S)), ir.IntsAttr("pads", p, p, p, p), ir.IntAttr("group", int64(g)))
	if c.BN {
		ch := int64(c.Cout)
		y = m.b.Node(ir.OpBatchNorm, "bn", []*ir.Value{y, m.b.Param("scale", ir.Init{Kind: "uniform", Seed: 7, A: 0.5, B: 1.5}.Materialize([]int64{ch})),
			m.param("shift", ch), m.param("mean", ch), m.b.Param("var", ir.Init{Kind: "uniform", Seed: 9, A: 0.5, B: 1.5}.Materialize([]int64{ch}))})
	}
	y = m.activation(y, c.Act)
	return m.finish(y)
}

func (m *microBuilder) activation(y *ir.Value, act ir.Op) *ir.Value {
	switch act {
	case ir.OpInvalid:
		return y
	case ir.OpClip:
		lo := m.b.Param("lo", ir.NewFloat32([]int64{}, []float32{0}))
		hi := m.b.Param("hi", ir.NewFloat32([]int64{}, []float32{6}))
		return m.b.Node(ir.OpClip, "act", []*ir.Value{y, lo, hi})
	}
	return m.b.Node(act, "act", []*ir.Value{y})
}

// gemmSpec is a batch-1 fully-connected layer K → N.
type gemmSpec struct {
	K, N int
	Act  ir.Op
}

func buildGemm(s gemmSpec) (*ir.Graph, error) {
	name := fmt.Sprintf("gemm_k%d_n%d", s.K, s.N)
	if s.Act != ir.OpInvalid {
		name += "_" + s.Act.Info().Name
	}
	m := newMicro(name)
	x := m.input(1, int64(s.K))
	y := m.b.Node(ir.OpGemm, "fc", []*ir.Value{x, m.param("w", int64(s.N), int64(s.K)), m.param("b", int64(s.N))}, ir.IntAttr("transB", 1))
	return m.finish(m.activation(y, s.Act))
}

// eltSpec is an elementwise op on a 1×C×H×H tensor; binary ops take a
// second input of the same shape.
type eltSpec struct {
	Op   ir.Op
	C, H int
}

func buildElementwise(s eltSpec) (*ir.Graph, error) {
	m := newMicro(fmt.Sprintf("%s_c%d_h%d", s.Op.Info().Name, s.C, s.H))
	dims := []int64{1, int64(s.C), int64(s.H), int64(s.H)}
	x := m.input(dims...)
	if s.Op == ir.OpAdd || s.Op == ir.OpMul {
		x2 := m.b.Input("x2", ir.Float32, ir.Static(dims...))
		return m.finish(m.b.Node(s.Op, "op", []*ir.Value{x, x2}))
	}
	if s.Op == ir.OpClip {
		return m.finish(m.activation(x, ir.OpClip))
	}
	return m.finish(m.b.Node(s.Op, "op", []*ir.Value{x}))
}

// poolSpec is a pool on a 1×C×H×H tensor: K×K window with stride S, or a
// global average pool when K is 0.
type poolSpec struct {
	Op      ir.Op
	C, H    int
	K, S, P int
}

func buildPool(s poolSpec) (*ir.Graph, error) {
	name := fmt.Sprintf("%s_c%d_h%d_k%d_s%d", s.Op.Info().Name, s.C, s.H, s.K, s.S)
	m := newMicro(name)
	x := m.input(1, int64(s.C), int64(s.H), int64(s.H))
	if s.Op == ir.OpGlobalAveragePool {
		return m.finish(m.b.Node(s.Op, "pool", []*ir.Value{x}))
	}
	p := int64(s.P)
	return m.finish(m.b.Node(s.Op, "pool", []*ir.Value{x}, ir.IntsAttr("kernel_shape", int64(s.K), int64(s.K)),
		ir.IntsAttr("strides", int64(s.S), int64(s.S)), ir.IntsAttr("pads", p, p, p, p)))
}

// dataSpec is a data-movement op: Concat of two 1×C×H×H tensors along
// channels, or a Transpose of one to NHWC.
type dataSpec struct {
	Op   ir.Op
	C, H int
}

func buildData(s dataSpec) (*ir.Graph, error) {
	m := newMicro(fmt.Sprintf("%s_c%d_h%d", s.Op.Info().Name, s.C, s.H))
	dims := []int64{1, int64(s.C), int64(s.H), int64(s.H)}
	x := m.input(dims...)
	switch s.Op {
	case ir.OpConcat:
		x2 := m.b.Input("x2", ir.Float32, ir.Static(dims...))
		return m.finish(m.b.Node(ir.OpConcat, "cat", []*ir.Value{x, x2}, ir.IntAttr("axis", 1)))
	default:
		return m.finish(m.b.Node(ir.OpTranspose, "tr", []*ir.Value{x}, ir.IntsAttr("perm", 0, 2, 3, 1)))
	}
}

// baseBenchmark is the Identity-only model whose time is the fixed cost of
// one session run (input binding, executor setup), subtracted from every
// micro-benchmark.
func baseBenchmark() (*ir.Graph, error) {
	m := newMicro("identity")
	x := m.input(1, 16)
	return m.finish(m.b.Node(ir.OpIdentity, "id", []*ir.Value{x}))
}

// MicroBenchmarks returns the calibration set: convolutions (dense 3×3,
// 5×5, 7×7 and strided, pointwise, first layers with 1 or 3 input channels,
// channel counts on and off the 16-channel blocks, with fused BN and
// activations), depthwise convolutions, fully-connected layers (weights
// from 40 KB to 100 MB, across the last-level cache's size), elementwise ops, pools and data movement, across sizes from a few
// kilobytes to a few megabytes of activations. None of them is one of the
// networks the acceptance benchmark evaluates.
func MicroBenchmarks() ([]MicroBenchmark, error) {
	var out []MicroBenchmark
	add := func(class OpClass, g *ir.Graph, err error) error {
		if err != nil {
			return fmt.Errorf("targets: micro-benchmark: %w", err)
		}
		out = append(out, MicroBenchmark{Name: g.Name, Class: class, Graph: g})
		return nil
	}
	relu, clip := ir.OpRelu, ir.OpClip
	convs := []convSpec{
		// dense 3×3
		{Cin: 16, Cout: 16, H: 32, K: 3, S: 1, Act: relu},
		{Cin: 32, Cout: 32, H: 16, K: 3, S: 1, BN: true, Act: relu},
		{Cin: 64, Cout: 64, H: 8, K: 3, S: 1},
		{Cin: 64, Cout: 64, H: 56, K: 3, S: 1, Act: relu},
		{Cin: 128, Cout: 128, H: 28, K: 3, S: 1, BN: true},
		{Cin: 256, Cout: 256, H: 14, K: 3, S: 1, Act: relu},
		{Cin: 512, Cout: 512, H: 7, K: 3, S: 1, Act: relu},
		{Cin: 48, Cout: 96, H: 20, K: 3, S: 1, Act: relu},
		{Cin: 24, Cout: 40, H: 12, K: 3, S: 1, Act: relu},
		// strided
		{Cin: 32, Cout: 64, H: 32, K: 3, S: 2, Act: relu},
		{Cin: 128, Cout: 256, H: 28, K: 3, S: 2, BN: true, Act: relu},
		// 5×5, 7×7
		{Cin: 32, Cout: 32, H: 24, K: 5, S: 1, Act: relu},
		{Cin: 3, Cout: 64, H: 112, K: 7, S: 2, Act: relu},
		// first layers
		{Cin: 3, Cout: 32, H: 112, K: 3, S: 2, BN: true, Act: clip},
		{Cin: 3, Cout: 16, H: 64, K: 3, S: 1, Act: relu},
		{Cin: 1, Cout: 32, H: 28, K: 3, S: 1, Act: relu},
		{Cin: 1, Cout: 8, H: 32, K: 5, S: 1, Act: relu},
		// odd channel counts (no blocked layout)
		{Cin: 6, Cout: 12, H: 24, K: 5, S: 1, Act: relu},
		{Cin: 20, Cout: 36, H: 14, K: 3, S: 1, Act: relu},
		// pointwise
		{Cin: 32, Cout: 192, H: 28, K: 1, S: 1, BN: true, Act: clip},
		{Cin: 192, Cout: 32, H: 28, K: 1, S: 1, BN: true},
		{Cin: 96, Cout: 576, H: 14, K: 1, S: 1, Act: clip},
		{Cin: 320, Cout: 1280, H: 7, K: 1, S: 1, Act: relu},
		{Cin: 64, Cout: 256, H: 56, K: 1, S: 1},
		{Cin: 1024, Cout: 1024, H: 7, K: 1, S: 1, Act: relu},
		{Cin: 16, Cout: 16, H: 112, K: 1, S: 1, Act: relu},
		{Cin: 24, Cout: 72, H: 40, K: 1, S: 1, Act: relu},
		{Cin: 8, Cout: 8, H: 16, K: 1, S: 1},
		{Cin: 40, Cout: 240, H: 28, K: 1, S: 1, Act: relu},
		{Cin: 200, Cout: 80, H: 14, K: 1, S: 1, BN: true},
		{Cin: 120, Cout: 40, H: 28, K: 1, S: 1},
		{Cin: 56, Cout: 56, H: 20, K: 3, S: 1, Act: relu},
		// small spatial sizes (deep layers of 28-32 pixel inputs)
		{Cin: 256, Cout: 256, H: 2, K: 3, S: 1, BN: true, Act: relu},
		{Cin: 512, Cout: 512, H: 2, K: 3, S: 1, Act: relu},
		{Cin: 128, Cout: 256, H: 4, K: 3, S: 1, BN: true, Act: relu},
		{Cin: 64, Cout: 128, H: 4, K: 3, S: 2, Act: relu},
		{Cin: 256, Cout: 512, H: 3, K: 1, S: 1, Act: relu},
		// weights beyond the caches, with compute of the same order
		{Cin: 1024, Cout: 1024, H: 4, K: 3, S: 1, Act: relu},
		{Cin: 768, Cout: 768, H: 6, K: 3, S: 1, BN: true, Act: relu},
		{Cin: 2048, Cout: 1024, H: 2, K: 3, S: 1, Act: relu},
	}
	for _, c := range convs {
		c.Groups = 1
		g, err := buildConv(c)
		if err := add(ClassConv, g, err); err != nil {
			return nil, err
		}
	}
	dws := []convSpec{
		{Cin: 32, H: 112, K: 3, S: 1, BN: true, Act: clip},
		{Cin: 96, H: 112, K: 3, S: 2, Act: relu},
		{Cin: 144, H: 56, K: 3, S: 1, Act: clip},
		{Cin: 192, H: 28, K: 3, S: 1, BN: true, Act: clip},
		{Cin: 384, H: 14, K: 3, S: 1, Act: relu},
		{Cin: 960, H: 7, K: 3, S: 1, Act: relu},
		{Cin: 240, H: 28, K: 5, S: 1, Act: relu},
		{Cin: 672, H: 14, K: 5, S: 2, Act: relu},
		{Cin: 64, H: 16, K: 3, S: 1, Act: relu},
		{Cin: 16, H: 28, K: 3, S: 1, Act: relu},
		{Cin: 72, H: 20, K: 3, S: 1, Act: relu},
		{Cin: 120, H: 28, K: 5, S: 1, Act: relu},
		{Cin: 200, H: 14, K: 3, S: 1, BN: true, Act: clip},
		{Cin: 184, H: 14, K: 3, S: 2, Act: relu},
		{Cin: 256, H: 4, K: 3, S: 1, Act: relu},
	}
	for _, c := range dws {
		c.Cout, c.Groups = c.Cin, c.Cin
		g, err := buildConv(c)
		if err := add(ClassDepthwise, g, err); err != nil {
			return nil, err
		}
	}
	for _, s := range []gemmSpec{{64, 10, ir.OpInvalid}, {400, 120, relu}, {512, 1000, ir.OpInvalid}, {1280, 1000, ir.OpInvalid},
		{2048, 1000, ir.OpInvalid}, {9216, 128, relu}, {1024, 1024, relu}, {256, 256, ir.OpInvalid},
		{3072, 1024, ir.OpInvalid}, {2048, 2048, relu}, {3072, 2048, ir.OpInvalid}, {4096, 2048, ir.OpInvalid},
		{4096, 4096, ir.OpInvalid}, {3072, 8192, relu}, {8192, 1536, ir.OpInvalid}} {
		g, err := buildGemm(s)
		if err := add(ClassGemm, g, err); err != nil {
			return nil, err
		}
	}
	for _, s := range []eltSpec{{ir.OpAdd, 16, 16}, {ir.OpAdd, 64, 56}, {ir.OpAdd, 24, 112}, {ir.OpAdd, 256, 28}, {ir.OpMul, 96, 56},
		{ir.OpMul, 32, 14}, {ir.OpRelu, 64, 56}, {ir.OpRelu, 16, 32}, {ir.OpClip, 32, 112}, {ir.OpSigmoid, 128, 28},
		{ir.OpHardSwish, 64, 56}, {ir.OpHardSigmoid, 16, 56}, {ir.OpRelu, 512, 28}} {
		g, err := buildElementwise(s)
		if err := add(ClassElementwise, g, err); err != nil {
			return nil, err
		}
	}
	for _, s := range []poolSpec{{ir.OpMaxPool, 64, 112, 3, 2, 1}, {ir.OpMaxPool, 32, 28, 2, 2, 0}, {ir.OpMaxPool, 6, 28, 2, 2, 0},
		{ir.OpAveragePool, 128, 28, 2, 2, 0}, {ir.OpAveragePool, 64, 56, 3, 1, 1}, {ir.OpGlobalAveragePool, 1280, 7, 0, 0, 0},
		{ir.OpGlobalAveragePool, 64, 8, 0, 0, 0}, {ir.OpGlobalAveragePool, 2048, 7, 0, 0, 0}, {ir.OpGlobalAveragePool, 96, 56, 0, 0, 0},
		{ir.OpMaxPool, 128, 56, 3, 2, 1}} {
		g, err := buildPool(s)
		if err := add(ClassPool, g, err); err != nil {
			return nil, err
		}
	}
	for _, s := range []dataSpec{{ir.OpConcat, 64, 56}, {ir.OpConcat, 128, 14}, {ir.OpTranspose, 64, 56}, {ir.OpTranspose, 32, 14}} {
		g, err := buildData(s)
		if err := add(ClassData, g, err); err != nil {
			return nil, err
		}
	}
	return out, nil
}

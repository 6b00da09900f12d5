package irtest

import (
	"fmt"
	"math"

	"github.com/ferminets/fermi/ir"
)

// opaque adds opaque nodes: one with attributes of every kind and typed
// outputs, and a zero-output sink reading parameters of odd dtypes.
func (g *gen) opaque() {
	x := g.acts[g.rng.IntN(len(g.acts))]
	in := []*ir.Value{x}
	if g.coin() {
		in = append(in, nil, g.acts[g.rng.IntN(len(g.acts))])
	}
	attrs := []ir.Attr{
		ir.IntAttr("count", -int64(g.rng.IntN(1<<40))),
		ir.FloatAttr("neg_zero", float32(math.Copysign(0, -1))),
		ir.FloatAttr("payload", math.Float32frombits(0x7fc00000|uint32(g.between(1, 1<<22-1)))),
		ir.FloatAttr("one", 1),
		ir.FloatAttr("tiny", math.SmallestNonzeroFloat32),
		ir.StrAttr("activation", "Relu"),
		ir.StrAttr("odd string", "tab\there \"quoted\"\nnewline \xff\x00 ünï"),
		ir.IntsAttr("ints", 1, -2, math.MaxInt64),
		ir.IntsAttr("no_ints"),
		ir.FloatsAttr("floats", 0.5, float32(math.Inf(-1)), 3),
		ir.FloatsAttr("no_floats"),
		{Name: "strings", Kind: ir.AttrStrings, Strs: []string{"a", "", "c d"}},
		{Name: "no_strings", Kind: ir.AttrStrings},
		ir.TensorAttr("t", &ir.Tensor{DType: ir.Int8, Dims: []int64{2, 2}, Raw: []byte{0, 1, 0x80, 0xff}}),
		ir.TensorAttr("recipe", ir.Init{Kind: "uniform", Seed: 3, A: -1, B: 1}.Materialize([]int64{3})),
		{Name: "body", Kind: ir.AttrRaw, Raw: g.bytes(g.between(0, 40))},
	}
	g.rng.Shuffle(len(attrs), func(i, j int) { attrs[i], attrs[j] = attrs[j], attrs[i] })
	attrs = attrs[:g.between(1, len(attrs))]
	outs := g.b.NodeN(ir.OpOpaque, "custom", g.between(1, 2), in, attrs...)
	n := outs[0].Def
	switch g.rng.IntN(4) {
	case 0:
		n.Domain, n.OpType = "com.microsoft", "FusedConv"
	case 1:
		n.Domain, n.OpType = "", "Conv" // an ONNX op kept opaque: needs the quoted spelling
	case 2:
		n.Domain, n.OpType = "", "MyOp"
	default:
		n.Domain, n.OpType = "org.example.v2", "return"
	}
	outs[0].DType, outs[0].Shape = ir.Float32, ir.Shape{ir.Sym("N"), ir.Unknown, ir.D(3)}
	if len(outs) > 1 {
		outs[1].DType, outs[1].Shape = ir.Bool, nil
	}
	g.quant = append(g.quant, outs...) // eligible as graph outputs
}

// bytes returns n random bytes.
func (g *gen) bytes(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(g.rng.IntN(256))
	}
	return b
}

// dtypeParams adds a parameter of every dtype with random bit patterns
// (NaN payloads, subnormals and infinities included), a large tensor that
// goes to a sidecar, a stale recipe, and a sink node reading them all.
func (g *gen) dtypeParams() {
	var vs []*ir.Value
	raw := []ir.DType{ir.Uint8, ir.Int8, ir.Uint16, ir.Int16, ir.Int32, ir.Uint32, ir.Uint64,
		ir.Float16, ir.BFloat16, ir.Float64, ir.Complex64, ir.Complex128}
	for _, dt := range raw {
		dims := []int64{int64(g.between(0, 5))}
		vs = append(vs, g.b.Param(dt.String(), &ir.Tensor{DType: dt, Dims: dims, Raw: g.bytes(int(dims[0]) * dt.Size())}))
	}
	bools := g.bytes(3)
	for i := range bools {
		bools[i] &= 1
	}
	vs = append(vs, g.b.Param("flags", &ir.Tensor{DType: ir.Bool, Dims: []int64{3}, Raw: bools}))
	vs = append(vs, g.b.Param("names", &ir.Tensor{DType: ir.String, Dims: []int64{2}, Strs: []string{"cat", "\"dog\"\n\xfe"}}))
	special := []float32{float32(math.NaN()), math.Float32frombits(0x7fc00001), math.Float32frombits(0xffc00000),
		float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), math.SmallestNonzeroFloat32,
		math.MaxFloat32, 0.1, 1e-05, 16777217}
	vs = append(vs, g.b.Param("special", ir.NewFloat32([]int64{int64(len(special))}, special)))
	big := make([]float32, g.between(17, 60))
	for i := range big {
		big[i] = math.Float32frombits(uint32(g.rng.Uint64()))
	}
	vs = append(vs, g.b.Param("big", ir.NewFloat32([]int64{int64(len(big))}, big)))
	stale := ir.Init{Kind: "normal", Seed: 9, A: 0, B: 1}.Materialize([]int64{2, 3})
	stale.F32[0] = 42 // edited after initialization: the recipe no longer describes the data
	vs = append(vs, g.b.Param("stale", stale))
	odd := ir.Init{Kind: "xavier", Seed: math.MaxUint64, A: math.Float64frombits(0x7ff8000000000001), B: -0.0}.Materialize([]int64{2})
	vs = append(vs, g.b.Param("odd_recipe", odd))
	ints := make([]int64, 5)
	for i := range ints {
		ints[i] = int64(g.rng.Uint64())
	}
	vs = append(vs, g.b.Param("i64s", ir.NewInt64([]int64{5}, ints)))
	g.b.NodeN(ir.OpOpaque, "sink", 0, vs)
	sink := g.b.Graph().Nodes[len(g.b.Graph().Nodes)-1]
	sink.Domain, sink.OpType = "test", "Sink"
}

// decorate sets model metadata, docs and extra bytes, and renames some
// nodes and values to names that need quoting.
func (g *gen) decorate(graph *ir.Graph) {
	graph.Doc = "random graph\nwith \"quotes\""
	graph.ModelDoc = "model doc"
	graph.Producer, graph.ProducerVersion = "irtest", "1.0"
	graph.ModelDomain = "org.example"
	graph.ModelVersion = int64(g.between(1, 100))
	graph.IRVersion = int64(g.between(3, 10))
	graph.Opsets = append(graph.Opsets, ir.OpsetImport{Domain: "com.microsoft", Version: 1}, ir.OpsetImport{Domain: "test", Version: 2})
	graph.Metadata = []ir.MetaProp{{Key: "author", Value: "irtest"}, {Key: "", Value: "empty key"}}
	graph.Extra = g.bytes(g.between(0, 8))
	graph.ModelExtra = g.bytes(g.between(0, 8))
	weird := []string{"onnx::Conv_%d", "a b %d", "x/y:%d", "名前%d", "%d", "quote\"%d", "_%d"}
	for i, v := range graph.Values() {
		switch g.rng.IntN(8) {
		case 0:
			v.Doc = fmt.Sprintf("value %d", i)
		case 1:
			v.Extra = g.bytes(g.between(1, 6))
		case 2:
			v.Name = fmt.Sprintf(weird[g.rng.IntN(len(weird))], i)
		}
	}
	for i, n := range graph.Nodes {
		switch g.rng.IntN(6) {
		case 0:
			n.Doc = "node doc"
		case 1:
			n.Extra = g.bytes(g.between(1, 6))
		case 2:
			n.Name = fmt.Sprintf("node/%d", i)
		}
	}
	if len(graph.Inputs) > 0 {
		graph.Inputs[0].Doc = "the image"
	}
}

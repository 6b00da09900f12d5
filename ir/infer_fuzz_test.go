package ir_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/ferminets/fermi/ir"
)

// fuzzReader hands out the bytes of a fuzz input; past the end it yields 0,
// so every input describes a complete node.
type fuzzReader struct {
	b []byte
	i int
}

func (r *fuzzReader) byte() byte {
	if r.i >= len(r.b) {
		return 0
	}
	r.i++
	return r.b[r.i-1]
}

// intn returns a number in [0, n).
func (r *fuzzReader) intn(n int) int { return int(r.byte()) % n }

// special integers that break careless arithmetic: overflow, huge
// allocations, negative sizes and axes.
var fuzzInts = []int64{0, 1, 2, 3, -1, -2, -3, 7, 64, 65, 1 << 31, 1 << 40, 1 << 62,
	math.MaxInt64, math.MinInt64, math.MaxInt32, -(1 << 40)}

// int64 returns a small signed integer or one of fuzzInts.
func (r *fuzzReader) int64() int64 {
	b := r.byte()
	if b >= 0xf0 {
		return fuzzInts[int(b-0xf0)%len(fuzzInts)]
	}
	return int64(int8(b)) % 9
}

func (r *fuzzReader) dim() ir.Dim {
	b := r.byte()
	switch {
	case b < 0xc0:
		return ir.D(int64(b % 10))
	case b < 0xd0:
		return ir.Sym("N")
	case b < 0xf0:
		return ir.Unknown
	}
	return ir.D([]int64{1 << 31, 1 << 40, 1 << 62, math.MaxInt64}[b%4])
}

var fuzzDTypes = []ir.DType{ir.Float32, ir.Int64, ir.Float32, ir.Int64, ir.Int32, ir.Int8, ir.Uint8,
	ir.Float16, ir.Bool, ir.String, ir.Float64, ir.Undefined, 99}

func (r *fuzzReader) shape() ir.Shape {
	b := r.byte()
	if b%16 == 15 {
		return nil // unknown rank
	}
	rank := int(b % 6)
	if b >= 0xf0 {
		rank = []int{64, 65, 300}[b%3]
	}
	s := make(ir.Shape, rank)
	for i := range s {
		s[i] = r.dim()
	}
	return s
}

// value returns a graph value: an input, an int64 parameter (shape
// tensors), or the output of a Shape, Constant or Concat node.
func (r *fuzzReader) value(name string, depth int) *ir.Value {
	v := &ir.Value{Name: name, DType: fuzzDTypes[r.intn(len(fuzzDTypes))], Shape: r.shape()}
	switch k := r.intn(8); {
	case k == 0 || k == 1:
		n := r.intn(6)
		data := make([]int64, n)
		for i := range data {
			data[i] = r.int64()
		}
		dims := []int64{int64(n)}
		if k == 1 && n == 1 {
			dims = []int64{}
		}
		v.DType, v.Shape = ir.Int64, ir.Static(dims...)
		v.Const = ir.NewInt64(dims, data)
	case k == 2 && depth < 3:
		x := r.value(name+"_x", depth+1)
		v.Def = &ir.Node{Name: name + "_shape", Op: ir.OpShape, Inputs: []*ir.Value{x}, Outputs: []*ir.Value{v}}
		v.DType, v.Shape = ir.Int64, ir.Shape{ir.D(int64(len(x.Shape)))}
	case k == 3:
		c := ir.NewInt64([]int64{2}, []int64{r.int64(), r.int64()})
		v.Def = &ir.Node{Name: name + "_const", Op: ir.OpConstant, Outputs: []*ir.Value{v},
			Attrs: []ir.Attr{{Name: "value", Kind: ir.AttrTensor, Tensor: c}}}
	case k == 4 && depth < 3:
		a, b := r.value(name+"_a", depth+1), r.value(name+"_b", depth+1)
		op := []ir.Op{ir.OpConcat, ir.OpAdd, ir.OpMul, ir.OpGather, ir.OpSlice}[r.intn(5)]
		v.Def = &ir.Node{Name: name + "_op", Op: op, Inputs: []*ir.Value{a, b}, Outputs: []*ir.Value{v},
			Attrs: []ir.Attr{{Name: "axis", Kind: ir.AttrInt}}}
	}
	return v
}

// attr returns a value for spec: usually of the declared kind, sometimes
// of another kind, with hostile numbers.
func (r *fuzzReader) attr(spec ir.AttrSpec) ir.Attr {
	a := ir.Attr{Name: spec.Name, Kind: spec.Kind}
	if r.intn(8) == 0 {
		a.Kind = ir.AttrKind(1 + r.intn(7))
	}
	switch a.Kind {
	case ir.AttrInt:
		a.Int = r.int64()
	case ir.AttrFloat:
		a.Float = []float32{0, 1, -1, 0.5, float32(math.NaN()), float32(math.Inf(1)), 1e30, -1e-30}[r.intn(8)]
	case ir.AttrString:
		a.Str = []string{"", "NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID", "nearest", "linear", "cubic",
			"constant", "reflect", "edge", "align_corners", "asymmetric", "not_larger", "not_smaller", "bogus"}[r.intn(16)]
	case ir.AttrInts:
		a.Ints = make([]int64, r.intn(9))
		for i := range a.Ints {
			a.Ints[i] = r.int64()
		}
	case ir.AttrFloats:
		a.Floats = make([]float32, r.intn(5))
		for i := range a.Floats {
			a.Floats[i] = float32(r.int64())
		}
	case ir.AttrStrings:
		a.Strs = []string{"a"}
	case ir.AttrTensor:
		if r.intn(4) == 0 {
			break // a nil tensor
		}
		n := r.intn(4)
		data := make([]int64, n)
		for i := range data {
			data[i] = r.int64()
		}
		a.Tensor = ir.NewInt64([]int64{int64(n)}, data)
		if r.intn(4) == 0 {
			a.Tensor.Dims = []int64{r.int64()} // dims disagreeing with the data
		}
	}
	return a
}

// fuzzNode builds one node of a core op from data.
func fuzzNode(data []byte) *ir.Node {
	r := &fuzzReader{b: data}
	ops := ir.Ops()
	op := ops[r.intn(len(ops))]
	info := op.Info()
	n := &ir.Node{Name: "n", Op: op}
	maxIn := info.MaxIn
	if maxIn < 0 {
		maxIn = info.MinIn + 4
	}
	nin := info.MinIn + r.intn(maxIn-info.MinIn+2) - r.intn(2) // sometimes one too few or too many
	for i := 0; i < nin; i++ {
		if i > 0 && r.intn(10) == 0 {
			n.Inputs = append(n.Inputs, nil) // omitted optional input
			continue
		}
		n.Inputs = append(n.Inputs, r.value(fmt.Sprintf("x%d", i), 0))
	}
	maxOut := info.MaxOut
	if maxOut < 0 {
		maxOut = info.MinOut + 4
	}
	nout := info.MinOut + r.intn(maxOut-info.MinOut+1)
	for i := 0; i < nout; i++ {
		o := &ir.Value{Name: fmt.Sprintf("y%d", i), Def: n}
		if r.intn(4) == 0 {
			o.DType, o.Shape = fuzzDTypes[r.intn(len(fuzzDTypes))], r.shape() // a stale declaration
		}
		n.Outputs = append(n.Outputs, o)
	}
	for _, spec := range info.Attrs {
		if r.intn(3) != 0 {
			n.Attrs = append(n.Attrs, r.attr(spec))
		}
	}
	if r.intn(16) == 0 {
		n.Attrs = append(n.Attrs, ir.Attr{Name: "undeclared", Kind: ir.AttrInt, Int: 1})
	}
	return n
}

// FuzzInferShapes checks that shape inference of any core op, with any
// inputs, attributes and hostile dims, returns an error or a well-formed
// result, never panics, and is a function of its inputs (running it twice
// gives the same output types).
func FuzzInferShapes(f *testing.F) {
	for i := range ir.Ops() {
		f.Add([]byte{byte(i)})
		f.Add([]byte{byte(i), 3, 2, 0x04, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9})
		f.Add([]byte{byte(i), 2, 0, 0x03, 0xc0, 3, 8, 8, 1, 0, 0x04, 4, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1})
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		n := fuzzNode(data)
		err := ir.InferNode(n)
		if err != nil {
			return
		}
		first := make([]ir.Shape, len(n.Outputs))
		firstDT := make([]ir.DType, len(n.Outputs))
		for i, o := range n.Outputs {
			if len(o.Shape) > 1<<10 {
				t.Fatalf("%v: output %d has rank %d", n.Op, i, len(o.Shape))
			}
			for _, d := range o.Shape {
				if d.Sym == "" && d.Size < -1 {
					t.Fatalf("%v: output %d has shape %v with a negative size", n.Op, i, o.Shape)
				}
			}
			first[i], firstDT[i] = o.Shape, o.DType
		}
		if err := ir.InferNode(n); err != nil {
			t.Fatalf("%v: second inference failed: %v", n.Op, err)
		}
		for i, o := range n.Outputs {
			if o.DType != firstDT[i] || !o.Shape.Equal(first[i]) || (o.Shape == nil) != (first[i] == nil) {
				t.Fatalf("%v: output %d is %v%v, then %v%v", n.Op, i, firstDT[i], first[i], o.DType, o.Shape)
			}
		}
	})
}

// TestShapeElemsHostile checks that following small integer subgraphs stays
// cheap on graphs built to make it exponential (x2 = x1 + x1, x3 = x2 + x2,
// ... feeding a Reshape) or deep (a chain of Slices, each taking its start
// from the previous one).
func TestShapeElemsHostile(t *testing.T) {
	tests := []struct {
		name  string
		build func(b *ir.Builder) *ir.Value
	}{
		{"doubling", func(b *ir.Builder) *ir.Value {
			x := b.Param("c", ir.NewInt64([]int64{1}, []int64{0}))
			for i := 0; i < 64; i++ {
				x = b.Node(ir.OpAdd, fmt.Sprintf("add%d", i), []*ir.Value{x, x})
			}
			data := b.Input("data", ir.Float32, ir.Static(2, 3))
			return b.Node(ir.OpReshape, "reshape", []*ir.Value{data, x})
		}},
		{"slice chain", func(b *ir.Builder) *ir.Value {
			c := b.Param("c", ir.NewInt64([]int64{1}, []int64{0}))
			end := b.Param("end", ir.NewInt64([]int64{1}, []int64{1}))
			x := c
			for i := 0; i < 20000; i++ {
				x = b.Node(ir.OpSlice, fmt.Sprintf("slice%d", i), []*ir.Value{c, x, end})
			}
			return x
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			b := ir.NewBuilder(tt.name)
			b.Output(tt.build(b))
			if _, err := b.Build(); err != nil && !strings.Contains(err.Error(), "reshape") {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// TestVerifyHostileShapes checks that the verifier rejects value shapes no
// real model has: absurd ranks and element counts that overflow.
func TestVerifyHostileShapes(t *testing.T) {
	tests := []struct {
		shape ir.Shape
		want  string
	}{
		{make(ir.Shape, 65), "rank 65 exceeds 64"},
		{ir.Static(1<<40, 1<<40), "holds more than 2^48 elements"},
		{ir.Static(math.MaxInt64, 2), "holds more than 2^48 elements"},
		{ir.Shape{ir.Sym("N"), ir.D(1 << 30), ir.D(1 << 30)}, "holds more than 2^48 elements"},
	}
	for _, tt := range tests {
		b := ir.NewBuilder("g")
		x := b.Input("x", ir.Float32, tt.shape)
		b.Output(b.Node(ir.OpRelu, "relu", []*ir.Value{x}))
		_, err := b.Build()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("shape of rank %d: got %v, want %q", len(tt.shape), err, tt.want)
		}
	}
	b := ir.NewBuilder("g") // a zero dim makes any other size harmless
	x := b.Input("x", ir.Float32, ir.Static(0, 1<<40, 1<<40))
	b.Output(b.Node(ir.OpRelu, "relu", []*ir.Value{x}))
	if _, err := b.Build(); err != nil {
		t.Errorf("empty tensor: %v", err)
	}
}

package ir

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"regexp"
	"strings"
	"testing"
)

// Graphs in these tests are built as structs, bypassing the Builder, which
// would refuse the malformed ones.

func tval(name string, dt DType, dims ...int64) *Value {
	return &Value{Name: name, DType: dt, Shape: Static(dims...)}
}

// tparam returns a Float32 parameter of the given dims, data 0, 1, 2, ...
func tparam(name string, dims ...int64) *Value {
	data := make([]float32, NumElements(dims))
	for i := range data {
		data[i] = float32(i)
	}
	return &Value{Name: name, DType: Float32, Shape: Static(dims...), Const: NewFloat32(dims, data)}
}

// tnode returns a node whose outputs point back at it.
func tnode(name string, op Op, ins, outs []*Value, attrs ...Attr) *Node {
	n := &Node{Name: name, Op: op, Inputs: ins, Outputs: outs, Attrs: attrs}
	for _, o := range outs {
		if o != nil {
			o.Def = n
		}
	}
	return n
}

func vs(v ...*Value) []*Value { return v }

// convReluGraph is x f32[1,3,8,8] -> conv1 (w f32[4,3,3,3], b f32[4], pads 1)
// -> %c f32[1,4,8,8] -> relu1 -> %y, the output. It is valid.
func convReluGraph() *Graph {
	x := tval("x", Float32, 1, 3, 8, 8)
	w := tparam("w", 4, 3, 3, 3)
	b := tparam("b", 4)
	c := tval("c", Float32, 1, 4, 8, 8)
	y := tval("y", Float32, 1, 4, 8, 8)
	conv := tnode("conv1", OpConv, vs(x, w, b), vs(c), IntsAttr("pads", 1, 1, 1, 1), IntsAttr("kernel_shape", 3, 3))
	relu := tnode("relu1", OpRelu, vs(c), vs(y))
	return &Graph{Name: "t", Inputs: vs(x), Params: vs(w, b), Nodes: []*Node{conv, relu}, Outputs: vs(y)}
}

// reluChain returns x -> a -> b -> ... with one Relu per name, in order.
func reluChain(names ...string) *Graph {
	x := tval("x", Float32, 2, 3)
	g := &Graph{Name: "t", Inputs: vs(x)}
	prev := x
	for _, name := range names {
		out := tval(name+"_out", Float32, 2, 3)
		g.Nodes = append(g.Nodes, tnode(name, OpRelu, vs(prev), vs(out)))
		prev = out
	}
	g.Outputs = vs(prev)
	return g
}

func node(g *Graph, name string) *Node {
	for _, n := range g.Nodes {
		if n.Name == name {
			return n
		}
	}
	panic("no node " + name)
}

func verifyProblems(t *testing.T, g *Graph) []Problem {
	t.Helper()
	err := Verify(g)
	if err == nil {
		return nil
	}
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("Verify returned %T, want *VerifyError: %v", err, err)
	}
	return ve.Problems
}

func TestVerifyValid(t *testing.T) {
	tests := []struct {
		name  string
		graph func() *Graph
	}{
		{"conv relu", convReluGraph},
		{"trailing omitted input", func() *Graph { g := convReluGraph(); g.Nodes[0].Inputs = append(g.Nodes[0].Inputs, nil); return g }},
		{"relu chain", func() *Graph { return reluChain("a", "b", "c") }},
		{"omitted middle optional input", func() *Graph {
			// Clip(x, _, max): the min bound is omitted.
			x := tval("x", Float32, 2, 3)
			hi := &Value{Name: "hi", DType: Float32, Shape: Shape{}, Const: NewFloat32(nil, []float32{6})}
			y := tval("y", Float32, 2, 3)
			return &Graph{Name: "t", Inputs: vs(x), Params: vs(hi), Outputs: vs(y),
				Nodes: []*Node{tnode("clip", OpClip, vs(x, nil, hi), vs(y))}}
		}},
		{"opaque node of unknown output type", func() *Graph {
			x := tval("x", Float32, 2, 3)
			y := &Value{Name: "y"}
			n := tnode("custom", OpOpaque, vs(x), vs(y), Attr{Name: "anything", Kind: AttrRaw, Raw: []byte{1}})
			n.Domain, n.OpType = "com.example", "Mystery"
			return &Graph{Name: "t", Inputs: vs(x), Outputs: vs(y), Nodes: []*Node{n}}
		}},
		{"stored dims more specific than inferred", func() *Graph {
			g := reluChain("a")
			g.Inputs[0].Shape = Shape{Sym("N"), Unknown}
			g.Nodes[0].Outputs[0].Shape = Shape{D(2), D(3)}
			return g
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if ps := verifyProblems(t, tt.graph()); len(ps) != 0 {
				t.Errorf("Verify reported problems for a valid graph:\n%v", &VerifyError{ps})
			}
		})
	}
}

func TestVerifyBuilderGraph(t *testing.T) {
	b := NewBuilder("net")
	x := b.Input("x", Float32, Shape{Sym("N"), D(3), D(8), D(8)})
	w := b.Param("w", Init{Kind: "normal", Seed: 1, B: 0.1}.Materialize([]int64{4, 3, 3, 3}))
	c := b.Node(OpConv, "conv1", vs(x, w), IntsAttr("pads", 1, 1, 1, 1), IntsAttr("kernel_shape", 3, 3))
	r := b.Node(OpRelu, "relu1", vs(c))
	p := b.Node(OpGlobalAveragePool, "gap", vs(r))
	f := b.Node(OpFlatten, "flat", vs(p))
	fw := b.Param("fw", Init{Kind: "normal", Seed: 2, B: 0.1}.Materialize([]int64{10, 4}))
	b.Output(b.Node(OpGemm, "fc", vs(f, fw), IntAttr("transB", 1)))
	g, err := b.Build()
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	if err := Verify(g); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

func TestVerifyMalformed(t *testing.T) {
	tests := []struct {
		name  string
		graph func() *Graph
		node  string // the problem's node name ("" for value- and graph-level problems)
		value string // the problem's value name, when node is ""
		want  string // substring of the formatted problem
	}{
		{name: "graph without outputs", want: `ir: graph "t" has no outputs`,
			graph: func() *Graph { g := convReluGraph(); g.Outputs = nil; return g }},
		{name: "nil graph output", want: `graph "t" output #1 is nil`,
			graph: func() *Graph { g := convReluGraph(); g.Outputs = append(g.Outputs, nil); return g }},
		{name: "output not defined", value: "z", want: `ir: value "z": graph output is not defined`,
			graph: func() *Graph { g := convReluGraph(); g.Outputs = vs(tval("z", Float32)); return g }},
		{name: "output is a stale copy", value: "y", want: `graph output is not defined (a different value named "y" is)`,
			graph: func() *Graph { g := convReluGraph(); g.Outputs = vs(tval("y", Float32, 1, 4, 8, 8)); return g }},
		{name: "undefined value", node: "relu1", want: `ir: node "relu1" (Relu): input 0 %ghost is not defined`,
			graph: func() *Graph { g := convReluGraph(); node(g, "relu1").Inputs[0] = tval("ghost", Float32); return g }},
		{name: "duplicate value name", node: "relu1", want: `name "c" is already used by another value (output of node "conv1")`,
			graph: func() *Graph { g := convReluGraph(); node(g, "relu1").Outputs[0].Name = "c"; return g }},
		{name: "duplicate value name input and param", value: "w", want: `ir: value "w": name "w" is already used by another value (graph input)`,
			graph: func() *Graph { g := convReluGraph(); g.Inputs[0].Name = "w"; return g }},
		{name: "value defined twice", node: "relu2", want: `%y is defined twice: as output of node "relu1" and as output of node "relu2"`,
			graph: func() *Graph {
				g := convReluGraph()
				y := g.Outputs[0]
				g.Nodes = append(g.Nodes, &Node{Name: "relu2", Op: OpRelu, Inputs: vs(g.Nodes[0].Outputs[0]), Outputs: vs(y)})
				return g
			}},
		{name: "value both input and param", value: "w", want: `%w is defined twice: as graph input and as param`,
			graph: func() *Graph { g := convReluGraph(); g.Inputs = append(g.Inputs, g.Params[0]); return g }},
		{name: "duplicate node name", node: "conv1", want: `ir: node "conv1" (Relu): node name is also used by node #0`,
			graph: func() *Graph { g := convReluGraph(); node(g, "relu1").Name = "conv1"; return g }},
		{name: "empty value name", want: `ir: param #1 has an empty name`,
			graph: func() *Graph { g := convReluGraph(); g.Params[1].Name = ""; return g }},
		{name: "empty output name", node: "conv1", want: `ir: node "conv1" (Conv): output 0 has an empty name`,
			graph: func() *Graph { g := convReluGraph(); node(g, "conv1").Outputs[0].Name = ""; return g }},
		{name: "empty node name", want: `ir: node #1 (Relu): node has an empty name`,
			graph: func() *Graph { g := convReluGraph(); node(g, "relu1").Name = ""; return g }},
		{name: "nil node", want: `graph "t" node #2 is nil`,
			graph: func() *Graph { g := convReluGraph(); g.Nodes = append(g.Nodes, nil); return g }},
		{name: "cycle", node: "a", want: `ir: node "a" (Relu): cycle through nodes a -> b -> a`,
			graph: func() *Graph {
				g := reluChain("a", "b")
				node(g, "a").Inputs[0] = node(g, "b").Outputs[0]
				return g
			}},
		{name: "cycle not starting at the first node", node: "b", want: `cycle through nodes b -> c -> d -> b`,
			graph: func() *Graph {
				g := reluChain("a", "b", "c", "d", "e")
				node(g, "b").Inputs[0] = node(g, "d").Outputs[0]
				return g
			}},
		{name: "self loop", node: "a", want: `cycle through nodes a -> a`,
			graph: func() *Graph { g := reluChain("a"); g.Nodes[0].Inputs[0] = g.Nodes[0].Outputs[0]; return g }},
		{name: "use before def", node: "relu1", want: `ir: node "relu1" (Relu): uses %c before its definition by node "conv1"`,
			graph: func() *Graph { g := convReluGraph(); g.Nodes[0], g.Nodes[1] = g.Nodes[1], g.Nodes[0]; return g }},
		{name: "too many inputs", node: "relu1", want: `has 2 inputs, want 1`,
			graph: func() *Graph {
				g := convReluGraph()
				n := node(g, "relu1")
				n.Inputs = append(n.Inputs, n.Inputs[0])
				return g
			}},
		{name: "too few inputs", node: "conv1", want: `ir: node "conv1" (Conv): has 1 inputs, want 2 to 3`,
			graph: func() *Graph { g := convReluGraph(); n := node(g, "conv1"); n.Inputs = n.Inputs[:1]; return g }},
		{name: "only trailing omitted inputs", node: "relu1", want: `has 2 inputs, want 1`,
			graph: func() *Graph {
				g := convReluGraph()
				n := node(g, "relu1")
				n.Inputs = append(n.Inputs, n.Inputs[0], nil, nil)
				return g
			}},
		{name: "required input omitted", node: "conv1", want: `required input 1 is missing`,
			graph: func() *Graph { g := convReluGraph(); node(g, "conv1").Inputs[1] = nil; return g }},
		{name: "no outputs on node", node: "relu1", want: `has 0 outputs, want 1`,
			graph: func() *Graph {
				g := convReluGraph()
				n := node(g, "relu1")
				n.Outputs = nil
				g.Outputs = vs(node(g, "conv1").Outputs[0])
				return g
			}},
		{name: "required output nil", node: "relu1", want: `required output 0 is missing`,
			graph: func() *Graph {
				g := convReluGraph()
				node(g, "relu1").Outputs[0] = nil
				g.Outputs = vs(node(g, "conv1").Outputs[0])
				return g
			}},
		{name: "variadic arity", node: "cat", want: `has 0 inputs, want at least 1`,
			graph: func() *Graph {
				y := tval("y", Float32, 2)
				return &Graph{Name: "t", Outputs: vs(y), Nodes: []*Node{tnode("cat", OpConcat, nil, vs(y), IntAttr("axis", 0))}}
			}},
		{name: "opaque without type", node: "relu1", want: `ir: node "relu1" (Opaque): opaque node has no op type`,
			graph: func() *Graph {
				g := convReluGraph()
				n := node(g, "relu1")
				n.Op = OpOpaque
				return g
			}},
		{name: "invalid op", node: "relu1", want: `invalid op 999`,
			graph: func() *Graph { g := convReluGraph(); node(g, "relu1").Op = 999; return g }},
		{name: "bad attribute kind", node: "conv1", want: `attribute "group" is float, want int`,
			graph: func() *Graph { g := convReluGraph(); node(g, "conv1").SetAttr(FloatAttr("group", 1)); return g }},
		{name: "unknown attribute", node: "relu1", want: `ir: node "relu1" (Relu): unknown attribute "alpha"`,
			graph: func() *Graph { g := convReluGraph(); node(g, "relu1").SetAttr(FloatAttr("alpha", 1)); return g }},
		{name: "duplicate attribute", node: "conv1", want: `attribute "group" appears more than once`,
			graph: func() *Graph {
				g := convReluGraph()
				n := node(g, "conv1")
				n.Attrs = append(n.Attrs, IntAttr("group", 1), IntAttr("group", 1))
				return g
			}},
		{name: "empty attribute name", node: "conv1", want: `attribute 2 has an empty name`,
			graph: func() *Graph {
				g := convReluGraph()
				n := node(g, "conv1")
				n.Attrs = append(n.Attrs, IntAttr("", 1))
				return g
			}},
		{name: "missing required attribute", node: "cat", want: `ir: node "cat" (Concat): missing required attribute "axis"`,
			graph: func() *Graph {
				x := tval("x", Float32, 2)
				y := tval("y", Float32, 2)
				return &Graph{Name: "t", Inputs: vs(x), Outputs: vs(y), Nodes: []*Node{tnode("cat", OpConcat, vs(x), vs(y))}}
			}},
		{name: "group zero", node: "conv1", want: `attribute "group" is 0, want >= 1`,
			graph: func() *Graph { g := convReluGraph(); node(g, "conv1").SetAttr(IntAttr("group", 0)); return g }},
		{name: "negative stride", node: "conv1", want: `attribute "strides" has -1 at index 1, want >= 1`,
			graph: func() *Graph { g := convReluGraph(); node(g, "conv1").SetAttr(IntsAttr("strides", 1, -1)); return g }},
		{name: "zero kernel size", node: "conv1", want: `attribute "kernel_shape" has 0 at index 0, want >= 1`,
			graph: func() *Graph {
				g := convReluGraph()
				node(g, "conv1").SetAttr(IntsAttr("kernel_shape", 0, 3))
				return g
			}},
		{name: "negative pads", node: "conv1", want: `attribute "pads" has -1 at index 2, want >= 0`,
			graph: func() *Graph { g := convReluGraph(); node(g, "conv1").SetAttr(IntsAttr("pads", 1, 1, -1, 1)); return g }},
		{name: "odd pads", node: "conv1", want: `attribute "pads" has 3 values, want an even number`,
			graph: func() *Graph { g := convReluGraph(); node(g, "conv1").SetAttr(IntsAttr("pads", 1, 1, 1)); return g }},
		{name: "bad auto_pad", node: "conv1", want: `attribute "auto_pad" is "SAME", want one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`,
			graph: func() *Graph { g := convReluGraph(); node(g, "conv1").SetAttr(StrAttr("auto_pad", "SAME")); return g }},
		{name: "bad resize mode", node: "up", want: `ir: node "up" (Resize): attribute "mode" is "bilinear", want one of nearest, linear, cubic`,
			graph: func() *Graph {
				x := tval("x", Float32, 1, 1, 2, 2)
				s := &Value{Name: "s", DType: Float32, Shape: Static(4), Const: NewFloat32([]int64{4}, []float32{1, 1, 2, 2})}
				y := tval("y", Float32, 1, 1, 4, 4)
				up := tnode("up", OpResize, vs(x, nil, s), vs(y), StrAttr("mode", "bilinear"))
				return &Graph{Name: "t", Inputs: vs(x), Params: vs(s), Outputs: vs(y), Nodes: []*Node{up}}
			}},
		{name: "cast to invalid dtype", node: "cast", want: `ir: node "cast" (Cast): attribute "to" is 99, not a valid dtype`,
			graph: func() *Graph {
				x := tval("x", Float32, 2)
				y := tval("y", Int64, 2)
				return &Graph{Name: "t", Inputs: vs(x), Outputs: vs(y), Nodes: []*Node{tnode("cast", OpCast, vs(x), vs(y), IntAttr("to", 99))}}
			}},
		{name: "cast to undefined", node: "cast", want: `attribute "to" is 0, not a valid dtype`,
			graph: func() *Graph {
				x := tval("x", Float32, 2)
				y := tval("y", Int64, 2)
				return &Graph{Name: "t", Inputs: vs(x), Outputs: vs(y), Nodes: []*Node{tnode("cast", OpCast, vs(x), vs(y), IntAttr("to", 0))}}
			}},
		{name: "constant without tensor", node: "k", want: `attribute "value" has no tensor`,
			graph: func() *Graph {
				y := tval("y", Float32, 2)
				return &Graph{Name: "t", Outputs: vs(y), Nodes: []*Node{tnode("k", OpConstant, nil, vs(y), TensorAttr("value", nil))}}
			}},
		{name: "param data shorter than dims", value: "w", want: `ir: value "w": param data: f32 tensor [4 3 3 3] holds 100 elements, want 108`,
			graph: func() *Graph { g := convReluGraph(); c := g.Params[0].Const; c.F32 = c.F32[:100]; return g }},
		{name: "param with negative dims", value: "b", want: `param data: dim 0 is negative (-4)`,
			graph: func() *Graph {
				g := convReluGraph()
				g.Params[1].Const.Dims = []int64{-4}
				g.Params[1].Shape = Shape{D(-4)}
				return g
			}},
		{name: "param with overflowing dims", value: "b", want: `param data: dims [4294967296 4294967296] hold too many elements`,
			graph: func() *Graph {
				g := convReluGraph()
				g.Params[1].Const.Dims = []int64{1 << 32, 1 << 32}
				return g
			}},
		{name: "param without const", value: "w", want: `ir: value "w": param has no Const`,
			graph: func() *Graph { g := convReluGraph(); g.Params[0].Const = nil; return g }},
		{name: "param dtype differs from data", value: "b", want: `param dtype i64 does not match its data's f32`,
			graph: func() *Graph { g := convReluGraph(); g.Params[1].DType = Int64; return g }},
		{name: "param shape differs from data", value: "b", want: `param shape [8] does not match its data's dims [4]`,
			graph: func() *Graph { g := convReluGraph(); g.Params[1].Shape = Static(8); return g }},
		{name: "graph input with const", value: "x", want: `ir: value "x": graph input has Const set`,
			graph: func() *Graph {
				g := convReluGraph()
				g.Inputs[0].Const = NewFloat32([]int64{1}, []float32{1})
				return g
			}},
		{name: "graph input with def", value: "x", want: `graph input has Def set (node "relu1")`,
			graph: func() *Graph { g := convReluGraph(); g.Inputs[0].Def = node(g, "relu1"); return g }},
		{name: "param with def", value: "w", want: `param has Def set (a node outside the graph)`,
			graph: func() *Graph { g := convReluGraph(); g.Params[0].Def = &Node{}; return g }},
		{name: "def pointer wrong", node: "relu1", want: `ir: node "relu1" (Relu): output 0 %y has Def pointing to node "conv1"`,
			graph: func() *Graph { g := convReluGraph(); g.Outputs[0].Def = node(g, "conv1"); return g }},
		{name: "def pointer nil", node: "relu1", want: `output 0 %y has nil Def`,
			graph: func() *Graph { g := convReluGraph(); g.Outputs[0].Def = nil; return g }},
		{name: "invalid input dtype", value: "x", want: `ir: value "x": invalid dtype dtype(200)`,
			graph: func() *Graph { g := convReluGraph(); g.Inputs[0].DType = 200; return g }},
		{name: "undefined output dtype", node: "relu1", want: `output 0 %y: invalid dtype undef`,
			graph: func() *Graph { g := convReluGraph(); g.Outputs[0].DType = Undefined; return g }},
		{name: "invalid dim", value: "x", want: `dim 1 has invalid size -5`,
			graph: func() *Graph { g := convReluGraph(); g.Inputs[0].Shape[1] = Dim{Size: -5}; return g }},
		{name: "dtype differs from inferred", node: "relu1",
			want:  `ir: node "relu1" (Relu): output 0 %y has dtype i64, inferred f32`,
			graph: func() *Graph { g := convReluGraph(); g.Outputs[0].DType = Int64; return g }},
		{name: "dim differs from inferred", node: "relu1",
			want:  `output 0 %y has shape [1,4,8,16], inferred [1,4,8,8]`,
			graph: func() *Graph { g := convReluGraph(); g.Outputs[0].Shape[3] = D(16); return g }},
		{name: "rank differs from inferred", node: "relu1",
			want:  `output 0 %y has shape [1,4,8], inferred [1,4,8,8]`,
			graph: func() *Graph { g := convReluGraph(); g.Outputs[0].Shape = Static(1, 4, 8); return g }},
		{name: "conv weight rank", node: "conv1",
			want: `ir: node "conv1" (Conv): weight W has shape [4,3,9], want 4 dims`,
			graph: func() *Graph {
				g := convReluGraph()
				w := g.Params[0]
				w.Const = NewFloat32([]int64{4, 3, 9}, w.Const.F32)
				w.Shape = Static(4, 3, 9)
				return g
			}},
		{name: "group does not match input channels", node: "conv1",
			want:  `input X has 3 channels, want W.shape[1]*group`,
			graph: func() *Graph { g := convReluGraph(); node(g, "conv1").SetAttr(IntAttr("group", 2)); return g }},
		{name: "group does not divide output channels", node: "conv1",
			want: `weight W has 4 output channels, not divisible by group 3`,
			graph: func() *Graph {
				g := convReluGraph()
				node(g, "conv1").SetAttr(IntAttr("group", 3))
				w := g.Params[0]
				w.Const = NewFloat32([]int64{4, 1, 3, 3}, w.Const.F32[:36])
				w.Shape = Static(4, 1, 3, 3)
				return g
			}},
		{name: "bias dtype differs from input", node: "conv1",
			want: `input 2 has dtype i64, input 0 has f32`,
			graph: func() *Graph {
				g := convReluGraph()
				b := g.Params[1]
				b.DType, b.Const = Int64, NewInt64([]int64{4}, []int64{0, 1, 2, 3})
				return g
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := verifyProblems(t, tt.graph())
			if len(ps) == 0 {
				t.Fatalf("Verify accepted the graph, want problem %q", tt.want)
			}
			for _, p := range ps {
				if strings.Contains(p.String(), tt.want) {
					if p.Node != tt.node || (tt.node == "" && p.Value != tt.value) {
						t.Errorf("problem %q: node %q value %q, want node %q value %q", p, p.Node, p.Value, tt.node, tt.value)
					}
					return
				}
			}
			t.Errorf("no problem contains %q; got:\n%v", tt.want, &VerifyError{ps})
		})
	}
}

func TestVerifyReportsAllProblems(t *testing.T) {
	g := convReluGraph()
	node(g, "relu1").SetAttr(FloatAttr("alpha", 1))       // unknown attribute
	node(g, "conv1").SetAttr(StrAttr("auto_pad", "SAME")) // bad value
	g.Params[1].Const.F32 = g.Params[1].Const.F32[:3]     // short data
	want := []string{`unknown attribute "alpha"`, `"auto_pad" is "SAME"`, `holds 3 elements, want 4`}
	err := Verify(g)
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("Verify = %v, want a *VerifyError", err)
	}
	if len(ve.Problems) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(ve.Problems), len(want), err)
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != len(want) {
		t.Fatalf("Error() has %d lines, want %d:\n%v", len(lines), len(want), err)
	}
	for _, w := range want {
		found := false
		for _, l := range lines {
			found = found || strings.Contains(l, w)
		}
		if !found {
			t.Errorf("no line contains %q:\n%v", w, err)
		}
	}
}

func TestVerifyErrorFormat(t *testing.T) {
	ps := []Problem{
		{Node: "conv1", Op: "Conv", Msg: "weight has 3 dims, want 4"},
		{Index: 7, Op: "Relu", Msg: "node has an empty name"},
		{Value: "w", Msg: "param has no Const"},
		{Msg: `graph "g" has no outputs`},
	}
	want := []string{
		`ir: node "conv1" (Conv): weight has 3 dims, want 4`,
		`ir: node #7 (Relu): node has an empty name`,
		`ir: value "w": param has no Const`,
		`ir: graph "g" has no outputs`,
	}
	if got := (&VerifyError{ps}).Error(); got != strings.Join(want, "\n") {
		t.Errorf("Error() =\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}

	var many []Problem
	for i := 0; i < maxErrorLines+5; i++ {
		many = append(many, Problem{Value: fmt.Sprint("v", i), Msg: "bad"})
	}
	lines := strings.Split((&VerifyError{many}).Error(), "\n")
	if len(lines) != maxErrorLines+1 || lines[maxErrorLines] != "ir: and 5 more problems" {
		t.Errorf("capped Error() has %d lines ending %q, want %d ending %q",
			len(lines), lines[len(lines)-1], maxErrorLines+1, "ir: and 5 more problems")
	}
}

func TestVerifyDoesNotMutate(t *testing.T) {
	g := convReluGraph()
	g.Outputs[0].Shape = Shape{Unknown, D(4), Sym("H"), Unknown} // less specific than inference
	before := fmt.Sprint(g.Outputs[0].DType, g.Outputs[0].Shape, g.Nodes[0].Outputs[0].Shape, len(g.Nodes[0].Attrs))
	_ = Verify(g)
	after := fmt.Sprint(g.Outputs[0].DType, g.Outputs[0].Shape, g.Nodes[0].Outputs[0].Shape, len(g.Nodes[0].Attrs))
	if before != after {
		t.Errorf("Verify changed the graph: %s -> %s", before, after)
	}
}

func TestShapeAgrees(t *testing.T) {
	tests := []struct {
		stored, inferred Shape
		want             bool
	}{
		{Static(1, 8), Static(1, 8), true},
		{Static(1, 8), Shape{D(1), Unknown}, true}, // stored more specific
		{Shape{D(1), Unknown}, Static(1, 8), true}, // stored less specific
		{Shape{Sym("N"), D(8)}, Shape{Sym("N"), D(8)}, true},
		{Shape{D(2), D(8)}, Shape{Sym("N"), D(8)}, true}, // stored specializes the symbol
		{Shape{Sym("M"), D(8)}, Shape{Sym("N"), D(8)}, true},
		{nil, Static(1, 8), true},
		{Static(1, 8), nil, true},
		{Static(1, 8), Static(1, 16), false},
		{Static(1, 8), Static(1, 8, 1), false},
		{Shape{}, Static(1), false},
	}
	for _, tt := range tests {
		if got := shapeAgrees(tt.stored, tt.inferred); got != tt.want {
			t.Errorf("shapeAgrees(%v, %v) = %v, want %v", tt.stored, tt.inferred, got, tt.want)
		}
	}
}

func nodeNames(g *Graph) string {
	var s []string
	for _, n := range g.Nodes {
		s = append(s, n.Name)
	}
	return strings.Join(s, " ")
}

// checkTopological fails unless every node input is a graph input, a param
// or an output of an earlier node.
func checkTopological(t *testing.T, g *Graph) {
	t.Helper()
	avail := make(map[*Value]bool)
	for _, v := range g.Inputs {
		avail[v] = true
	}
	for _, v := range g.Params {
		avail[v] = true
	}
	for _, n := range g.Nodes {
		for _, in := range n.Inputs {
			if in != nil && !avail[in] {
				t.Fatalf("node %q uses %v before its definition", n.Name, in)
			}
		}
		for _, o := range n.Outputs {
			avail[o] = true
		}
	}
}

// diamond returns x -> a -> {b, c} -> d (d = Add(b, c)) plus an independent
// branch x -> e, with nodes in the order given by perm of "a b c d e".
func diamond(perm ...string) *Graph {
	x := tval("x", Float32, 2)
	out := func(n string) *Value { return tval(n+"_out", Float32, 2) }
	a := tnode("a", OpRelu, vs(x), vs(out("a")))
	b := tnode("b", OpRelu, vs(a.Outputs[0]), vs(out("b")))
	c := tnode("c", OpSigmoid, vs(a.Outputs[0]), vs(out("c")))
	d := tnode("d", OpAdd, vs(b.Outputs[0], c.Outputs[0]), vs(out("d")))
	e := tnode("e", OpTanh, vs(x), vs(out("e")))
	byName := map[string]*Node{"a": a, "b": b, "c": c, "d": d, "e": e}
	g := &Graph{Name: "t", Inputs: vs(x), Outputs: vs(d.Outputs[0], e.Outputs[0])}
	for _, p := range perm {
		g.Nodes = append(g.Nodes, byName[p])
	}
	return g
}

func TestSortTopological(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"a b c d e", "a b c d e"}, // sorted: unchanged
		{"e c a d b", "e a c b d"}, // earliest ready node first
		{"d c b a e", "a c b d e"},
		{"b d e a c", "e a b c d"},
	}
	for _, tt := range tests {
		g := diamond(strings.Fields(tt.in)...)
		if err := SortTopological(g); err != nil {
			t.Errorf("SortTopological(%s): %v", tt.in, err)
			continue
		}
		checkTopological(t, g)
		if got := nodeNames(g); got != tt.want {
			t.Errorf("SortTopological(%s) = %s, want %s", tt.in, got, tt.want)
		}
		if err := Verify(g); err != nil {
			t.Errorf("Verify after SortTopological(%s): %v", tt.in, err)
		}
	}
}

func TestSortTopologicalCycle(t *testing.T) {
	g := reluChain("a", "b", "c", "d")
	node(g, "b").Inputs[0] = node(g, "c").Outputs[0]
	g.Nodes[0], g.Nodes[3] = g.Nodes[3], g.Nodes[0] // d b c a
	before := nodeNames(g)
	err := SortTopological(g)
	if err == nil || !strings.Contains(err.Error(), `ir: graph "t": cycle through nodes b -> c -> b`) {
		t.Errorf("SortTopological = %v, want cycle b -> c -> b", err)
	}
	if got := nodeNames(g); got != before {
		t.Errorf("SortTopological changed a cyclic graph: %s -> %s", before, got)
	}
}

// bigChain returns a chain of n Relu nodes x -> r0 -> r1 -> ..., allocated in
// bulk to keep a million nodes cheap.
func bigChain(n int) *Graph {
	shape := Static(2)
	x := &Value{Name: "x", DType: Float32, Shape: shape}
	nodes := make([]Node, n)
	vals := make([]Value, n)
	ptrs := make([]*Value, 2*n)
	g := &Graph{Name: "chain", Inputs: []*Value{x}, Nodes: make([]*Node, n)}
	prev := x
	for i := range nodes {
		nd, out := &nodes[i], &vals[i]
		*out = Value{Name: fmt.Sprint("v", i), DType: Float32, Shape: shape, Def: nd}
		ptrs[2*i], ptrs[2*i+1] = prev, out
		*nd = Node{Name: fmt.Sprint("r", i), Op: OpRelu, Inputs: ptrs[2*i : 2*i+1 : 2*i+1], Outputs: ptrs[2*i+1 : 2*i+2 : 2*i+2]}
		g.Nodes[i] = nd
		prev = out
	}
	g.Outputs = []*Value{prev}
	return g
}

func TestMillionNodeChain(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates a million nodes")
	}
	const n = 1_000_000
	g := bigChain(n)
	// Reverse the nodes: every edge now points backwards.
	for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
		g.Nodes[i], g.Nodes[j] = g.Nodes[j], g.Nodes[i]
	}
	if err := SortTopological(g); err != nil {
		t.Fatalf("SortTopological: %v", err)
	}
	for i, nd := range g.Nodes {
		if want := fmt.Sprint("r", i); nd.Name != want {
			t.Fatalf("node %d is %s, want %s", i, nd.Name, want)
		}
	}
	// Close the chain into one million-node cycle.
	g.Nodes[0].Inputs[0] = g.Nodes[n-1].Outputs[0]
	err := SortTopological(g)
	if err == nil || !strings.Contains(err.Error(), "cycle through nodes r0 -> r1 -> ") ||
		!strings.Contains(err.Error(), fmt.Sprintf("(%d more) -> r0", n-maxCycleNames)) {
		t.Errorf("SortTopological of a cycle = %v", err)
	}
	ps := verifyProblems(t, g)
	if len(ps) != 1 || ps[0].Node != "r0" || !strings.Contains(ps[0].Msg, "cycle through nodes r0 -> r1 -> r2") {
		t.Errorf("Verify of a million-node cycle: %v", &VerifyError{ps})
	}
}

// TestVerifyNeverPanics applies random damage to a valid graph and checks
// that Verify reports it as problems rather than panicking.
func TestVerifyNeverPanics(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pickNode := func(g *Graph) *Node { return g.Nodes[rng.IntN(len(g.Nodes))] }
	pickValue := func(g *Graph) *Value {
		all := g.Values()
		return all[rng.IntN(len(all))]
	}
	dims := func() Shape {
		if rng.IntN(5) == 0 {
			return nil
		}
		s := make(Shape, rng.IntN(6))
		for i := range s {
			s[i] = Dim{Size: int64(rng.IntN(12)) - 3}
		}
		return s
	}
	mutations := []func(g *Graph){
		func(g *Graph) { n := pickNode(g); n.Inputs = append(n.Inputs, pickValue(g)) },
		func(g *Graph) { n := pickNode(g); n.Inputs = n.Inputs[:rng.IntN(len(n.Inputs)+1)] },
		func(g *Graph) {
			if n := pickNode(g); len(n.Inputs) > 0 {
				n.Inputs[rng.IntN(len(n.Inputs))] = nil
			}
		},
		func(g *Graph) {
			if n := pickNode(g); len(n.Inputs) > 0 {
				n.Inputs[rng.IntN(len(n.Inputs))] = pickValue(g)
			}
		},
		func(g *Graph) { n := pickNode(g); n.Outputs = nil },
		func(g *Graph) { n := pickNode(g); n.Op = Op(rng.IntN(int(numOps) + 3)) },
		func(g *Graph) {
			kinds := []AttrKind{0, AttrInt, AttrFloat, AttrString, AttrInts, AttrFloats, AttrStrings, AttrTensor, AttrRaw, 42}
			names := []string{"group", "strides", "pads", "auto_pad", "to", "value", "axis", "mode", "kernel_shape", ""}
			pickNode(g).Attrs = append(pickNode(g).Attrs, Attr{Name: names[rng.IntN(len(names))], Kind: kinds[rng.IntN(len(kinds))],
				Int: int64(rng.IntN(7)) - 3, Ints: []int64{int64(rng.IntN(5)) - 2}})
		},
		func(g *Graph) { pickValue(g).Shape = dims() },
		func(g *Graph) { pickValue(g).DType = DType(rng.IntN(20)) },
		func(g *Graph) { v := pickValue(g); v.Def = pickNode(g) },
		func(g *Graph) { v := pickValue(g); v.Const = &Tensor{DType: DType(rng.IntN(20)), Dims: dims().Ints()} },
		func(g *Graph) { g.Params = g.Params[:rng.IntN(len(g.Params)+1)] },
		func(g *Graph) {
			i, j := rng.IntN(len(g.Nodes)), rng.IntN(len(g.Nodes))
			g.Nodes[i], g.Nodes[j] = g.Nodes[j], g.Nodes[i]
		},
		func(g *Graph) { g.Nodes = append(g.Nodes, pickNode(g)) },
		func(g *Graph) { g.Outputs = append(g.Outputs, pickValue(g)) },
		func(g *Graph) { pickNode(g).Name = pickNode(g).Name },
	}
	for iter := 0; iter < 3000; iter++ {
		g := diamond("a", "b", "c", "d", "e")
		g.Inputs[0].Name = "dx"
		cg := convReluGraph()
		g.Inputs = append(g.Inputs, cg.Inputs...)
		g.Params = cg.Params
		g.Nodes = append(g.Nodes, cg.Nodes...)
		g.Outputs = append(g.Outputs, cg.Outputs...)
		if iter == 0 && Verify(g) != nil {
			t.Fatalf("the undamaged graph is invalid: %v", Verify(g))
		}
		for k := 1 + rng.IntN(4); k > 0; k-- {
			mutations[rng.IntN(len(mutations))](g)
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("iteration %d: Verify panicked: %v", iter, r)
				}
			}()
			if err := Verify(g); err != nil && err.Error() == "" {
				t.Fatalf("iteration %d: empty error text", iter)
			}
			_ = SortTopological(g)
		}()
	}
}

// TestVerifyOrderProblems checks the exact set of ordering problems when
// cycles and mis-ordering mix: one problem per cycle, nodes downstream of a
// cycle are not blamed, and mis-ordered acyclic nodes still are.
func TestVerifyOrderProblems(t *testing.T) {
	tests := []struct {
		name  string
		graph func() *Graph
		want  []string
	}{
		{"two cycles", func() *Graph {
			g := reluChain("a", "b", "c", "d", "e")
			node(g, "a").Inputs[0] = node(g, "b").Outputs[0] // a <-> b
			node(g, "d").Inputs[0] = node(g, "e").Outputs[0] // d <-> e
			return g
		}, []string{
			`ir: node "a" (Relu): cycle through nodes a -> b -> a`,
			`ir: node "d" (Relu): cycle through nodes d -> e -> d`,
		}},
		{"cycle, downstream node and separate mis-ordering", func() *Graph {
			g := reluChain("a", "b", "c")
			node(g, "a").Inputs[0] = node(g, "b").Outputs[0] // a <-> b, c downstream
			h := reluChain("p", "q")
			h.Nodes[0].Inputs[0] = g.Inputs[0]
			g.Nodes = append(g.Nodes, h.Nodes[1], h.Nodes[0]) // q before p
			g.Outputs = append(g.Outputs, h.Outputs...)
			return g
		}, []string{
			`ir: node "a" (Relu): cycle through nodes a -> b -> a`,
			`ir: node "q" (Relu): uses %p_out before its definition by node "p"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, p := range verifyProblems(t, tt.graph()) {
				got = append(got, p.String())
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestVerifyFir checks Verify's diagnostics against the expect-error lines of
// testdata/ir/verify.fir (the file's header explains the directive).
func TestVerifyFir(t *testing.T) {
	const path = "../testdata/ir/verify.fir"
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	expectRe := regexp.MustCompile(`(?m)^\s*// expect-error \{\{(.*)\}\}\s*$`)
	for _, c := range SplitCases(src) {
		g, err := ParseWith(path, c.Src, ParseOptions{FirstLine: c.Line})
		if err != nil {
			t.Errorf("%s:%d: %v", path, c.Line, err)
			continue
		}
		var want []string
		for _, m := range expectRe.FindAllSubmatch(c.Src, -1) {
			want = append(want, string(m[1]))
		}
		var got []string
		for _, p := range verifyProblems(t, g) {
			got = append(got, p.String())
		}
		used := make([]bool, len(got))
		for _, w := range want {
			found := false
			for i, line := range got {
				if !used[i] && strings.Contains(line, w) {
					used[i], found = true, true
					break
				}
			}
			if !found {
				t.Errorf("%s:%d: graph @%s: no problem matches expect-error {{%s}}", path, c.Line, g.Name, w)
			}
		}
		for i, line := range got {
			if !used[i] {
				t.Errorf("%s:%d: graph @%s: unexpected problem: %s", path, c.Line, g.Name, line)
			}
		}
	}
}

func TestSafeInfer(t *testing.T) {
	err := safeInfer(func(*Node) error { var s []int; _ = s[3]; return nil }, &Node{})
	if err == nil || !strings.Contains(err.Error(), "shape inference panicked: runtime error: index out of range") {
		t.Errorf("safeInfer of a panicking function = %v", err)
	}
	want := errors.New("bad")
	if err := safeInfer(func(*Node) error { return want }, &Node{}); err != want {
		t.Errorf("safeInfer passed through %v, want %v", err, want)
	}
}

package ir_test

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferminets/fermi/internal/sharedmodels"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/ir/irtest"
	"github.com/ferminets/fermi/modelfile"
	"github.com/ferminets/fermi/onnxio"
)

var update = flag.Bool("update", false, "rewrite testdata/ir/*.fir goldens from the printer's output")

const goldenDir = "../testdata/ir"

// splitHeader separates the leading // comment lines of a golden file (kept
// verbatim on -update) from the graph text the printer must reproduce.
func splitHeader(src []byte) (header, body []byte) {
	i := 0
	for i < len(src) && bytes.HasPrefix(src[i:], []byte("//")) {
		j := bytes.IndexByte(src[i:], '\n')
		if j < 0 {
			return src, nil
		}
		i += j + 1
	}
	return src[:i], src[i:]
}

// goldens returns the printer goldens: the .fir files of testdata/ir that
// hold a single graph (multi-case files such as verify.fir test other
// things and are not in canonical printed form).
func goldens(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join(goldenDir, "*.fir"))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, path := range files {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if len(ir.SplitCases(src)) == 1 {
			out = append(out, path)
		}
	}
	return out
}

// TestGolden parses each golden file, prints it (large tensors to a
// sidecar named like the golden's), and requires the exact file bytes.
func TestGolden(t *testing.T) {
	files := goldens(t)
	if len(files) < 4 {
		t.Fatalf("want at least 4 goldens in %s, found %d", goldenDir, len(files))
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			g, err := ir.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := ir.Verify(g); err != nil {
				t.Errorf("golden does not verify:\n%v", err)
			}
			var text, side bytes.Buffer
			opts := ir.PrintOptions{Sidecar: &side, SidecarName: filepath.Base(path) + ".bin"}
			if err := ir.Fprint(&text, g, opts); err != nil {
				t.Fatal(err)
			}
			header, body := splitHeader(src)
			if *update {
				out := append(append([]byte{}, header...), text.Bytes()...)
				if err := os.WriteFile(path, out, 0o644); err != nil {
					t.Fatal(err)
				}
				if side.Len() > 0 {
					if err := os.WriteFile(path+".bin", side.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
				return
			}
			if !bytes.Equal(text.Bytes(), body) {
				t.Errorf("printed text differs from %s (run with -update to accept):\n%s", path, text.Bytes())
			}
			if side.Len() > 0 {
				want, err := os.ReadFile(path + ".bin")
				if err != nil || !bytes.Equal(want, side.Bytes()) {
					t.Errorf("sidecar differs from %s.bin (%v)", path, err)
				}
			}
			g2, err := ir.Parse(path, []byte(ir.Print(g)))
			if err != nil {
				t.Fatal(err)
			}
			if err := ir.Equal(g, g2); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestTinyCNN checks the canonical example against facts stated in its
// comment rather than against the printer: 1×28×28 in, 10 classes out,
// recipe-initialized parameters, BN variance with abs.
func TestTinyCNN(t *testing.T) {
	g, err := ir.ParseFile(filepath.Join(goldenDir, "tiny-cnn.fir"))
	if err != nil {
		t.Fatal(err)
	}
	if got := g.Inputs[0].Shape.String(); got != "[N,1,28,28]" {
		t.Errorf("input shape %s, want [N,1,28,28]", got)
	}
	if got := g.Outputs[0].Shape.String(); got != "[N,10]" {
		t.Errorf("output shape %s, want [N,10]", got)
	}
	counts := irtest.CountOps(g)
	for _, op := range []ir.Op{ir.OpConv, ir.OpBatchNorm, ir.OpRelu, ir.OpMaxPool, ir.OpGemm} {
		if counts[op] == 0 {
			t.Errorf("no %v node", op)
		}
	}
	for _, p := range g.Params {
		if strings.HasSuffix(p.Name, ".var") {
			if p.Const.Init == nil || !p.Const.Init.Abs {
				t.Errorf("%s: want an abs recipe", p)
			}
			for _, v := range p.Const.F32 {
				if v < 0 {
					t.Errorf("%s: negative variance %v", p, v)
				}
			}
		}
	}
	if err := ir.InferShapes(g); err != nil {
		t.Errorf("re-inferring shapes: %v", err)
	}
}

// roundTrip prints g, parses it back, and checks equality and that printing
// again gives the same text.
func roundTrip(t *testing.T, g *ir.Graph) string {
	t.Helper()
	text := ir.Print(g)
	g2, err := ir.Parse("roundtrip.fir", []byte(text))
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if err := ir.Equal(g, g2); err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if text2 := ir.Print(g2); text2 != text {
		t.Fatalf("printing the parsed graph changed the text:\n%s\nvs\n%s", text, text2)
	}
	return text
}

// TestRoundTripRandom is the property Parse(Print(g)) == g over many random
// graphs, half of them exotic (opaque nodes, raw attributes, every dtype,
// metadata, quoted names), a third of them also through a sidecar file.
func TestRoundTripRandom(t *testing.T) {
	n := 1000
	if testing.Short() {
		n = 60
	}
	seen := make(map[ir.Op]int)
	dir := t.TempDir()
	for i := 0; i < n; i++ {
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		g, err := irtest.Random(rng, irtest.Config{Exotic: i%2 == 1})
		if err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
		for op, c := range irtest.CountOps(g) {
			seen[op] += c
		}
		roundTrip(t, g)
		if i%3 == 0 {
			path := filepath.Join(dir, "g.fir")
			if err := modelfile.Save(g, path, modelfile.SaveOptions{}); err != nil {
				t.Fatal(err)
			}
			g2, err := ir.ParseFile(path)
			if err != nil {
				t.Fatalf("seed %d: %v", i, err)
			}
			if err := ir.Equal(g, g2); err != nil {
				t.Fatalf("seed %d: sidecar round trip: %v", i, err)
			}
			os.Remove(path + ".bin")
		}
	}
	for _, op := range append(ir.Ops(), ir.OpOpaque) {
		if seen[op] == 0 {
			t.Errorf("no random graph contained %v", op)
		}
	}
}

// TestRoundTripSharedModels round-trips the real models in shared/models
// (as onnxio imports them) through modelfile.Save and ParseFile.
func TestRoundTripSharedModels(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	files, _ := filepath.Glob(filepath.Join(sharedmodels.Require(t), "*.onnx"))
	dir := t.TempDir()
	for _, f := range files {
		g, err := onnxio.ReadFile(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		path := filepath.Join(dir, filepath.Base(f)+".fir")
		if err := modelfile.Save(g, path, modelfile.SaveOptions{}); err != nil {
			t.Fatal(err)
		}
		g2, err := ir.ParseFile(path)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if err := ir.Equal(g, g2); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// TestSidecarUsed checks that large tensors really leave the text.
func TestSidecarUsed(t *testing.T) {
	data := make([]float32, 100)
	for i := range data {
		data[i] = float32(i) / 3
	}
	b := ir.NewBuilder("big")
	x := b.Input("x", ir.Float32, ir.Shape{ir.Sym("N"), ir.D(100)})
	w := b.Param("w", ir.NewFloat32([]int64{100}, data))
	b.Output(b.Node(ir.OpAdd, "y", []*ir.Value{x, w}))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	var text, side bytes.Buffer
	if err := ir.Fprint(&text, g, ir.PrintOptions{Sidecar: &side, SidecarName: "big.fir.bin"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), `sidecar("big.fir.bin", 0, 400)`) || side.Len() != 400 {
		t.Errorf("want a 400-byte sidecar reference, got %d bytes and:\n%s", side.Len(), text.String())
	}
	if _, err := ir.Parse("big.fir", text.Bytes()); err == nil || !strings.Contains(err.Error(), "ParseFile") {
		t.Errorf("Parse of a sidecar reference: got %v, want an error pointing to ParseFile", err)
	}
	if inline := ir.Print(g); strings.Contains(inline, "sidecar") || strings.Count(inline, ",") < 99 {
		t.Errorf("Print without sidecar must inline all data:\n%s", inline)
	}
	text.Reset()
	if err := ir.Fprint(&text, g, ir.PrintOptions{Elide: true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "%w = param f32[100] elided\n") {
		t.Errorf("want elided data:\n%s", text.String())
	}
	if _, err := ir.Parse("elided.fir", text.Bytes()); err == nil || !strings.Contains(err.Error(), "elided") {
		t.Errorf("Parse of elided data: got %v, want an error", err)
	}
}

// TestRoundTripHandmade covers graphs the verifier would reject but the
// text format must still represent exactly.
func TestRoundTripHandmade(t *testing.T) {
	f32 := func(name string, s ir.Shape) *ir.Value { return &ir.Value{Name: name, DType: ir.Float32, Shape: s} }
	cases := map[string]func() *ir.Graph{
		"empty": func() *ir.Graph { return &ir.Graph{} },
		"odd names and shapes": func() *ir.Graph {
			x := f32("", ir.Shape{ir.Sym("batch size"), ir.Sym("nan"), ir.Unknown, ir.D(0)})
			s := f32("scalar", ir.Shape{})
			u := &ir.Value{Name: "?", DType: ir.Undefined}
			n := &ir.Node{Name: "", Op: ir.OpOpaque, Domain: "", OpType: "param", Inputs: []*ir.Value{x, nil, s}, Outputs: []*ir.Value{nil, u, nil}}
			u.Def = n
			sink := &ir.Node{Name: "sink", Op: ir.OpOpaque, Domain: "a b", OpType: "c.d", Inputs: []*ir.Value{u}}
			quiet := &ir.Node{Name: "", Op: ir.OpOpaque, OpType: "meta"}
			return &ir.Graph{Name: "g h", Inputs: []*ir.Value{x, s}, Nodes: []*ir.Node{n, sink, quiet}, Outputs: []*ir.Value{u, u, nil, x}}
		},
		"params": func() *ir.Graph {
			p := &ir.Value{Name: "p", DType: ir.Float32, Shape: ir.Shape{ir.Sym("N")}, Const: ir.NewFloat32([]int64{2}, []float32{1, 2})}
			q := &ir.Value{Name: "q", DType: ir.Int64, Shape: nil}
			e := &ir.Value{Name: "e", DType: ir.Float32, Shape: ir.Shape{ir.D(0)}, Const: ir.NewFloat32([]int64{0}, nil)}
			d := &ir.Value{Name: "d", DType: ir.DType(40), Shape: ir.Shape{ir.D(3)}, Const: &ir.Tensor{DType: ir.DType(40), Dims: []int64{3}, Raw: []byte{1, 2}}}
			c := &ir.Value{Name: "c", DType: ir.Float32, Shape: ir.Shape{}, Const: ir.NewFloat32(nil, []float32{-0.0})}
			return &ir.Graph{Name: "p", Params: []*ir.Value{p, q, e, d, c}, Outputs: []*ir.Value{p}}
		},
		"nodes out of order": func() *ir.Graph {
			x := f32("x", ir.Shape{ir.D(1)})
			y, z := f32("y", ir.Shape{ir.D(1)}), f32("z", ir.Shape{ir.D(1)})
			second := &ir.Node{Name: "z", Op: ir.OpRelu, Inputs: []*ir.Value{y}, Outputs: []*ir.Value{z}}
			first := &ir.Node{Name: "y", Op: ir.OpRelu, Inputs: []*ir.Value{x}, Outputs: []*ir.Value{y}}
			y.Def, z.Def = first, second
			return &ir.Graph{Name: "o", Inputs: []*ir.Value{x}, Nodes: []*ir.Node{second, first}, Outputs: []*ir.Value{z}}
		},
		"attrs": func() *ir.Graph {
			x := f32("x", ir.Shape{ir.D(1)})
			y := f32("y", ir.Shape{ir.D(1)})
			n := &ir.Node{Name: "relu", Op: ir.OpRelu, Inputs: []*ir.Value{x}, Outputs: []*ir.Value{y}, Attrs: []ir.Attr{
				{Name: "z", Kind: ir.AttrTensor},
				{Name: "", Kind: ir.AttrInt, Int: math.MinInt64},
				{Name: "big", Kind: ir.AttrFloat, Float: math.MaxFloat32},
				{Name: "neg", Kind: ir.AttrFloats, Floats: []float32{-1, float32(math.NaN()), math.Float32frombits(0xff800001)}},
				{Name: "raw", Kind: ir.AttrRaw},
			}}
			y.Def = n
			return &ir.Graph{Name: "a", Inputs: []*ir.Value{x}, Nodes: []*ir.Node{n}, Outputs: []*ir.Value{y}}
		},
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) { roundTrip(t, build()) })
	}
}

// TestPrintNilParts checks that printing a graph with nil entries does not
// panic and yields text the parser rejects rather than a silently different graph.
func TestPrintNilParts(t *testing.T) {
	x := &ir.Value{Name: "x", DType: ir.Float32, Shape: ir.Shape{}}
	for name, g := range map[string]*ir.Graph{
		"nil input": {Inputs: []*ir.Value{nil}, Outputs: []*ir.Value{x}},
		"nil param": {Inputs: []*ir.Value{x}, Params: []*ir.Value{nil}, Outputs: []*ir.Value{x}},
		"nil node":  {Inputs: []*ir.Value{x}, Nodes: []*ir.Node{nil}, Outputs: []*ir.Value{x}},
	} {
		text := ir.Print(g)
		if _, err := ir.Parse(name, []byte(text)); err == nil {
			t.Errorf("%s: printed text parses:\n%s", name, text)
		}
		if err := ir.Equal(g, g); err != nil {
			t.Errorf("%s: graph differs from itself: %v", name, err)
		}
	}
	if err := ir.Fprint(io.Discard, nil, ir.PrintOptions{}); err == nil {
		t.Error("Fprint of a nil graph: want an error")
	}
}

// TestFormatting pins the spellings the format promises: floats always
// distinguishable from ints in attributes, NaN/Inf spelled, node names
// printed only when they differ from the first output, _ for omitted values.
func TestFormatting(t *testing.T) {
	x := &ir.Value{Name: "x", DType: ir.Float32, Shape: ir.Shape{ir.D(2)}}
	y := &ir.Value{Name: "y", DType: ir.Float32, Shape: ir.Shape{ir.D(2)}}
	n := &ir.Node{Name: "conv_3", Op: ir.OpClip, Inputs: []*ir.Value{x, nil}, Outputs: []*ir.Value{y}, Attrs: []ir.Attr{
		ir.FloatAttr("one", 1), ir.FloatAttr("negzero", float32(math.Copysign(0, -1))), ir.FloatAttr("small", 1e-5),
		ir.FloatAttr("inf", float32(math.Inf(-1))), ir.FloatAttr("nan", float32(math.NaN())),
		ir.FloatAttr("payload", math.Float32frombits(0x7fc00001)), ir.IntAttr("i", 1),
		ir.FloatsAttr("fs", 2, 0.5), ir.IntsAttr("is", 2, 3), ir.IntsAttr("none"), ir.StrAttr("s", "a\"b\n"),
		{Name: "r", Kind: ir.AttrRaw, Raw: []byte{0xde, 0xad}},
	}}
	y.Def = n
	g := &ir.Graph{Name: "f", Inputs: []*ir.Value{x}, Nodes: []*ir.Node{n}, Outputs: []*ir.Value{y}}
	text := roundTrip(t, g)
	want := `  %y = Clip "conv_3"(%x, _) {one=1.0, negzero=-0.0, small=1e-05, inf=-inf, nan=nan, payload=nan(0x7fc00001), ` +
		`i=1, fs=[2.0, 0.5], is=[2,3], none=ints[], s="a\"b\n", r=x"dead"} : f32[2]` + "\n"
	if !strings.Contains(text, want) {
		t.Errorf("got\n%s\nwant line\n%s", text, want)
	}
	n.Name = "y"
	if text := ir.Print(g); !strings.Contains(text, "%y = Clip(%x, _)") {
		t.Errorf("node named like its output must not print its name:\n%s", text)
	}
}

const head = "graph @g(%x: f32[2]) {\n"

// parseErrorCases are malformed inputs with the position and message of
// the error they must produce (also fuzzing seeds).
var parseErrorCases = []struct {
	name, src, pos, msg string
}{
	{"empty", "", "1:1", "expected graph, found end of input"},
	{"no name", "graph (", "1:7", "expected graph name @name"},
	{"bad dtype", "graph @g(%x: f33[2]) {\n", "1:14", "unknown dtype f33"},
	{"bad dim", "graph @g(%x: f32[-1]) {\n", "1:18", "invalid dim -1"},
	{"unterminated string", head + "  meta doc \"abc\n", "2:12", "unterminated string literal"},
	{"unknown meta", head + "  meta colour \"red\"\n", "2:8", "unknown meta key colour"},
	{"duplicate meta", head + "  meta ir_version 8\n  meta ir_version 9\n", "3:8", "duplicate meta ir_version"},
	{"missing return", head + "}\n", "2:1", "graph has no return statement"},
	{"undefined value", head + "  return %y\n}\n", "2:10", "undefined value %y"},
	{"redefined", head + "  %x = Relu(%x) : f32[2]\n", "2:3", "value %x redefined (first defined at 1:10)"},
	{"missing types", head + "  %y = Relu(%x)\n", "2:16", "expected ':' and output types"},
	{"too few types", head + "  %y, %z = Dropout(%x) : f32[2]\n", "2:32", "expected ',' and the type of %z"},
	{"extra tokens", head + "  %y = Relu(%x) : f32[2] foo\n", "2:26", "expected end of line, found 'foo'"},
	{"bad op type", head + "  %y = a..b(%x) : f32[2]\n", "2:8", "invalid op type a..b"},
	{"duplicate attr", head + "  %y = Relu(%x) {a=1, a=2} : f32[2]\n", "2:23", "duplicate attribute a"},
	{"bad attr value", head + "  %y = Relu(%x) {a=} : f32[2]\n", "2:20", "expected attribute value, found '}'"},
	{"tensor count", head + "  %w = param f32[3] [1, 2]\n", "2:21", "f32[3] tensor has 2 elements, want 3"},
	{"int overflow", head + "  %w = param i8[1] [200]\n", "2:21", "invalid int8 200"},
	{"inexact f16", head + "  %w = param f16[1] [0.1]\n", "2:22", "0.1 is not exactly representable as f16"},
	{"not a nan", head + "  %w = param f32[1] [nan(0x3f800000)]\n", "2:22", "nan(0x3f800000) is not a f32 NaN"},
	{"float out of range", head + "  %w = param f32[1] [1e39]\n", "2:22", "invalid f32 1e39: out of range"},
	{"recipe dtype", head + "  %w = param i64[2] normal(seed=1, mean=0, std=1)\n", "2:21", "recipe normal makes f32 data, not i64"},
	{"recipe params", head + "  %w = param f32[2] normal(seed=1, low=0, high=1)\n", "2:36", "expected mean, found 'low'"},
	{"recipe too big", head + "  %w = param f32[100000,100000] normal(seed=1, mean=0, std=1)\n", "2:33", "recipe tensor has 10000000000 elements, more than 16777216"},
	{"huge dims", head + "  %w = param f32[4294967296,4294967296] []\n", "2:14", "tensor dims [4294967296,4294967296] are negative or too large"},
	{"sidecar without file", head + "  %w = param f32[100] sidecar(\"w.bin\", 0, 400)\n", "2:23", "sidecar reference needs a directory"},
	{"bytes for f32", head + "  %w = param f32[1] x\"00000000\"\n", "2:21", "f32 tensor data must be an element list"},
	{"bad hex", head + "  meta extra x\"0g\"\n", "2:14", "invalid bytes literal"},
	{"bad number", head + "  opset \"\" 1x\n", "2:12", "invalid number"},
	{"bad char", head + "  $\n", "2:3", "unexpected character '$'"},
	{"param two outputs", head + "  %a, %b = param f32[1] [1]\n", "2:3", "param defines exactly one value"},
	{"after return", head + "  return %x\n  %y = Relu(%x) : f32[2]\n}\n", "3:3", "expected '}' after return"},
	{"two graphs", head + "  return %x\n}\ngraph @h() {\n", "4:1", "expected end of input after graph"},
	{"nan payload width", head + "  %w = param f16[1] [nan(0x7fc00001)]\n", "2:22", "is not a f16 NaN"},
}

// TestParseErrors checks position and message of errors in malformed input.
func TestParseErrors(t *testing.T) {
	for _, c := range parseErrorCases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ir.Parse("in.fir", []byte(c.src))
			var pe *ir.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("got %v, want a *ParseError", err)
			}
			want := "in.fir:" + c.pos + ": "
			if !strings.HasPrefix(err.Error(), want) || !strings.Contains(pe.Msg, c.msg) {
				t.Errorf("got  %v\nwant %s%s", err, want, c.msg)
			}
		})
	}
}

// TestSplitCases checks case boundaries and that error positions in a
// later case refer to lines of the whole file.
func TestSplitCases(t *testing.T) {
	src := "// first\ngraph @a(%x: f32[1]) {\n  return %x\n}\n// -----\n\ngraph @b(%x: f32[1]) {\n  return %y\n}\n  // -----  \ngraph @c() {\n  return\n}"
	cases := ir.SplitCases([]byte(src))
	if len(cases) != 3 {
		t.Fatalf("got %d cases, want 3", len(cases))
	}
	for i, want := range []int{1, 6, 11} {
		if cases[i].Line != want {
			t.Errorf("case %d starts at line %d, want %d", i, cases[i].Line, want)
		}
	}
	if g, err := ir.ParseWith("f.fir", cases[0].Src, ir.ParseOptions{FirstLine: cases[0].Line}); err != nil || g.Name != "a" {
		t.Errorf("case 0: %v", err)
	}
	_, err := ir.ParseWith("f.fir", cases[1].Src, ir.ParseOptions{FirstLine: cases[1].Line})
	if err == nil || !strings.HasPrefix(err.Error(), "f.fir:8:10: undefined value %y") {
		t.Errorf("case 1: got %v, want f.fir:8:10: undefined value %%y", err)
	}
	if g, err := ir.ParseWith("f.fir", cases[2].Src, ir.ParseOptions{FirstLine: cases[2].Line}); err != nil || g.Name != "c" {
		t.Errorf("case 2: %v", err)
	}
	if n := len(ir.SplitCases([]byte("graph @a() {\n  return\n}\n"))); n != 1 {
		t.Errorf("file without separators: %d cases, want 1", n)
	}
}

// TestEqualDetects checks that Equal notices each kind of difference.
func TestEqualDetects(t *testing.T) {
	base := func() *ir.Graph {
		g, err := irtest.Random(rand.New(rand.NewPCG(3, 3)), irtest.Config{Exotic: true, Nodes: 8})
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	firstNodeWith := func(g *ir.Graph, ok func(n *ir.Node) bool) *ir.Node {
		for _, n := range g.Nodes {
			if ok(n) {
				return n
			}
		}
		t.Fatal("no suitable node in the base graph")
		return nil
	}
	param := func(g *ir.Graph, name string) *ir.Tensor {
		for _, p := range g.Params {
			if strings.HasPrefix(p.Name, name) || strings.HasSuffix(p.Name, name) {
				return p.Const
			}
		}
		t.Fatalf("no param %s", name)
		return nil
	}
	mutations := map[string]func(g *ir.Graph){
		"graph name":    func(g *ir.Graph) { g.Name += "x" },
		"ir version":    func(g *ir.Graph) { g.IRVersion++ },
		"opset":         func(g *ir.Graph) { g.Opsets[0].Version++ },
		"metadata":      func(g *ir.Graph) { g.Metadata[0].Value = "other" },
		"model extra":   func(g *ir.Graph) { g.ModelExtra = append(g.ModelExtra, 1) },
		"input doc":     func(g *ir.Graph) { g.Inputs[0].Doc = "changed" },
		"shape nil":     func(g *ir.Graph) { g.Nodes[0].Outputs[0].Shape = nil },
		"scalar vs nil": func(g *ir.Graph) { g.Inputs[0].Shape = ir.Shape{} },
		"dim sym":       func(g *ir.Graph) { g.Inputs[0].Shape = append(ir.Shape{ir.Sym("M")}, g.Inputs[0].Shape[1:]...) },
		"negative zero": func(g *ir.Graph) { param(g, "special").F32[3] = 0 },
		"nan payload":   func(g *ir.Graph) { param(g, "special").F32[1] = float32(math.NaN()) },
		"recipe seed":   func(g *ir.Graph) { param(g, "stale").Init.Seed++ },
		"raw byte":      func(g *ir.Graph) { param(g, "flags").Raw[0] ^= 1 },
		"string data":   func(g *ir.Graph) { param(g, "names").Strs[0] = "cow" },
		"node name":     func(g *ir.Graph) { g.Nodes[0].Name += "x" },
		"opaque type": func(g *ir.Graph) {
			firstNodeWith(g, func(n *ir.Node) bool { return n.Op == ir.OpOpaque }).OpType = "Other"
		},
		"node extra": func(g *ir.Graph) { g.Nodes[0].Extra = []byte{9} },
		"attr order": func(g *ir.Graph) {
			n := firstNodeWith(g, func(n *ir.Node) bool { return len(n.Attrs) > 1 })
			n.Attrs[0], n.Attrs[1] = n.Attrs[1], n.Attrs[0]
		},
		"attr kind": func(g *ir.Graph) {
			firstNodeWith(g, func(n *ir.Node) bool { return len(n.Attrs) > 0 }).Attrs[0].Kind = ir.AttrRaw
		},
		"edge":           func(g *ir.Graph) { g.Outputs[0] = g.Inputs[0] },
		"omitted input":  func(g *ir.Graph) { n := g.Nodes[len(g.Nodes)-1]; n.Inputs = append(n.Inputs, nil) },
		"output dropped": func(g *ir.Graph) { g.Outputs = g.Outputs[:0] },
	}
	for name, mutate := range mutations {
		t.Run(name, func(t *testing.T) {
			a, b := base(), base()
			if err := ir.Equal(a, b); err != nil {
				t.Fatalf("identical graphs differ: %v", err)
			}
			mutate(b)
			if err := ir.Equal(a, b); err == nil {
				t.Errorf("Equal missed the change")
			}
		})
	}
}

// FuzzParse requires that the parser never panics and that whatever it
// accepts prints and parses back to an equal graph with identical text.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(goldenDir, "*.fir"))
	for _, path := range files {
		if src, err := os.ReadFile(path); err == nil {
			for _, c := range ir.SplitCases(src) {
				f.Add(c.Src)
			}
		}
	}
	for _, c := range parseErrorCases {
		f.Add([]byte(c.src))
	}
	for i := 0; i < 8; i++ {
		g, err := irtest.Random(rand.New(rand.NewPCG(uint64(i), 1)), irtest.Config{Exotic: i%2 == 0, Nodes: 4})
		if err == nil {
			f.Add([]byte(ir.Print(g)))
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		g, err := ir.Parse("fuzz.fir", src)
		if err != nil {
			var pe *ir.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a *ParseError: %v", err)
			}
			return
		}
		text := ir.Print(g)
		g2, err := ir.Parse("printed.fir", []byte(text))
		if err != nil {
			t.Fatalf("printed text does not parse: %v\n%s", err, text)
		}
		if err := ir.Equal(g, g2); err != nil {
			t.Fatalf("%v\n%s", err, text)
		}
		if text2 := ir.Print(g2); text2 != text {
			t.Fatalf("unstable printing:\n%s\nvs\n%s", text, text2)
		}
	})
}

// TestDocExample parses the example in the package documentation, so the
// documented syntax cannot drift from the parser.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var src strings.Builder
	in := false
	for _, line := range strings.Split(string(doc), "\n") {
		body, ok := strings.CutPrefix(line, "//\t")
		switch {
		case !in && ok && strings.HasPrefix(body, "graph @"):
			in = true
			fallthrough
		case in && ok:
			src.WriteString(body + "\n")
		}
		if in && body == "}" {
			break
		}
	}
	g, err := ir.Parse("doc.go", []byte(src.String()))
	if err != nil {
		t.Fatalf("%v\n%s", err, src.String())
	}
	if len(g.Nodes) != 3 || g.Nodes[1].Name != "drop" || g.Nodes[2].Domain != "com.microsoft" {
		t.Errorf("doc example parsed to an unexpected graph:\n%s", ir.Print(g))
	}
}

package passes_test

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/ir/irtest"
	"github.com/ferminets/fermi/onnxio"
	"github.com/ferminets/fermi/passes"
)

// TestFP16Options checks fp16's option parsing and that String gives back
// what Parse reads.
func TestFP16Options(t *testing.T) {
	for _, c := range []struct {
		in, want, err string
	}{
		{"fp16", "fp16", ""},
		{"fp16{io=fp32}", "fp16", ""},
		{"fp16{io=fp16}", "fp16{io=fp16}", ""},
		{"fp16{keep=Softmax|Resize}", "fp16{keep=Resize|Softmax}", ""},
		{"fp16{io=fp16,keep=Softmax|Softmax}", "fp16{io=fp16,keep=Softmax}", ""},
		{"fp16{io=fp8}", "", `io="fp8": want fp32 or fp16`},
		{"fp16{keep=Conv|NonMaxSuppression}", "", `"NonMaxSuppression" is not an op of the core set`},
		{"fp16{min=1e-7}", "", `unknown option "min"`},
	} {
		p, err := passes.Parse(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Parse(%q) error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", c.in, err)
			continue
		}
		if got := p.String(); got != c.want {
			t.Errorf("Parse(%q).String() = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestPipelineTolerance checks which pipelines --check-equivalence accepts
// and with what default tolerance.
func TestPipelineTolerance(t *testing.T) {
	for _, c := range []struct {
		pipeline string
		tol      float64
		ok       bool
	}{
		{"none", passes.DefaultTol, true},
		{"simplify,fold-bn,dce", passes.DefaultTol, true},
		{"fold-bn,fp16", passes.FP16Tol, true},
		{"fp16{io=fp16},dce", passes.FP16Tol, true},
		{"prune{ratio=0.5}", 0, false},
		{"fp16,quantize{calib=random}", 0, false},
	} {
		p, err := passes.Parse(c.pipeline)
		if err != nil {
			t.Fatal(err)
		}
		tol, ok := p.Tolerance()
		if tol != c.tol || ok != c.ok {
			t.Errorf("%s: Tolerance() = %g, %v; want %g, %v", c.pipeline, tol, ok, c.tol, c.ok)
		}
	}
}

// fp16Cases are small graphs the idempotence and determinism tests convert.
var fp16Cases = []string{
	`graph @conv(%x: f32[N,2,5,5]) {
  %w = param f32[4,2,3,3] normal(seed=1, mean=0, std=0.3)
  %b = param f32[4] [0.1, 0.2, 0.3, 0.4]
  %c = Conv(%x, %w, %b) {kernel_shape=[3,3], pads=[1,1,1,1]} : f32[N,4,5,5]
  %y = Relu(%c) : f32[N,4,5,5]
  return %y, %c
}`,
	`graph @resize(%x: f32[1,2,2,2]) {
  %base = param f32[4] [1, 1, 1, 1]
  %two = param f32[4] [1, 1, 2, 2]
  %s = Mul(%base, %two) : f32[4]
  %r = Resize(%x, _, %s) {mode="nearest"} : f32[1,2,4,4]
  %y = Softmax(%r) {axis=1} : f32[1,2,4,4]
  %o = test.Op(%y) : f32[1,2,4,4]
  %z = Add(%o, %r) : f32[1,2,4,4]
  return %z, %s
}`,
	`graph @shared(%x: f32[4], %h: f16[4]) {
  %p = param f32[4] [1, 2, 3, 100000]
  %a = Add(%x, %p) : f32[4]
  %hf = Cast(%h) {to=1} : f32[4]
  %b = Mul(%a, %hf) : f32[4]
  %u = test.Op(%p, %b) : f32[4]
  return %b, %u, %b, %p
}`,
}

// TestFP16Idempotent runs fp16 (with each io mode and a keep list) twice on
// small graphs and a real model: the second run changes nothing, and two
// runs on copies print the same IR (determinism).
func TestFP16Idempotent(t *testing.T) {
	graphs := map[string]func() (*ir.Graph, error){}
	for i, src := range fp16Cases {
		graphs[string(rune('a'+i))] = func() (*ir.Graph, error) { return ir.Parse("case.fir", []byte(src)) }
	}
	graphs["fashion-resnet20"] = func() (*ir.Graph, error) {
		return onnxio.ReadFile(filepath.Join(modelDir, "fashion-resnet20.onnx"))
	}
	for _, spec := range []string{"fp16", "fp16{io=fp16}", "fp16{keep=Relu|Softmax|Add}"} {
		p, err := passes.Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		for name, build := range graphs {
			t.Run(spec+"/"+name, func(t *testing.T) {
				g, err := build()
				if err != nil {
					t.Skip(err) // the shared model may be missing
				}
				g2 := passes.Clone(g)
				if _, err := passes.Run(g, p, passes.Options{VerifyEach: true}); err != nil {
					t.Fatal(err)
				}
				first := printIR(t, g)
				st, err := passes.Run(g, p, passes.Options{VerifyEach: true})
				if err != nil {
					t.Fatal(err)
				}
				if st.Passes[0].Changed {
					t.Error("second run reports a change")
				}
				if second := printIR(t, g); second != first {
					t.Errorf("second run changed the IR:\n%s\nafter the first run:\n%s", second, first)
				}
				if _, err := passes.Run(g2, p, passes.Options{VerifyEach: true}); err != nil {
					t.Fatal(err)
				}
				if other := printIR(t, g2); other != first {
					t.Errorf("two runs on copies differ:\n%s\nand\n%s", first, other)
				}
				if !strings.Contains(first, "f16") {
					t.Errorf("nothing converted:\n%s", first)
				}
			})
		}
	}
}

func printIR(t *testing.T, g *ir.Graph) string {
	t.Helper()
	var sb strings.Builder
	if err := ir.Fprint(&sb, g, ir.PrintOptions{}); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

// TestFP16Interface checks what the graph's users see: with io=fp32 the
// inputs and outputs keep their names and float32 dtypes (graph inputs and
// outputs that were float16 stay float16); with io=fp16 the float32 ones
// become float16. The parameter returned as an output keeps its name.
func TestFP16Interface(t *testing.T) {
	for _, c := range []struct {
		spec        string
		ins, outs   []ir.DType
		outputNames []string
	}{
		{"fp16", []ir.DType{ir.Float32, ir.Float16}, []ir.DType{ir.Float32, ir.Float32, ir.Float32, ir.Float32}, []string{"b", "u", "b", "p"}},
		{"fp16{io=fp16}", []ir.DType{ir.Float16, ir.Float16}, []ir.DType{ir.Float16, ir.Float16, ir.Float16, ir.Float16}, []string{"b", "u", "b", "p"}},
	} {
		g, err := ir.Parse("shared.fir", []byte(fp16Cases[2]))
		if err != nil {
			t.Fatal(err)
		}
		p, err := passes.Parse(c.spec)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := passes.Run(g, p, passes.Options{VerifyEach: true}); err != nil {
			t.Fatalf("%s: %v", c.spec, err)
		}
		for i, v := range g.Inputs {
			if v.DType != c.ins[i] {
				t.Errorf("%s: input %q is %v, want %v", c.spec, v.Name, v.DType, c.ins[i])
			}
		}
		for i, v := range g.Outputs {
			if v.DType != c.outs[i] || v.Name != c.outputNames[i] {
				t.Errorf("%s: output %d is %q %v, want %q %v", c.spec, i, v.Name, v.DType, c.outputNames[i], c.outs[i])
			}
		}
	}
}

// TestFP16WeightBytes checks that the cost model counts float16 weights at
// two bytes: after fold-bn and dce, fp16 halves weight_bytes of
// fashion-resnet20 exactly (every parameter is float32 and converted).
func TestFP16WeightBytes(t *testing.T) {
	g, err := onnxio.ReadFile(filepath.Join(modelDir, "fashion-resnet20.onnx"))
	if err != nil {
		t.Skip(err)
	}
	if _, err := passes.Run(g, mustParse(t, "simplify,fold-bn,dce"), passes.Options{VerifyEach: true}); err != nil {
		t.Fatal(err)
	}
	before, err := ir.Analyze(g)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := passes.Run(g, mustParse(t, "fp16"), passes.Options{VerifyEach: true}); err != nil {
		t.Fatal(err)
	}
	after, err := ir.Analyze(g)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("weight bytes %d → %d, by dtype %v", before.WeightBytes, after.WeightBytes, after.WeightBytesByDType)
	if 2*after.WeightBytes != before.WeightBytes || after.WeightBytesByDType[ir.Float32] != 0 {
		t.Errorf("weight bytes %d → %d (%v), want exactly half, none f32", before.WeightBytes, after.WeightBytes, after.WeightBytesByDType)
	}
	if after.MACs != before.MACs || after.Params != before.Params {
		t.Errorf("MACs %d → %d, params %d → %d: want unchanged", before.MACs, after.MACs, before.Params, after.Params)
	}
}

// TestFP16RandomGraphs runs fp16 (both io modes) on random graphs of every
// core op: the result verifies after the pass, a second run changes
// nothing, and the engine runs the result whenever it ran the original
// (float16 overflow of random data makes a numeric bound meaningless here;
// the shared models check the numbers). QDQ graphs must be refused.
func TestFP16RandomGraphs(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 60
	}
	converted, refused := 0, 0
	for seed := uint64(0); seed < uint64(n); seed++ {
		rng := rand.New(rand.NewPCG(seed, 16))
		g0, err := irtest.Random(rng, irtest.Config{Nodes: 1 + int(seed%16)})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		ran := false
		if e, err := engine.New(g0); err == nil {
			if in, err := passes.RandomInputs(g0, seed, 2); err == nil {
				_, err = e.Run(in)
				ran = err == nil
			}
		}
		qdq := false
		for _, nd := range g0.Nodes {
			qdq = qdq || nd.Op == ir.OpQuantizeLinear || nd.Op == ir.OpDequantizeLinear
		}
		for _, spec := range []string{"fp16", "fp16{io=fp16}"} {
			g := passes.Clone(g0)
			p := mustParse(t, spec)
			_, err := passes.Run(g, p, passes.Options{VerifyEach: true})
			if qdq {
				if err == nil || !strings.Contains(err.Error(), "QDQ") {
					t.Errorf("seed %d %s: QDQ graph: error %v, want a refusal", seed, spec, err)
				}
				refused++
				continue
			}
			if err != nil {
				t.Errorf("seed %d %s: %v\n%s", seed, spec, err, printIR(t, g0))
				continue
			}
			converted++
			first := printIR(t, g)
			st, err := passes.Run(g, p, passes.Options{VerifyEach: true})
			if err != nil || st.Passes[0].Changed || printIR(t, g) != first {
				t.Errorf("seed %d %s: second run: err %v, changed %v\n%s", seed, spec, err, st.Passes[0].Changed, first)
			}
			if !ran {
				continue
			}
			e, err := engine.New(g)
			if err != nil {
				t.Errorf("seed %d %s: engine: %v", seed, spec, err)
				continue
			}
			in, err := passes.RandomInputs(g, seed, 2)
			if err != nil {
				t.Errorf("seed %d %s: %v", seed, spec, err)
				continue
			}
			if _, err := e.Run(in); err != nil {
				t.Errorf("seed %d %s: the engine ran the original but not the result: %v\n%s", seed, spec, err, first)
			}
		}
	}
	t.Logf("%d conversions, %d QDQ graphs refused", converted, refused)
}

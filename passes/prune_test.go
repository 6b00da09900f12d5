package passes_test

import (
	"path/filepath"
	"testing"

	"github.com/ferminets/fermi/crosscheck"
	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio"
	"github.com/ferminets/fermi/ortrun"
	"github.com/ferminets/fermi/passes"
	"github.com/ferminets/fermi/targets"
	"github.com/ferminets/fermi/zoo"
)

// TestPruneModels prunes the shared models to half their MACs and checks
// the result is valid (verify after every pass), within budget, keeps its
// interface, runs in the engine and in ONNX Runtime, and passes
// onnx.checker.
func TestPruneModels(t *testing.T) {
	for _, m := range []struct {
		file  string
		large bool
	}{
		{"fashion-resnet20.onnx", false},
		{"fashion-lenet5.onnx", false},
		{"mobilenet_v2-op13.onnx", true},
		{"shufflenet_v2_x0_5-op13.onnx", false},
		{"squeezenet1_1-op13.onnx", true},
	} {
		for _, crit := range []string{"l1", "bn"} {
			t.Run(m.file+"/"+crit, func(t *testing.T) {
				if m.large && testing.Short() {
					t.Skip("large model in -short mode")
				}
				g, err := onnxio.ReadFile(filepath.Join(modelDir, m.file))
				if err != nil {
					t.Skip(err)
				}
				r0, err := ir.Analyze(g)
				if err != nil {
					t.Fatal(err)
				}
				p, err := passes.Parse("simplify,prune{macs=0.5,criterion=" + crit + "},fold-bn,simplify")
				if err != nil {
					t.Fatal(err)
				}
				if _, err := passes.Run(g, p, passes.Options{VerifyEach: true}); err != nil {
					t.Fatal(err)
				}
				r1, err := ir.Analyze(g)
				if err != nil {
					t.Fatal(err)
				}
				frac := float64(r1.MACs) / float64(r0.MACs)
				t.Logf("MACs %d → %d (%.1f%%), params %d → %d", r0.MACs, r1.MACs, 100*frac, r0.Params, r1.Params)
				if frac > 0.505 {
					t.Errorf("MACs at %.1f%% of the original, want ≤ 50.5%%", 100*frac)
				}
				if d := g.Inputs[0].Shape[0]; d.Static() {
					t.Errorf("batch dim became %v", d)
				}
				in, err := passes.RandomInputs(g, 1, 2)
				if err != nil {
					t.Fatal(err)
				}
				e, err := engine.New(g)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := e.Run(in); err != nil {
					t.Fatalf("engine: %v", err)
				}
				data, err := onnxio.Encode(g, onnxio.WriteOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if err := crosscheck.Check(data); err != nil {
					t.Errorf("onnx.checker: %v", err)
				}
				if ortrun.Available() == nil {
					out, err := ortrun.Run(data, in, ortrun.Options{})
					if err != nil {
						t.Fatalf("ORT: %v", err)
					}
					if y := out["logits"]; y == nil || y.Dims[0] != 2 {
						t.Errorf("ORT output %v", y)
					}
				}
			})
		}
	}
}

// TestPruneRoundAndActivation prunes fashion-resnet20 by mean activation on
// Fashion-MNIST with channel counts rounded to multiples of 8, and checks
// the budget and the rounding of every Conv.
func TestPruneRoundAndActivation(t *testing.T) {
	g, err := onnxio.ReadFile(filepath.Join(modelDir, "fashion-resnet20.onnx"))
	if err != nil {
		t.Skip(err)
	}
	orig := make(map[string]int64)
	for _, n := range g.Nodes {
		if n.Op == ir.OpConv {
			orig[n.Name] = n.Outputs[0].Shape[1].Size
		}
	}
	r0, err := ir.Analyze(g)
	if err != nil {
		t.Fatal(err)
	}
	p, err := passes.Parse("simplify,prune{macs=0.5,criterion=activation,calib=fashion-mnist,samples=32,round=8},fold-bn,simplify")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := passes.Run(g, p, passes.Options{VerifyEach: true}); err != nil {
		t.Fatal(err)
	}
	r1, err := ir.Analyze(g)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("MACs %d → %d (%.1f%%)", r0.MACs, r1.MACs, 100*float64(r1.MACs)/float64(r0.MACs))
	if float64(r1.MACs) > 0.505*float64(r0.MACs) {
		t.Errorf("MACs above 50.5%%")
	}
	pruned := 0
	for _, n := range g.Nodes {
		if n.Op != ir.OpConv {
			continue
		}
		c := n.Outputs[0].Shape[1].Size
		if c != orig[n.Name] {
			pruned++
			if c%8 != 0 {
				t.Errorf("conv %q keeps %d channels, not a multiple of 8", n.Name, c)
			}
		}
	}
	if pruned == 0 {
		t.Error("no Conv was pruned")
	}
}

// TestPruneLatency prunes fashion-resnet20 to 60 % of its predicted latency
// on the Cortex-A53 profile and checks the prediction after pruning.
func TestPruneLatency(t *testing.T) {
	g, err := onnxio.ReadFile(filepath.Join(modelDir, "fashion-resnet20.onnx"))
	if err != nil {
		t.Skip(err)
	}
	tgt, err := targets.Lookup("cortex-a53")
	if err != nil {
		t.Fatal(err)
	}
	p, err := passes.Parse("simplify,fold-bn,simplify")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := passes.Run(g, p, passes.Options{VerifyEach: true}); err != nil {
		t.Fatal(err)
	}
	r0, err := targets.Estimate(g, tgt)
	if err != nil {
		t.Fatal(err)
	}
	if p, err = passes.Parse("prune{latency=0.6,target=cortex-a53},dce"); err != nil {
		t.Fatal(err)
	}
	if _, err := passes.Run(g, p, passes.Options{VerifyEach: true}); err != nil {
		t.Fatal(err)
	}
	r1, err := targets.Estimate(g, tgt)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("predicted latency %.3f ms → %.3f ms", r0.LatencyMs, r1.LatencyMs)
	if r1.LatencyMs > 0.6*r0.LatencyMs {
		t.Errorf("latency %.3f ms, want ≤ %.3f", r1.LatencyMs, 0.6*r0.LatencyMs)
	}
}

// TestPruneZoo prunes every zoo network (ImageNet ones at 3×64×64) by 30 %
// of its prunable channels with verification after every pass, and runs
// the result in the engine.
func TestPruneZoo(t *testing.T) {
	for _, name := range zoo.Names() {
		t.Run(name, func(t *testing.T) {
			opts := zoo.Options{Seed: 1, RandomBNStats: true}
			g, err := zoo.Build(name, opts)
			if err != nil {
				t.Fatal(err)
			}
			if g.Inputs[0].Shape[1].Size == 3 {
				if testing.Short() {
					t.Skip("ImageNet network in -short mode")
				}
				opts.InputShape = [3]int{3, 64, 64}
				if g, err = zoo.Build(name, opts); err != nil {
					t.Fatal(err)
				}
			}
			r0, err := ir.Analyze(g)
			if err != nil {
				t.Fatal(err)
			}
			p, err := passes.Parse("simplify,prune{ratio=0.3,criterion=l2},fold-bn,simplify")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := passes.Run(g, p, passes.Options{VerifyEach: true}); err != nil {
				t.Fatal(err)
			}
			r1, err := ir.Analyze(g)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("MACs %d → %d (%.1f%%)", r0.MACs, r1.MACs, 100*float64(r1.MACs)/float64(r0.MACs))
			if r1.MACs >= r0.MACs {
				t.Error("pruning did not reduce MACs")
			}
			e, err := engine.New(g)
			if err != nil {
				t.Fatal(err)
			}
			in, err := passes.RandomInputs(g, 1, 2)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.Run(in); err != nil {
				t.Fatal(err)
			}
		})
	}
}

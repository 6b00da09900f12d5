package targets

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/ferminets/fermi/ir"
)

// randomStack builds a chain of Conv → BatchNorm → ReLU layers with the given
// widths on a res×res input, then GlobalAveragePool → Flatten → Gemm(10).
// Kernel sizes and strides come from the builder's seed so that two stacks
// built with the same seed differ only in widths. A quantized builder makes
// the input int8 and every layer a QDQ int8 kernel.
func randomStack(t testing.TB, nb *netBuilder, widths []int64, res int64) *ir.Graph {
	rng := rand.New(rand.NewPCG(uint64(len(widths)), uint64(res)))
	var x *ir.Value
	if nb.quant {
		xq := nb.b.Input("xq", ir.Int8, ir.Static(1, 3, res, res))
		x = nb.b.Node(ir.OpDequantizeLinear, "x_dq", []*ir.Value{xq, nb.scalar("x_s", 0.05), nb.int8Scalar("x_zp")})
	} else {
		x = nb.b.Input("x", ir.Float32, ir.Static(1, 3, res, res))
	}
	for i, w := range widths {
		k := []int64{1, 3, 5}[rng.IntN(3)]
		s := int64(1)
		if rng.IntN(3) == 0 && x.Shape[2].Size > 4 {
			s = 2
		}
		x = nb.convBNAct(x, fmt.Sprintf("l%d", i), w, k, s, 1, "relu")
	}
	return nb.build(nb.classifier(x, 10))
}

// TestFewerChannelsNeverSlower: on every built-in target, shrinking the
// widths of a random conv stack never raises predicted latency or energy.
func TestFewerChannelsNeverSlower(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	targets := Builtin()
	for trial := 0; trial < 25; trial++ {
		depth := 1 + rng.IntN(5)
		wide := make([]int64, depth)
		narrow := make([]int64, depth)
		for i := range wide {
			wide[i] = 1 + rng.Int64N(96)
			narrow[i] = 1 + rng.Int64N(wide[i])
		}
		res := []int64{8, 16, 32, 56}[rng.IntN(4)]
		gw := randomStack(t, newNet(t, "wide"), wide, res)
		gn := randomStack(t, newNet(t, "narrow"), narrow, res)
		for _, tg := range targets {
			rw, err := Estimate(gw, tg)
			if err != nil {
				t.Fatal(err)
			}
			rn, err := Estimate(gn, tg)
			if err != nil {
				t.Fatal(err)
			}
			if rn.LatencyMs > rw.LatencyMs*(1+1e-12) || rn.EnergyMJ > rw.EnergyMJ*(1+1e-12) {
				t.Errorf("%s: widths %v → %v at %d²: latency %.6f → %.6f ms, energy %.6f → %.6f mJ",
					tg.Name, wide, narrow, res, rw.LatencyMs, rn.LatencyMs, rw.EnergyMJ, rn.EnergyMJ)
			}
		}
	}
}

// TestInt8NeverMoreEnergy: on every built-in target that runs int8, the QDQ
// int8 version of a random conv stack never costs more energy (or time) than
// the float32 one.
func TestInt8NeverMoreEnergy(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var targets []*Target
	for _, tg := range Builtin() {
		if tg.SupportsDType(ir.Int8) {
			targets = append(targets, tg)
		}
	}
	if len(targets) < 5 {
		t.Fatalf("only %d built-in targets run int8", len(targets))
	}
	for trial := 0; trial < 25; trial++ {
		widths := make([]int64, 1+rng.IntN(5))
		for i := range widths {
			widths[i] = 1 + rng.Int64N(96)
		}
		res := []int64{8, 16, 32, 56}[rng.IntN(4)]
		gf := randomStack(t, newNet(t, "f32"), widths, res)
		nq := newNet(t, "i8")
		nq.quant = true
		gq := randomStack(t, nq, widths, res)
		for _, tg := range targets {
			rf, err := Estimate(gf, tg)
			if err != nil {
				t.Fatal(err)
			}
			rq, err := Estimate(gq, tg)
			if err != nil {
				t.Fatal(err)
			}
			if len(rq.Kernels) != len(rf.Kernels) {
				t.Errorf("%s: int8 graph has %d kernels, float %d", tg.Name, len(rq.Kernels), len(rf.Kernels))
			}
			if rq.EnergyMJ > rf.EnergyMJ || rq.LatencyMs > rf.LatencyMs {
				t.Errorf("%s: widths %v at %d²: int8 %.6f mJ / %.6f ms, float32 %.6f mJ / %.6f ms",
					tg.Name, widths, res, rq.EnergyMJ, rq.LatencyMs, rf.EnergyMJ, rf.LatencyMs)
			}
		}
	}
}

package targets

import (
	"math"
	"testing"

	"github.com/ferminets/fermi/ir"
)

// TestFitRecoversProfile fits a profile to "measurements" that a known
// profile predicts for the micro-benchmarks, starting from the shipped host
// profile, and checks that the fit reproduces every measurement and
// recovers the figures that the micro-benchmarks determine.
func TestFitRecoversProfile(t *testing.T) {
	if testing.Short() {
		t.Skip("materializes the micro-benchmarks' weights (about 300 MB)")
	}
	base, err := Lookup("host")
	if err != nil {
		t.Fatal(err)
	}
	if base.ConvShape == nil || len(base.WeightLevels) != 2 {
		t.Fatal("host profile has no conv_shape section or not two weight levels")
	}
	truth := cloneTarget(base)
	truth.KernelOverheadUs.Value = 3
	truth.BandwidthGBs.Value = 50
	truth.WeightLevels[0].AboveBytes.Value = 10 << 20
	truth.WeightLevels[0].BandwidthGBs.Value = 30
	truth.WeightLevels[1].AboveBytes.Value = 40 << 20
	truth.WeightLevels[1].BandwidthGBs.Value = 12
	if truth.StreamSerial == nil {
		t.Fatal("host profile has no stream_serial figure")
	}
	truth.StreamSerial.Value = 0.5
	truth.ConvShape.HalfDepth.Value = 12
	truth.ConvShape.UnblockedConv.Value = 0.5
	truth.ConvShape.UnblockedDepthwise.Value = 0.8
	for c, e := range map[OpClass]float64{ClassConv: 0.6, ClassDepthwise: 0.2, ClassGemm: 0.3, ClassElementwise: 0.05, ClassPool: 0.04} {
		f := truth.Efficiency[c]
		f.Value = e
		truth.Efficiency[c] = f
	}
	benches, err := MicroBenchmarks()
	if err != nil {
		t.Fatal(err)
	}
	var ss []sample
	for _, mb := range benches {
		pl := groupKernels(mb.Graph, truth)
		fp := pl.peakBytes
		for _, k := range pl.kernels {
			fp += k.weightBytes
		}
		s := sample{kernels: pl.kernels, footprint: fp}
		s.ms = predictMs(truth, s)
		ss = append(ss, s)
	}
	got := cloneTarget(base)
	if rms := fit(got, ss); rms > 0.02 {
		t.Errorf("rms log error %.4f after fitting exact data, want ≤ 0.02", rms)
	}
	for i, s := range ss {
		if r := predictMs(got, s) / s.ms; math.Abs(r-1) > 0.05 {
			t.Errorf("%s: fitted prediction %.2f × the measurement", benches[i].Name, r)
		}
	}
	close := func(what string, got, want, tol float64) {
		if math.Abs(got/want-1) > tol {
			t.Errorf("%s: fitted %.4g, truth %.4g", what, got, want)
		}
	}
	close("kernel_overhead_us", got.KernelOverheadUs.Value, 3, 0.1)
	// The weight levels' thresholds and bandwidths and stream_serial trade
	// off against one another on this set (few micro-benchmarks stream
	// their weights), so only their predictions are checked, above.
	close("conv_shape.unblocked_conv", got.ConvShape.UnblockedConv.Value, 0.5, 0.1)
	// Batch-1 fully-connected layers are memory-bound, so the gemm
	// efficiency is not determined; the others are.
	for c, e := range map[OpClass]float64{ClassConv: 0.6, ClassDepthwise: 0.2, ClassPool: 0.04} {
		close("efficiency."+string(c), got.Efficiency[c].Value, e, 0.1)
	}
}

// convNode builds a one-conv graph and returns its kernel under t.
func convKernel(t *testing.T, tg *Target, cin, cout, groups, k int) *kernel {
	t.Helper()
	m := newMicro("c")
	x := m.input(1, int64(cin), 8, 8)
	w := m.param("w", int64(cout), int64(cin/groups), int64(k), int64(k))
	y := m.b.Node(ir.OpConv, "conv", []*ir.Value{x, w}, ir.IntsAttr("kernel_shape", int64(k), int64(k)), ir.IntAttr("group", int64(groups)))
	g, err := m.finish(y)
	if err != nil {
		t.Fatal(err)
	}
	pl := groupKernels(g, tg)
	if len(pl.kernels) != 1 {
		t.Fatalf("%d kernels, want 1", len(pl.kernels))
	}
	return pl.kernels[0]
}

// TestConvShape checks ONNX Runtime's NCHWc rules (nchwc_transformer.cc)
// as the host profile applies them: which convolutions run blocked, the
// output-channel padding of blocked dense ones, and the depth factor.
func TestConvShape(t *testing.T) {
	tg, err := Lookup("host")
	if err != nil {
		t.Fatal(err)
	}
	tg.ConvShape = &ConvShape{BlockChannels: Figure{Value: 16}, UnblockedConv: Figure{Value: 0.5},
		UnblockedDepthwise: Figure{Value: 0.25}, HalfDepth: Figure{Value: 10}}
	tests := []struct {
		name                  string
		cin, cout, groups, k  int
		wantFlops, wantUnblck float64 // flop scale; the unblocked factor (1 when blocked)
	}{
		{"aligned dense", 32, 64, 1, 3, 1, 1},
		{"narrow input (NCHW input kernel), outputs padded 12→16", 3, 12, 1, 3, 16.0 / 12, 1},
		{"aligned input, outputs padded 40→48", 32, 40, 1, 1, 48.0 / 40, 1},
		{"unaligned input", 24, 40, 1, 3, 1, 0.5},
		{"aligned depthwise", 64, 64, 64, 3, 1, 1},
		{"unaligned depthwise", 72, 72, 72, 3, 1, 0.25},
		{"grouped, 16 per group", 32, 32, 2, 3, 1, 1},
		{"grouped, 12 per group", 24, 24, 2, 3, 1, 0.5},
	}
	for _, tc := range tests {
		k := convKernel(t, tg, tc.cin, tc.cout, tc.groups, tc.k)
		depth := float64(tc.cin / tc.groups * tc.k * tc.k)
		flops, eff := tg.convShape(k)
		if math.Abs(flops-tc.wantFlops) > 1e-9 {
			t.Errorf("%s: flop scale %.4f, want %.4f", tc.name, flops, tc.wantFlops)
		}
		if want := depth / (depth + 10) * tc.wantUnblck; math.Abs(eff-want) > 1e-9 {
			t.Errorf("%s: efficiency factor %.4f, want %.4f", tc.name, eff, want)
		}
	}
	tg.ConvShape = nil
	if f, e := tg.convShape(convKernel(t, tg, 24, 40, 1, 3)); f != 1 || e != 1 {
		t.Errorf("without conv_shape: factors %v, %v; want 1, 1", f, e)
	}
}

// TestWeightLevels checks that a graph whose weights exceed a cache level
// reads them at that level's bandwidth, and one that fits reads none.
func TestWeightLevels(t *testing.T) {
	tg, err := Lookup("host")
	if err != nil {
		t.Fatal(err)
	}
	tg.WeightLevels = []WeightLevel{
		{AboveBytes: Figure{Value: 1 << 20}, BandwidthGBs: Figure{Value: 4}},
		{AboveBytes: Figure{Value: 8 << 20}, BandwidthGBs: Figure{Value: 1}},
	}
	for _, tc := range []struct {
		k, n   int
		wantBW float64 // GB/s the weights stream at; 0: cached
	}{{128, 128, 0}, {1024, 1024, 4}, {2048, 2048, 1}} {
		g, err := buildGemm(gemmSpec{K: tc.k, N: tc.n})
		if err != nil {
			t.Fatal(err)
		}
		r, err := Estimate(g, tg)
		if err != nil {
			t.Fatal(err)
		}
		weights := float64(4 * (tc.k*tc.n + tc.n))
		pl := groupKernels(g, tg)
		if got := pl.kernels[0].weightGBs; got != tc.wantBW {
			t.Errorf("gemm %dx%d (%.0f B of weights): weights stream at %v GB/s, want %v", tc.k, tc.n, weights, got, tc.wantBW)
		}
		if tc.wantBW > 0 {
			if atLevel := weights / (tc.wantBW * 1e9) * 1e3; r.LatencyMs < atLevel {
				t.Errorf("gemm %dx%d: latency %.4f ms below the weights' streaming time %.4f ms", tc.k, tc.n, r.LatencyMs, atLevel)
			}
		}
	}
}

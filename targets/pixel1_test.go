package targets

import (
	"math"
	"testing"

	"github.com/ferminets/fermi/ir"
)

// published holds single-thread Pixel 1 latencies of TFLite (2018 generation)
// from BENCHMARK.md section D (MobileNetV1/V2 from the MobileNetV2 paper,
// MnasNet-A1 from the MnasNet paper, V3 from the MobileNetV3 paper).
var published = []struct {
	name  string
	build func(testing.TB) *ir.Graph
	ms    float64
	macsM float64 // the paper's multiply-adds, millions
}{
	{"MobileNetV1 1.0", func(t testing.TB) *ir.Graph { return mobileNetV1(t, 224, false) }, 113, 569},
	{"MobileNetV2 1.0", func(t testing.TB) *ir.Graph { return mobileNetV2(t, 224) }, 75, 300},
	{"MnasNet-A1", mnasNetA1, 78, 312},
	{"MobileNetV3-Large", mobileNetV3Large, 51.2, 219},
	{"MobileNetV3-Small", mobileNetV3Small, 15.8, 56},
}

// TestPixel1Published checks pixel1 predictions against the published
// latencies: within ±30 % for every network (V1 and V2 were used to fit the
// conv and depthwise efficiencies; the others were not).
func TestPixel1Published(t *testing.T) {
	if testing.Short() {
		t.Skip("builds five 224×224 networks")
	}
	tg, err := Lookup("pixel1")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range published {
		g := p.build(t)
		r, err := Estimate(g, tg)
		if err != nil {
			t.Fatalf("%s: %v", p.name, err)
		}
		ratio := r.LatencyMs / p.ms
		t.Logf("%-18s MACs %6.1f M (paper %4.0f M)  predicted %6.1f ms  published %5.1f ms  ratio %.2f  kernels %d",
			p.name, float64(r.MACs)/1e6, p.macsM, r.LatencyMs, p.ms, ratio, len(r.Kernels))
		if math.Abs(float64(r.MACs)/1e6-p.macsM)/p.macsM > 0.05 {
			t.Errorf("%s: built network has %.1f M MACs, paper says %.0f M", p.name, float64(r.MACs)/1e6, p.macsM)
		}
		if ratio < 0.7 || ratio > 1.3 {
			t.Errorf("%s: predicted %.1f ms, published %.1f ms: outside ±30 %%", p.name, r.LatencyMs, p.ms)
		}
	}
}

// xnnpackPixel1 holds XNNPACK's published single-thread Pixel 1 latencies
// (XNNPACK README, March 2020; BENCHMARK.md section D).
var xnnpackPixel1 = map[string]float64{"MobileNetV1 1.0": 82, "MobileNetV2 1.0": 49, "MobileNetV3-Large": 39, "MobileNetV3-Small": 12}

// TestCortexA76SpeedUp checks that cortex-a76 predictions are consistent
// with published speed-ups: the A76 profile models XNNPACK, which on the
// Pixel 1 itself is 1.38-1.53× faster than TFLite 2018 (113→82 ms,
// 75→49 ms), and the A76 core has 2.64× the FP32 peak of the Pixel 1's Kryo
// core (45.4 vs 17.2 GFLOP/s). So the predicted A76 speed-up must be between
// 1 and 2.64 over XNNPACK's Pixel 1 figures.
func TestCortexA76SpeedUp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds four 224×224 networks")
	}
	a76, err := Lookup("cortex-a76")
	if err != nil {
		t.Fatal(err)
	}
	p1, err := Lookup("pixel1")
	if err != nil {
		t.Fatal(err)
	}
	peakRatio := a76.PeakGOPS["f32"].Value / p1.PeakGOPS["f32"].Value
	for _, p := range published {
		xnn, ok := xnnpackPixel1[p.name]
		if !ok {
			continue
		}
		g := p.build(t)
		ra, err := Estimate(g, a76)
		if err != nil {
			t.Fatal(err)
		}
		rp, err := Estimate(g, p1)
		if err != nil {
			t.Fatal(err)
		}
		speedUp := xnn / ra.LatencyMs
		t.Logf("%-18s cortex-a76 %5.1f ms: %.2fx over Pixel 1 XNNPACK (%2.0f ms), %.2fx over pixel1 TFLite 2018 prediction (%5.1f ms)",
			p.name, ra.LatencyMs, speedUp, xnn, rp.LatencyMs/ra.LatencyMs, rp.LatencyMs)
		if speedUp < 1 || speedUp > peakRatio {
			t.Errorf("%s: cortex-a76 speed-up %.2f over Pixel 1 XNNPACK is outside [1, %.2f]", p.name, speedUp, peakRatio)
		}
	}
}

// TestPixel1Quantized checks the int8 path of pixel1 against TFLite's
// published Pixel XL (same Snapdragon 821) figure for the quantized
// MobileNet_1.0_224: 74.6 ms (tensorflow.org/lite/performance/benchmarks).
// The i8 peak was fitted from the float/quant ratio of that page, so this
// checks that the QDQ graph is costed as an int8 network end to end.
func TestPixel1Quantized(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 224×224 network")
	}
	tg, err := Lookup("pixel1")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Estimate(mobileNetV1(t, 224, true), tg)
	if err != nil {
		t.Fatal(err)
	}
	const published = 74.6
	t.Logf("MobileNetV1 1.0 int8 QDQ: predicted %.1f ms, published %.1f ms (ratio %.2f); weights %d B, peak activations %d B",
		r.LatencyMs, published, r.LatencyMs/published, r.WeightBytes, r.PeakMemoryBytes)
	if ratio := r.LatencyMs / published; ratio < 0.7 || ratio > 1.3 {
		t.Errorf("predicted %.1f ms, published %.1f ms: outside ±30 %%", r.LatencyMs, published)
	}
	i8 := 0
	for _, k := range r.Kernels {
		if k.DType == "i8" {
			i8++
		}
	}
	if i8 < len(r.Kernels)-2 { // all but the classifier's Gemm and Softmax
		t.Errorf("only %d of %d kernels are int8", i8, len(r.Kernels))
	}
}

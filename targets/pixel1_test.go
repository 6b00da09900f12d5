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
	{"MobileNetV1 1.0", func(t testing.TB) *ir.Graph { return mobileNetV1(t, 224) }, 113, 569},
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

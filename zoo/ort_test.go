package zoo

import (
	"fmt"
	"math"
	"testing"

	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio"
	"github.com/ferminets/fermi/ortrun"
)

// TestAgainstONNXRuntime exports every network (with randomized BatchNorm
// statistics, so that every parameter matters), runs it in ONNX Runtime
// and in the engine on the same seeded batch of two, and compares the
// logits: ONNX Runtime accepts the exports, and the graphs mean what the
// engine computes.
func TestAgainstONNXRuntime(t *testing.T) {
	ortrun.Require(t)
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			if testing.Short() && name == "resnet50" {
				t.Skip("4 G MACs per image")
			}
			g, err := Build(name, Options{Seed: 5, RandomBNStats: true})
			if err != nil {
				t.Fatal(err)
			}
			model, err := onnxio.Encode(g, onnxio.WriteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			in, err := ortrun.RandomInputs(g, 1, 2)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ortrun.Run(model, in, ortrun.Options{IntraOpThreads: 1})
			if err != nil {
				t.Fatal(err)
			}
			ex, err := engine.New(g)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ex.Run(in)
			if err != nil {
				t.Fatal(err)
			}
			if diff, scale := maxDiff(got[0], want["logits"]); !(diff <= 1e-4*max(1, scale)) {
				t.Errorf("logits differ from ONNX Runtime by %g (largest |logit| %g)", diff, scale)
			}
		})
	}
}

// maxDiff returns the largest absolute difference of a and b and the
// largest magnitude in b (NaN when the shapes differ).
func maxDiff(a, b *ir.Tensor) (diff, scale float64) {
	if b == nil || len(a.F32) != len(b.F32) {
		return math.NaN(), 0
	}
	for i := range a.F32 {
		diff = max(diff, math.Abs(float64(a.F32[i])-float64(b.F32[i])))
		scale = max(scale, math.Abs(float64(b.F32[i])))
	}
	return diff, scale
}

// TestLogitScale runs every network in the engine on one seeded input and
// checks that the logits are finite and of moderate size, with identity
// and with randomized BatchNorm statistics: the residual gain keeps deep
// networks from growing their activations block after block.
func TestLogitScale(t *testing.T) {
	for _, name := range Names() {
		for _, random := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/randombn=%v", name, random), func(t *testing.T) {
				if testing.Short() && name == "resnet50" {
					t.Skip("4 G MACs per image")
				}
				g, err := Build(name, Options{Seed: 2, RandomBNStats: random})
				if err != nil {
					t.Fatal(err)
				}
				in, err := ortrun.RandomInputs(g, 3, 1)
				if err != nil {
					t.Fatal(err)
				}
				ex, err := engine.New(g)
				if err != nil {
					t.Fatal(err)
				}
				out, err := ex.Run(in)
				if err != nil {
					t.Fatal(err)
				}
				var ss float64
				for _, v := range out[0].F32 {
					ss += float64(v) * float64(v)
				}
				if rms := math.Sqrt(ss / float64(len(out[0].F32))); !(rms > 1e-3 && rms < 100) {
					t.Errorf("logits RMS %g, want within (0.001, 100)", rms)
				}
			})
		}
	}
}

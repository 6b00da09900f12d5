package engine

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/ferminets/fermi/ir"
)

// distillLossRef is the distillation loss written out directly from its
// definition, in float64, as the reference the gradient check
// differentiates numerically.
func distillLossRef(s, t []float64, labels []uint8, k int, temp, alpha float64) float64 {
	n := len(labels)
	logSoftmax := func(row []float64, temp float64) []float64 {
		mx := math.Inf(-1)
		for _, v := range row {
			mx = max(mx, v/temp)
		}
		var z float64
		for _, v := range row {
			z += math.Exp(v/temp - mx)
		}
		out := make([]float64, len(row))
		for c, v := range row {
			out[c] = v/temp - mx - math.Log(z)
		}
		return out
	}
	var loss float64
	for r := range n {
		sr, tr := s[r*k:(r+1)*k], t[r*k:(r+1)*k]
		hard := -logSoftmax(sr, 1)[labels[r]]
		ls, lt := logSoftmax(sr, temp), logSoftmax(tr, temp)
		var kl float64
		for c := range k {
			kl += math.Exp(lt[c]) * (lt[c] - ls[c])
		}
		loss += (1-alpha)*hard + alpha*temp*temp*kl
	}
	return loss / float64(n)
}

// TestDistillGradient checks loss and gradient of softmaxCrossEntropy +
// distill against distillLossRef and its central differences (h = 1e-4).
func TestDistillGradient(t *testing.T) {
	const n, k = 3, 5
	rng := rand.New(rand.NewPCG(7, 8))
	labels := []uint8{0, 3, 4}
	for _, c := range []struct{ temp, alpha float64 }{{1, 0.5}, {4, 0.3}, {4, 1}, {2, 0.9}} {
		s, tch := make([]float32, n*k), make([]float32, n*k)
		for i := range s {
			s[i], tch[i] = float32(3*rng.NormFloat64()), float32(3*rng.NormFloat64())
		}
		dl := make([]float32, n*k)
		ce, _, err := softmaxCrossEntropy(s, n, k, labels, 0, dl)
		if err != nil {
			t.Fatal(err)
		}
		loss := (1-c.alpha)*ce + c.alpha*distill(s, tch, n, k, c.temp, c.alpha, dl)
		s64, t64 := make([]float64, n*k), make([]float64, n*k)
		for i := range s {
			s64[i], t64[i] = float64(s[i]), float64(tch[i])
		}
		if want := distillLossRef(s64, t64, labels, k, c.temp, c.alpha); math.Abs(loss-want) > 1e-5*max(1, math.Abs(want)) {
			t.Errorf("T %v α %v: loss %v, want %v", c.temp, c.alpha, loss, want)
		}
		const h = 1e-4
		for i := range s64 {
			orig := s64[i]
			s64[i] = orig + h
			up := distillLossRef(s64, t64, labels, k, c.temp, c.alpha)
			s64[i] = orig - h
			down := distillLossRef(s64, t64, labels, k, c.temp, c.alpha)
			s64[i] = orig
			if num := (up - down) / (2 * h); math.Abs(num-float64(dl[i])) > 1e-4 {
				t.Errorf("T %v α %v: ∂loss/∂s[%d] = %v, central difference %v", c.temp, c.alpha, i, dl[i], num)
			}
		}
	}
}

// TestDistillSameLogits: a teacher that agrees with the student adds
// nothing but scales the hard gradient by 1 − α.
func TestDistillSameLogits(t *testing.T) {
	s := []float32{1, -2, 0.5, 3, 0, -1}
	dl := make([]float32, 6)
	if _, _, err := softmaxCrossEntropy(s, 2, 3, []uint8{2, 0}, 0, dl); err != nil {
		t.Fatal(err)
	}
	hard := append([]float32(nil), dl...)
	if kl := distill(s, s, 2, 3, 3, 0.25, dl); math.Abs(kl) > 1e-12 {
		t.Errorf("KL of equal logits = %v", kl)
	}
	for i := range dl {
		if math.Abs(float64(dl[i]-0.75*hard[i])) > 1e-7 {
			t.Errorf("gradient[%d] = %v, want 0.75·%v", i, dl[i], hard[i])
		}
	}
}

// TestTrainerDistill runs steps with a teacher: the loss a step reports
// is the weighted sum of the label and teacher terms computed on the
// student's logits before the step, and bad settings or a teacher of the
// wrong shape are refused with a message.
func TestTrainerDistill(t *testing.T) {
	teacher, err := New(testNet(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	x := randT(rng, d(4, 2, 6, 6), -1, 1, 0)
	labels := []uint8{0, 1, 2, 1}
	for _, c := range []struct {
		d    Distillation
		want string
	}{
		{Distillation{Teacher: teacher, Alpha: 0}, "weight 0"},
		{Distillation{Teacher: teacher, Alpha: 1.5}, "weight 1.5"},
		{Distillation{Alpha: 0.5}, "needs a teacher"},
	} {
		if _, err := NewTrainer(testNet(t, 1), TrainConfig{Distill: &c.d}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one containing %q", c.d, err, c.want)
		}
	}

	// The loss of a step is the weighted sum of the plain cross-entropy
	// and the teacher term on the logits of the same training-mode
	// forward pass (same seed and step, so the same dropout mask).
	plain, err := NewTrainer(testNet(t, 1), TrainConfig{LR: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	ce, _, err := plain.Gradients(x, labels)
	if err != nil {
		t.Fatal(err)
	}
	e := plain.exec.inRun()
	tp, err := plain.forward(e, x)
	if err != nil {
		t.Fatal(err)
	}
	logits := append([]float32(nil), tp.vals[plain.logits].F32...)
	e.rs.abandon()
	tl, err := teacher.Run(map[string]*ir.Tensor{"input": x})
	if err != nil {
		t.Fatal(err)
	}
	kl := distill(logits, tl[0].F32, 4, 3, 3, 0.4, make([]float32, 12))
	tr, err := NewTrainer(testNet(t, 1), TrainConfig{LR: 0.01, Distill: &Distillation{Teacher: teacher, Alpha: 0.4, Temperature: 3}})
	if err != nil {
		t.Fatal(err)
	}
	loss, err := tr.Step(x, labels)
	if err != nil {
		t.Fatal(err)
	}
	if want := 0.6*ce + 0.4*kl; math.Abs(loss-want) > 1e-6 || kl < 1e-3 {
		t.Errorf("step loss %v, want 0.6·%v + 0.4·%v = %v (with a teacher term that is not negligible)", loss, ce, kl, want)
	}

	// A teacher with other classes is refused at the step.
	b := ir.NewBuilder("wide")
	in := b.Input("input", ir.Float32, ir.Shape{ir.Sym("N"), ir.D(2), ir.D(6), ir.D(6)})
	flat := b.Node(ir.OpFlatten, "flat", []*ir.Value{in})
	b.Output(b.Node(ir.OpGemm, "fc", []*ir.Value{flat, b.Param("w", ir.NewFloat32([]int64{5, 72}, make([]float32, 360)))}, ir.IntAttr("transB", 1)))
	g5, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	wrong, err := New(g5)
	if err != nil {
		t.Fatal(err)
	}
	tw, err := NewTrainer(testNet(t, 1), TrainConfig{Distill: &Distillation{Teacher: wrong, Alpha: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tw.Step(x, labels); err == nil || !strings.Contains(err.Error(), "want float32 [4 3] logits") {
		t.Errorf("teacher with 5 classes: error %v", err)
	}
}

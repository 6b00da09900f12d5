package engine

import (
	"fmt"
	"math"

	"github.com/ferminets/fermi/ir"
)

// Distillation trains a student on a teacher's softened predictions as
// well as on the labels (knowledge distillation, Hinton et al. 2015). With
// student logits s, teacher logits t, temperature T and weight α, the loss
// of a row is
//
//	(1 − α)·CE(label, softmax(s)) + α·T²·KL(softmax(t/T) ‖ softmax(s/T))
//
// and its gradient with respect to s is (1 − α)·(softmax(s) − onehot) +
// α·T·(softmax(s/T) − softmax(t/T)); the T² keeps the soft term's gradient
// on the scale of the hard one whatever T. The teacher sees exactly the
// (augmented) batch the student trains on.
type Distillation struct {
	// Teacher runs the teacher network in inference mode; its first input
	// takes the student's batch and its first output is N×classes logits.
	Teacher *Executor
	// Alpha is the weight of the teacher term, in (0, 1].
	Alpha float64
	// Temperature T softens both distributions (default 4).
	Temperature float64
}

func (d *Distillation) check() error {
	if d.Teacher == nil || len(d.Teacher.g.Inputs) == 0 || len(d.Teacher.g.Outputs) == 0 {
		return fmt.Errorf("engine: train: distillation needs a teacher with an input and an output")
	}
	if !(d.Alpha > 0 && d.Alpha <= 1) || d.Temperature < 0 || math.IsNaN(d.Temperature) {
		return fmt.Errorf("engine: train: distillation weight %g, temperature %g: want a weight in (0, 1] and a positive temperature", d.Alpha, d.Temperature)
	}
	if d.Temperature == 0 {
		d.Temperature = 4
	}
	return nil
}

// teacherLogits runs the teacher on x and checks its logits against the
// student's n×k.
func (d *Distillation) teacherLogits(x *ir.Tensor, n, k int) ([]float32, error) {
	outs, err := d.Teacher.Run(map[string]*ir.Tensor{d.Teacher.g.Inputs[0].Name: x})
	if err != nil {
		return nil, fmt.Errorf("engine: train: teacher %q: %w", d.Teacher.g.Name, err)
	}
	t := outs[0]
	if t.DType != ir.Float32 || len(t.Dims) != 2 || int(t.Dims[0]) != n || int(t.Dims[1]) != k {
		return nil, fmt.Errorf("engine: train: teacher %q: output %q is %s %v, want float32 [%d %d] logits like the student's",
			d.Teacher.g.Name, d.Teacher.g.Outputs[0].Name, t.DType, t.Dims, n, k)
	}
	return t.F32, nil
}

// distill turns dlogits, the gradient of the batch's mean cross-entropy
// (softmaxCrossEntropy), into the gradient of the mean distillation loss
// and returns the mean soft term T²·KL (before the α weighting). Sums run
// in float64.
func distill(student, teacher []float32, n, k int, temp, alpha float64, dlogits []float32) float64 {
	ps, pt := make([]float64, k), make([]float64, k)
	var kl float64
	for r := 0; r < n; r++ {
		ls := softmaxT(student[r*k:(r+1)*k], temp, ps)
		lt := softmaxT(teacher[r*k:(r+1)*k], temp, pt)
		for c := range k {
			if pt[c] > 0 {
				kl += pt[c] * (lt[c] - ls[c])
			}
			i := r*k + c
			dlogits[i] = float32((1-alpha)*float64(dlogits[i]) + alpha*temp*(ps[c]-pt[c])/float64(n))
		}
	}
	return temp * temp * kl / float64(n)
}

// softmaxT writes softmax(row/T) into p and returns its logarithms (a
// fresh slice).
func softmaxT(row []float32, temp float64, p []float64) []float64 {
	mx := math.Inf(-1)
	for _, v := range row {
		mx = max(mx, float64(v))
	}
	logp := make([]float64, len(row))
	var s float64
	for c, v := range row {
		logp[c] = (float64(v) - mx) / temp
		p[c] = math.Exp(logp[c])
		s += p[c]
	}
	ls := math.Log(s)
	for c := range p {
		p[c] /= s
		logp[c] -= ls
	}
	return logp
}

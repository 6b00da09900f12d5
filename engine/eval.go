package engine

import (
	"fmt"

	"github.com/ferminets/fermi/dataset"
	"github.com/ferminets/fermi/ir"
)

// EvalResult is the outcome of classifying a data set.
type EvalResult struct {
	Accuracy float64 `json:"accuracy"` // top-1, as a fraction
	Correct  int     `json:"correct"`
	Samples  int     `json:"samples"`
}

// Evaluate classifies every image of set with the executor's graph, whose
// first input takes a normalized N×C×H×W batch and whose first output is
// N×classes logits, and returns the top-1 accuracy. Batches of batch images
// run in order; progress, when non-nil, is called after each with the number
// of images done.
func (e *Executor) Evaluate(set *dataset.Set, norm dataset.Normalization, batch int, progress func(done, total int)) (EvalResult, error) {
	if len(e.g.Inputs) == 0 || len(e.g.Outputs) == 0 {
		return EvalResult{}, fmt.Errorf("engine: evaluate: graph has no inputs or no outputs")
	}
	in := e.g.Inputs[0]
	if in.Shape != nil && len(in.Shape) != 4 {
		return EvalResult{}, fmt.Errorf("engine: evaluate: input %q has shape %v, want N×%d×%d×%d images", in.Name, in.Shape, set.C, set.H, set.W)
	}
	if batch < 1 {
		batch = 1
	}
	size := set.ImageSize()
	res := EvalResult{Samples: set.N}
	idx := make([]int, 0, batch)
	xbuf := make([]float32, min(batch, set.N)*size) // reused by every batch
	for lo := 0; lo < set.N; lo += batch {
		hi := min(lo+batch, set.N)
		idx = idx[:0]
		for i := lo; i < hi; i++ {
			idx = append(idx, i)
		}
		x := xbuf[:len(idx)*size]
		set.Batch(idx, norm, x)
		feed := ir.NewFloat32([]int64{int64(len(idx)), int64(set.C), int64(set.H), int64(set.W)}, x)
		outs, err := e.Run(map[string]*ir.Tensor{in.Name: feed})
		if err != nil {
			return res, err
		}
		logits := outs[0]
		if logits.DType != ir.Float32 || len(logits.Dims) != 2 || logits.Dims[0] != int64(len(idx)) {
			return res, fmt.Errorf("engine: evaluate: output %q has shape %v, want %d×classes logits", e.g.Outputs[0].Name, logits.Dims, len(idx))
		}
		classes := int(logits.Dims[1])
		for k, i := range idx {
			row := logits.F32[k*classes : (k+1)*classes]
			best := 0
			for c, v := range row {
				if v > row[best] {
					best = c
				}
			}
			if best == int(set.Labels[i]) {
				res.Correct++
			}
		}
		if progress != nil {
			progress(hi, set.N)
		}
	}
	if set.N > 0 {
		res.Accuracy = float64(res.Correct) / float64(set.N)
	}
	return res, nil
}

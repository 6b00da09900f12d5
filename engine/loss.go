package engine

import (
	"fmt"
	"math"
)

// softmaxCrossEntropy computes the mean over a batch of n rows of k logits
// of the cross-entropy between softmax(logits) and the target distribution
// (1−ε)·onehot(label) + ε/k (label smoothing ε), writes the gradient of
// that mean with respect to the logits, (softmax − target)/n, into dlogits,
// and counts the rows whose largest logit is the label. Sums run in
// float64.
func softmaxCrossEntropy(logits []float32, n, k int, labels []uint8, smoothing float64, dlogits []float32) (loss float64, correct int, err error) {
	if len(logits) != n*k || len(labels) != n || len(dlogits) != n*k {
		return 0, 0, fmt.Errorf("engine: loss: %d logits and %d labels for %d rows of %d classes", len(logits), len(labels), n, k)
	}
	p := make([]float64, k)
	for r := 0; r < n; r++ {
		row := logits[r*k : (r+1)*k]
		lab := int(labels[r])
		if lab >= k {
			return 0, 0, fmt.Errorf("engine: loss: label %d of row %d is not below the %d classes", lab, r, k)
		}
		mx, best := row[0], 0
		for c, v := range row {
			if v > mx {
				mx, best = v, c
			}
		}
		if best == lab {
			correct++
		}
		var s float64
		for c, v := range row {
			p[c] = math.Exp(float64(v - mx))
			s += p[c]
		}
		logS := math.Log(s)
		for c, v := range row {
			q := smoothing / float64(k)
			if c == lab {
				q += 1 - smoothing
			}
			logp := float64(v-mx) - logS
			loss -= q * logp
			dlogits[r*k+c] = float32((p[c]/s - q) / float64(n))
		}
	}
	loss /= float64(n)
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return loss, correct, fmt.Errorf("engine: loss is %v", loss)
	}
	return loss, correct, nil
}

package engine

import "math"

// Optimizer selects the update rule of a Trainer.
type Optimizer uint8

// Optimizers, with PyTorch's semantics.
const (
	// SGD is torch.optim.SGD: g = grad + wd·p; buf = momentum·buf + g
	// (buf starts at 0, no dampening); p −= lr·(g + momentum·buf) with
	// Nesterov, p −= lr·buf without.
	SGD Optimizer = iota
	// AdamW is torch.optim.AdamW: p −= lr·wd·p; m = β1·m + (1−β1)·g;
	// v = β2·v + (1−β2)·g²; p −= lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + eps).
	AdamW
)

// String returns the optimizer's command-line name.
func (o Optimizer) String() string {
	if o == AdamW {
		return "adamw"
	}
	return "sgd"
}

// sgdStep applies one SGD update to p with gradient g and momentum buffer
// buf (nil when momentum is 0).
func sgdStep(p, g, buf []float32, lr, momentum, wd float32, nesterov bool) {
	for i := range p {
		d := g[i] + wd*p[i]
		if buf != nil {
			buf[i] = momentum*buf[i] + d
			if nesterov {
				d += momentum * buf[i]
			} else {
				d = buf[i]
			}
		}
		p[i] -= lr * d
	}
}

// adamWStep applies AdamW update number t (from 1) to p with gradient g
// and moment buffers m and v.
func adamWStep(p, g, m, v []float32, lr, beta1, beta2, eps, wd float64, t int) {
	bc1 := 1 - math.Pow(beta1, float64(t))
	bc2 := math.Sqrt(1 - math.Pow(beta2, float64(t)))
	for i := range p {
		pi := float64(p[i]) * (1 - lr*wd)
		gi := float64(g[i])
		mi := beta1*float64(m[i]) + (1-beta1)*gi
		vi := beta2*float64(v[i]) + (1-beta2)*gi*gi
		m[i], v[i] = float32(mi), float32(vi)
		p[i] = float32(pi - lr/bc1*mi/(math.Sqrt(vi)/bc2+eps))
	}
}

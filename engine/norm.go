package engine

import (
	"fmt"
	"math"

	"github.com/ferminets/fermi/ir"
)

// batchNorm computes Y = scale·(X−mean)/√(var+eps) + B per channel (axis 1).
// In training mode it normalizes with the batch's mean and (biased)
// variance and also returns the updated running statistics
// running = running·momentum + batch·(1−momentum).
func batchNorm(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	if err := needF32(x, "input", -1); err != nil {
		return nil, err
	}
	if len(x.Dims) < 2 {
		return nil, fmt.Errorf("input has %d dims, want at least 2", len(x.Dims))
	}
	c := int(x.Dims[1])
	for i, what := range []string{"", "scale", "bias", "mean", "var"} {
		if i == 0 {
			continue
		}
		if err := needF32(in[i], what, 1); err != nil {
			return nil, err
		}
		if int(in[i].Dims[0]) != c {
			return nil, fmt.Errorf("input has %d channels, %s has %d", c, what, in[i].Dims[0])
		}
	}
	scale, bias, mean, vari := in[1].F32, in[2].F32, in[3].F32, in[4].F32
	eps := float64(n.Float("epsilon"))
	batch, inner := int(x.Dims[0]), int(x.Len())/max(1, c*int(x.Dims[0]))
	m, v := make([]float64, c), make([]float64, c)
	training := n.Int("training_mode") != 0
	for ch := 0; ch < c; ch++ {
		m[ch], v[ch] = float64(mean[ch]), float64(vari[ch])
		if !training {
			continue
		}
		var s, ss float64
		for b := 0; b < batch; b++ {
			for _, xv := range x.F32[(b*c+ch)*inner : (b*c+ch+1)*inner] {
				s += float64(xv)
			}
		}
		cnt := float64(batch * inner)
		m[ch] = s / cnt
		for b := 0; b < batch; b++ {
			for _, xv := range x.F32[(b*c+ch)*inner : (b*c+ch+1)*inner] {
				d := float64(xv) - m[ch]
				ss += d * d
			}
		}
		v[ch] = ss / cnt
	}
	y := e.allocRaw(ints(x.Dims))
	e.parallel(batch*c, func(lo, hi int) {
		for bc := lo; bc < hi; bc++ {
			ch := bc % c
			a := float64(scale[ch]) / math.Sqrt(v[ch]+eps)
			for i := bc * inner; i < (bc+1)*inner; i++ {
				y.F32[i] = float32((float64(x.F32[i])-m[ch])*a + float64(bias[ch]))
			}
		}
	})
	outs := []*ir.Tensor{y}
	if training {
		mom := float64(n.Float("momentum"))
		rm, rv := newF32([]int{c}), newF32([]int{c})
		for ch := 0; ch < c; ch++ {
			rm.F32[ch] = float32(float64(mean[ch])*mom + m[ch]*(1-mom))
			rv.F32[ch] = float32(float64(vari[ch])*mom + v[ch]*(1-mom))
		}
		outs = append(outs, rm, rv)
	}
	return outs, nil
}

// softmax computes exp(x−max)/Σexp(x−max) along axis, summing in float64.
func softmax(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	if err := needF32(x, "input", -1); err != nil {
		return nil, err
	}
	d := ints(x.Dims)
	ax, err := axis(n.Int("axis"), len(d))
	if err != nil {
		return nil, err
	}
	outer, l, inner := prod(d[:ax]), d[ax], prod(d[ax+1:])
	y := newF32(d)
	e.parallel(outer, func(lo, hi int) {
		for o := lo; o < hi; o++ {
			for j := 0; j < inner; j++ {
				base := o*l*inner + j
				mx := float32(math.Inf(-1))
				for k := 0; k < l; k++ {
					mx = max(mx, x.F32[base+k*inner])
				}
				var s float64
				for k := 0; k < l; k++ {
					ev := math.Exp(float64(x.F32[base+k*inner] - mx))
					y.F32[base+k*inner] = float32(ev)
					s += ev
				}
				for k := 0; k < l; k++ {
					y.F32[base+k*inner] = float32(float64(y.F32[base+k*inner]) / s)
				}
			}
		}
	})
	return []*ir.Tensor{y}, nil
}

// reduceMean averages over the axes attribute (all axes when absent),
// accumulating in float64.
func reduceMean(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	if err := needF32(x, "input", -1); err != nil {
		return nil, err
	}
	d := ints(x.Dims)
	red := make([]bool, len(d))
	axes := n.Ints("axes")
	for _, a := range axes {
		ax, err := axis(a, len(d))
		if err != nil {
			return nil, err
		}
		red[ax] = true
	}
	var keep, out []int // keep: reduced dims as 1; out: keepdims result
	for i, v := range d {
		if red[i] || axes == nil {
			keep = append(keep, 1)
			if n.Int("keepdims") != 0 {
				out = append(out, 1)
			}
		} else {
			keep = append(keep, v)
			out = append(out, v)
		}
	}
	sum := make([]float64, prod(keep))
	st := broadcastStrides(keep, d)
	idx := make([]int, len(d))
	o := 0
	for i := range x.F32 {
		sum[o] += float64(x.F32[i])
		for k := len(d) - 1; k >= 0; k-- {
			idx[k]++
			o += st[k]
			if idx[k] < d[k] {
				break
			}
			o -= st[k] * d[k]
			idx[k] = 0
		}
	}
	cnt := float64(len(x.F32)) / float64(len(sum))
	y := newF32(out)
	for i, s := range sum {
		y.F32[i] = float32(s / cnt)
	}
	return []*ir.Tensor{y}, nil
}

// batchNormTrain is BatchNormalization in training mode, as PyTorch's
// BatchNorm2d.train() computes it: Y normalizes X with the batch mean and
// biased variance; the returned outputs are Y, the updated running mean and
// variance (running·momentum + batch·(1−momentum), the ONNX convention, so
// ONNX momentum 0.9 is PyTorch's 0.1; like PyTorch, the running variance
// takes the unbiased batch variance), then the batch mean and 1/√(var+eps)
// that batchNormBackward reads.
func batchNormTrain(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	x := in[0]
	if err := needF32(x, "input", -1); err != nil {
		return nil, err
	}
	if len(x.Dims) < 2 {
		return nil, fmt.Errorf("input has %d dims, want at least 2", len(x.Dims))
	}
	c := int(x.Dims[1])
	for i, what := range []string{"scale", "bias", "mean", "var"} {
		if err := needF32(in[i+1], what, 1); err != nil {
			return nil, err
		}
		if int(in[i+1].Dims[0]) != c {
			return nil, fmt.Errorf("input has %d channels, %s has %d", c, what, in[i+1].Dims[0])
		}
	}
	scale, bias, mean, vari := in[1].F32, in[2].F32, in[3].F32, in[4].F32
	eps, mom := float64(n.Float("epsilon")), float64(n.Float("momentum"))
	batch, inner := int(x.Dims[0]), int(x.Len())/max(1, c*int(x.Dims[0]))
	cnt := float64(batch * inner)
	y := e.allocRaw(ints(x.Dims))
	rm, rv, bm, bi := newF32([]int{c}), newF32([]int{c}), newF32([]int{c}), newF32([]int{c})
	e.parallel(c, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			var s float64
			for b := 0; b < batch; b++ {
				s += sum64(x.F32[(b*c+ch)*inner : (b*c+ch+1)*inner])
			}
			m := s / cnt
			var ss float64
			for b := 0; b < batch; b++ {
				ss += sumSqDev64(x.F32[(b*c+ch)*inner:(b*c+ch+1)*inner], m)
			}
			v := ss / cnt
			inv := 1 / math.Sqrt(v+eps)
			// y = (x − m)·a + bias, as one float32 multiply-add per element.
			a := float64(scale[ch]) * inv
			a32, b32 := float32(a), float32(float64(bias[ch])-m*a)
			for b := 0; b < batch; b++ {
				o := (b*c + ch) * inner
				for i, xv := range x.F32[o : o+inner] {
					y.F32[o+i] = xv*a32 + b32
				}
			}
			unbiased := v
			if cnt > 1 {
				unbiased = ss / (cnt - 1)
			}
			rm.F32[ch] = float32(float64(mean[ch])*mom + m*(1-mom))
			rv.F32[ch] = float32(float64(vari[ch])*mom + unbiased*(1-mom))
			bm.F32[ch], bi.F32[ch] = float32(m), float32(inv)
		}
	})
	return []*ir.Tensor{y, rm, rv, bm, bi}, nil
}

// batchNormBackward is the gradient of batchNormTrain (batch statistics):
// with x̂ = (x−μ)/σ, dB = Σdy, dscale = Σdy·x̂ and
// dx = scale/σ · (dy − dB/M − x̂·dscale/M) over the M values of a channel.
func batchNormBackward(e *Executor, n *ir.Node, in, out, dout []*ir.Tensor, need []bool) ([]*ir.Tensor, error) {
	if len(out) < 5 {
		return nil, fmt.Errorf("backward needs the training-mode forward")
	}
	x, dy, scale := in[0], dout[0], in[1].F32
	bm, bi := out[3].F32, out[4].F32
	c := int(x.Dims[1])
	batch, inner := int(x.Dims[0]), int(x.Len())/max(1, c*int(x.Dims[0]))
	cnt := float64(batch * inner)
	grads := make([]*ir.Tensor, len(in))
	dscale, dbias := newF32([]int{c}), newF32([]int{c})
	var dx *ir.Tensor
	if need[0] {
		dx = e.allocRaw(ints(x.Dims))
	}
	e.parallel(c, func(lo, hi int) {
		for ch := lo; ch < hi; ch++ {
			m, inv := float64(bm[ch]), float64(bi[ch])
			var sdy, sdyx float64
			for b := 0; b < batch; b++ {
				o := (b*c + ch) * inner
				sdy += sum64(dy.F32[o : o+inner])
				sdyx += dotDev64(dy.F32[o:o+inner], x.F32[o:o+inner], m)
			}
			sdyx *= inv
			dscale.F32[ch], dbias.F32[ch] = float32(sdyx), float32(sdy)
			if dx == nil {
				continue
			}
			// dx = k·(dy − mdy − (x − m)·inv·mdyx) = α·dy + β·x + γ.
			k := float64(scale[ch]) * inv
			mdy, mdyx := sdy/cnt, sdyx/cnt
			alpha, beta := float32(k), float32(-k*inv*mdyx)
			gamma := float32(k * (m*inv*mdyx - mdy))
			for b := 0; b < batch; b++ {
				o := (b*c + ch) * inner
				xs := x.F32[o : o+inner]
				for i, d := range dy.F32[o : o+inner] {
					dx.F32[o+i] = alpha*d + beta*xs[i] + gamma
				}
			}
		}
	})
	grads[0] = dx
	if need[1] {
		grads[1] = dscale
	}
	if need[2] {
		grads[2] = dbias
	}
	return grads, nil
}

// sum64 returns Σx in float64, in four interleaved partial sums (a fixed
// order, so the result is deterministic) to shorten the dependency chain.
func sum64(x []float32) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		s0 += float64(x[i])
		s1 += float64(x[i+1])
		s2 += float64(x[i+2])
		s3 += float64(x[i+3])
	}
	for ; i < len(x); i++ {
		s0 += float64(x[i])
	}
	return (s0 + s1) + (s2 + s3)
}

// sumSqDev64 returns Σ(x − m)² in float64, summed like sum64.
func sumSqDev64(x []float32, m float64) float64 {
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(x); i += 4 {
		d0, d1, d2, d3 := float64(x[i])-m, float64(x[i+1])-m, float64(x[i+2])-m, float64(x[i+3])-m
		s0 += d0 * d0
		s1 += d1 * d1
		s2 += d2 * d2
		s3 += d3 * d3
	}
	for ; i < len(x); i++ {
		d := float64(x[i]) - m
		s0 += d * d
	}
	return (s0 + s1) + (s2 + s3)
}

// dotDev64 returns Σ y·(x − m) in float64, summed like sum64.
func dotDev64(y, x []float32, m float64) float64 {
	x = x[:len(y)]
	var s0, s1, s2, s3 float64
	i := 0
	for ; i+4 <= len(y); i += 4 {
		s0 += float64(y[i]) * (float64(x[i]) - m)
		s1 += float64(y[i+1]) * (float64(x[i+1]) - m)
		s2 += float64(y[i+2]) * (float64(x[i+2]) - m)
		s3 += float64(y[i+3]) * (float64(x[i+3]) - m)
	}
	for ; i < len(y); i++ {
		s0 += float64(y[i]) * (float64(x[i]) - m)
	}
	return (s0 + s1) + (s2 + s3)
}

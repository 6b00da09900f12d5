package engine

import (
	"fmt"
	"math"

	"github.com/ferminets/fermi/engine/simd"
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
	return batchNormTrainRelu(e, n, in, false)
}

// batchNormTrainRelu is batchNormTrain, rectifying Y when relu is set (a
// Relu folded into the node in training, see trainFusion).
//
// Both passes walk X in memory order, image after image (a channel's
// planes lie a whole image apart, and walking them channel by channel
// defeats the prefetcher on small planes): the first sums x and x² per
// channel over fixed chunks of images (float64 sums of float32 products
// lose nothing until |mean|/σ reaches the thousands; fixed chunks keep the
// bits independent of the thread count), the second writes Y.
func batchNormTrainRelu(e *Executor, n *ir.Node, in []*ir.Tensor, relu bool) ([]*ir.Tensor, error) {
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
	var s, q []float64
	if mom := e.takeMoments(x); mom != nil { // its convolution summed them (fuse.go)
		s, q = planeMoments(mom, batch, c)
		e.arena.putF64(mom)
	} else {
		s, q = channelMoments(e, x.F32, nil, nil, nil, batch, c, inner, false)
	}
	y := e.allocRaw(ints(x.Dims))
	rm, rv, bm, bi := newF32([]int{c}), newF32([]int{c}), newF32([]int{c}), newF32([]int{c})
	a, b := make([]float32, c), make([]float32, c)
	for ch := range c {
		m := s[ch] / cnt
		ss := max(0, q[ch]-s[ch]*m) // Σ(x − m)²
		v := ss / cnt
		inv := 1 / math.Sqrt(v+eps)
		// y = (x − m)·a + bias, as one float32 multiply and add per element.
		ak := float64(scale[ch]) * inv
		a[ch], b[ch] = float32(ak), float32(float64(bias[ch])-m*ak)
		unbiased := v
		if cnt > 1 {
			unbiased = ss / (cnt - 1)
		}
		rm.F32[ch] = float32(float64(mean[ch])*mom + m*(1-mom))
		rv.F32[ch] = float32(float64(vari[ch])*mom + unbiased*(1-mom))
		bm.F32[ch], bi.F32[ch] = float32(m), float32(inv)
	}
	e.parallel(batch*c, func(lo, hi int) {
		for pl := lo; pl < hi; pl++ {
			ch := pl % c
			o := pl * inner
			simd.Affine(y.F32[o:o+inner], x.F32[o:o+inner], a[ch], b[ch], relu)
		}
	})
	// a and b go along (past the node's outputs) for the backward, which
	// tells the fused Relu's mask from x with them (simd.Rectifier).
	return []*ir.Tensor{y, rm, rv, bm, bi, {DType: ir.Float32, Dims: []int64{int64(c)}, F32: a},
		{DType: ir.Float32, Dims: []int64{int64(c)}, F32: b}}, nil
}

// batchNormBackward is the gradient of batchNormTrain (batch statistics):
// with x̂ = (x−μ)/σ, dB = Σdy, dscale = Σdy·x̂ and
// dx = scale/σ · (dy − dB/M − x̂·dscale/M) over the M values of a channel.
func batchNormBackward(e *Executor, n *ir.Node, in, out, dout []*ir.Tensor, need []bool) ([]*ir.Tensor, error) {
	return batchNormBackwardRelu(e, n, in, out, dout, need, false)
}

// batchNormBackwardRelu is batchNormBackward of batchNormTrainRelu: with
// relu set, dy first passes the folded Relu (dy where the rectified output
// is positive) in both passes, the one that sums Σdy and Σdy·x per channel
// and the one that writes dx, as batchNormTrainRelu walks in memory order.
func batchNormBackwardRelu(e *Executor, n *ir.Node, in, out, dout []*ir.Tensor, need []bool, relu bool) ([]*ir.Tensor, error) {
	if len(out) < 5 {
		return nil, fmt.Errorf("backward needs the training-mode forward")
	}
	x, dy, scale := in[0], dout[0], in[1].F32
	var ra, rb []float32 // the fused Relu's rectifier: its input's affine map
	if relu {
		if len(out) < 7 {
			return nil, fmt.Errorf("backward of the fused Relu needs the forward's affine map")
		}
		ra, rb = out[5].F32, out[6].F32
	}
	bm, bi := out[3].F32, out[4].F32
	c := int(x.Dims[1])
	batch, inner := int(x.Dims[0]), int(x.Len())/max(1, c*int(x.Dims[0]))
	cnt := float64(batch * inner)
	sdy, sdyx := channelMoments(e, dy.F32, x.F32, ra, rb, batch, c, inner, true)
	grads := make([]*ir.Tensor, len(in))
	dscale, dbias := newF32([]int{c}), newF32([]int{c})
	alpha, beta, gamma := make([]float32, c), make([]float32, c), make([]float32, c)
	for ch := range c {
		m, inv := float64(bm[ch]), float64(bi[ch])
		sx := (sdyx[ch] - m*sdy[ch]) * inv // Σdy·x̂
		dscale.F32[ch], dbias.F32[ch] = float32(sx), float32(sdy[ch])
		// dx = k·(dy − mdy − (x − m)·inv·mdyx) = α·dy + β·x + γ.
		k := float64(scale[ch]) * inv
		mdy, mdyx := sdy[ch]/cnt, sx/cnt
		alpha[ch], beta[ch], gamma[ch] = float32(k), float32(-k*inv*mdyx), float32(k*(m*inv*mdyx-mdy))
	}
	if need[0] {
		dx := e.allocRaw(ints(x.Dims))
		e.parallel(batch*c, func(lo, hi int) {
			for pl := lo; pl < hi; pl++ {
				ch, o := pl%c, pl*inner
				simd.BNGrad(dx.F32[o:o+inner], dy.F32[o:o+inner], x.F32[o:o+inner], rectifier(ra, rb, ch), alpha[ch], beta[ch], gamma[ch])
			}
		})
		grads[0] = dx
	}
	if need[1] {
		grads[1] = dscale
	}
	if need[2] {
		grads[2] = dbias
	}
	return grads, nil
}

// bnChunks is the number of image chunks channelMoments sums separately
// before adding the chunks in order: fixed, so that the bits do not depend
// on the thread count.
const bnChunks = 8

// rectifier returns channel ch's simd.Rectifier of the affine map ra, rb
// (none when ra is nil).
func rectifier(ra, rb []float32, ch int) simd.Rectifier {
	if ra == nil {
		return simd.Rectifier{}
	}
	return simd.Rectifier{A: ra[ch], B: rb[ch], On: true}
}

// channelMoments returns per channel of a [batch, c, inner] tensor Σu and
// Σu² (dot unset), or Σg and Σg·v (dot set) where g is u masked by the
// rectifier of v under the affine map ra, rb (u where v·ra + rb > 0) when
// ra is non-nil; float64 sums over planes in memory order, then over the
// images of each of bnChunks fixed chunks, then over the chunks.
func channelMoments(e *Executor, u, v, ra, rb []float32, batch, c, inner int, dot bool) (s1, s2 []float64) {
	nch := min(batch, bnChunks)
	parts := make([]float64, 2*c*nch)
	e.parallel(nch, func(clo, chi int) {
		for ci := clo; ci < chi; ci++ {
			lo, hi := chunkBounds(batch, nch, ci)
			p := parts[2*c*ci : 2*c*(ci+1)]
			for img := lo; img < hi; img++ {
				for ch := range c {
					o := (img*c + ch) * inner
					var a, b float64
					if dot {
						a, b = simd.SumDot(u[o:o+inner], v[o:o+inner], rectifier(ra, rb, ch))
					} else {
						a, b = simd.SumSq(u[o : o+inner])
					}
					p[2*ch] += a
					p[2*ch+1] += b
				}
			}
		}
	})
	s1, s2 = make([]float64, c), make([]float64, c)
	for ci := range nch {
		for ch := range c {
			s1[ch] += parts[2*c*ci+2*ch]
			s2[ch] += parts[2*c*ci+2*ch+1]
		}
	}
	return s1, s2
}

// planeMoments adds per-plane sums mom [batch][c][2] per channel in
// channelMoments' order (over the images of each of bnChunks fixed chunks,
// then over the chunks), so that a convolution's sums of the planes it
// wrote give channelMoments' bits.
func planeMoments(mom []float64, batch, c int) (s1, s2 []float64) {
	nch := min(batch, bnChunks)
	s1, s2 = make([]float64, c), make([]float64, c)
	p := make([]float64, 2*c)
	for ci := range nch {
		clear(p)
		lo, hi := chunkBounds(batch, nch, ci)
		for img := lo; img < hi; img++ {
			for ch := range c {
				p[2*ch] += mom[2*(img*c+ch)]
				p[2*ch+1] += mom[2*(img*c+ch)+1]
			}
		}
		for ch := range c {
			s1[ch] += p[2*ch]
			s2[ch] += p[2*ch+1]
		}
	}
	return s1, s2
}

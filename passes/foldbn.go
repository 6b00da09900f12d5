package passes

import (
	"math"
	"slices"

	"github.com/ferminets/fermi/ir"
)

// fold-bn folds an inference BatchNormalization into the Conv or Gemm that
// produces its input: with k = scale/√(var+ε) per channel, the weights of
// output channel m are multiplied by k[m] and the bias becomes
// (b − mean)·k + B. The Conv/Gemm then produces the BatchNormalization's
// output value (same name); the old weights and bias are left for dce.
//
// Requires: the Conv/Gemm output has no other reader and is not a graph
// output; weights, bias and the BatchNormalization's parameters are
// constant f32; training_mode is 0 and the running-statistics outputs are
// unused; for Gemm, a 2-D output and a bias C broadcastable along the
// output channels. A BatchNormalization after a Conv/Gemm that cannot be
// folded gets a remark saying why.
//
// A BatchNormalization not preceded by a Conv/Gemm folds into the Conv
// that reads it instead (input side), when that is exact: the Conv is its
// only reader and does not pad (padding would add zeros after the affine
// map, not before). Then W′[m,c] = W[m,c]·k[c] and
// b′[m] = b[m] + Σ W[m,c]·(B − mean·k)[c].
func foldBN(c *ctx) error {
	for _, n := range c.g.Nodes {
		if c.dead[n] || n.Op != ir.OpBatchNorm {
			continue
		}
		x := n.Input(0)
		p := x.Def
		if p == nil || c.dead[p] || (p.Op != ir.OpConv && p.Op != ir.OpGemm) {
			if err := foldBNIntoNext(c, n); err != nil {
				return err
			}
			continue
		}
		if users := len(c.uses(x)) + outputCount(c, x); users != 1 {
			c.remark(n, "fold-bn: %s has %d users", x, users)
			continue
		}
		if n.Int("training_mode") != 0 {
			c.remark(n, "fold-bn: training_mode is set")
			continue
		}
		if len(n.Outputs) > 1 && (n.Outputs[1] != nil || (len(n.Outputs) > 2 && n.Outputs[2] != nil)) {
			c.remark(n, "fold-bn: running statistics outputs are used")
			continue
		}
		var bn [4][]float32
		ok := true
		for i := range bn {
			if bn[i] = floats(n.Input(i + 1)); bn[i] == nil {
				c.remark(n, "fold-bn: %s is not a constant f32 tensor", n.Input(i+1))
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		w := floats(p.Input(1))
		if w == nil {
			c.remark(n, "fold-bn: weight %s of %q is not a constant f32 tensor", p.Input(1), p.Name)
			continue
		}
		ch := len(bn[0])
		eps := float64(n.Float("epsilon"))
		k := make([]float64, ch)
		shift := make([]float64, ch) // B − mean·k
		for m := range k {
			k[m] = float64(bn[0][m]) / math.Sqrt(float64(bn[3][m])+eps)
			shift[m] = float64(bn[1][m]) - float64(bn[2][m])*k[m]
		}
		var nw, nb *ir.Tensor
		if p.Op == ir.OpConv {
			nw, nb, ok = foldConvBN(c, n, p, w, k, shift)
		} else {
			nw, nb, ok = foldGemmBN(c, n, p, w, k, shift)
		}
		if !ok {
			continue
		}
		c.setInput(p, 1, c.newParam(p.Name+"_w", nw))
		b := c.newParam(p.Name+"_b", nb)
		if len(p.Inputs) < 3 {
			p.Inputs = append(p.Inputs, nil)
		}
		c.setInput(p, 2, b)
		y := n.Outputs[0]
		p.Outputs[0], y.Def = y, p
		c.remove(n)
	}
	return nil
}

// outputCount is 1 when v is a graph output.
func outputCount(c *ctx, v *ir.Value) int {
	if c.isOutput(v) {
		return 1
	}
	return 0
}

func foldConvBN(c *ctx, n, p *ir.Node, w []float32, k, shift []float64) (nw, nb *ir.Tensor, ok bool) {
	wt := ir.ConstValue(p.Input(1))
	if len(wt.Dims) < 3 || wt.Dims[0] != int64(len(k)) {
		c.remark(n, "fold-bn: %d channels, %q has %v weights", len(k), p.Name, wt.Dims)
		return nil, nil, false
	}
	var b []float32
	if p.Input(2) != nil {
		if b = floats(p.Input(2)); b == nil || len(b) != len(k) {
			c.remark(n, "fold-bn: bias %s of %q is not a constant f32 tensor of %d channels", p.Input(2), p.Name, len(k))
			return nil, nil, false
		}
	}
	per := len(w) / len(k)
	ow := make([]float32, len(w))
	ob := make([]float32, len(k))
	for m := range k {
		for i := m * per; i < (m+1)*per; i++ {
			ow[i] = float32(float64(w[i]) * k[m])
		}
		bias := 0.0
		if b != nil {
			bias = float64(b[m])
		}
		ob[m] = float32(bias*k[m] + shift[m])
	}
	return ir.NewFloat32(append([]int64(nil), wt.Dims...), ow), ir.NewFloat32([]int64{int64(len(k))}, ob), true
}

func foldGemmBN(c *ctx, n, p *ir.Node, w []float32, k, shift []float64) (nw, nb *ir.Tensor, ok bool) {
	wt := ir.ConstValue(p.Input(1))
	m := int64(len(k))
	y := p.Outputs[0]
	if len(wt.Dims) != 2 || len(y.Shape) != 2 {
		c.remark(n, "fold-bn: %q is not a 2-D Gemm", p.Name)
		return nil, nil, false
	}
	transB := p.Int("transB") != 0
	if (transB && wt.Dims[0] != m) || (!transB && wt.Dims[1] != m) {
		c.remark(n, "fold-bn: %d channels, %q has %v weights", m, p.Name, wt.Dims)
		return nil, nil, false
	}
	beta := float64(p.Float("beta")) // alpha scales A·B′, which k scales through B
	cb := make([]float64, m)
	if cv := p.Input(2); cv != nil {
		cd := floats(cv)
		t := ir.ConstValue(cv)
		if cd == nil || !(t.Len() == 1 || (t.Len() == m && (len(t.Dims) == 1 || (len(t.Dims) == 2 && t.Dims[0] == 1)))) {
			c.remark(n, "fold-bn: bias %s of %q is not a constant per-channel f32 tensor", cv, p.Name)
			return nil, nil, false
		}
		for j := range cb {
			cb[j] = beta * float64(cd[min(j, len(cd)-1)])
		}
	}
	ow := make([]float32, len(w))
	rows, cols := wt.Dims[0], wt.Dims[1]
	for r := int64(0); r < rows; r++ {
		for q := int64(0); q < cols; q++ {
			j := q
			if transB {
				j = r
			}
			ow[r*cols+q] = float32(float64(w[r*cols+q]) * k[j])
		}
	}
	ob := make([]float32, m)
	for j := range ob {
		ob[j] = float32(cb[j]*k[j] + shift[j])
	}
	p.SetAttr(ir.FloatAttr("beta", 1))
	return ir.NewFloat32([]int64{rows, cols}, ow), ir.NewFloat32([]int64{m}, ob), true
}

// foldBNIntoNext folds BatchNormalization n into the Conv that reads it.
func foldBNIntoNext(c *ctx, n *ir.Node) error {
	y := n.Outputs[0]
	users := c.uses(y)
	if len(users) != 1 || c.isOutput(y) || users[0].Op != ir.OpConv || users[0].Input(0) != y {
		return nil
	}
	cv := users[0]
	if n.Int("training_mode") != 0 || (len(n.Outputs) > 1 && slices.ContainsFunc(n.Outputs[1:], func(v *ir.Value) bool { return v != nil })) {
		return nil
	}
	if cv.Str("auto_pad") != "NOTSET" || slices.ContainsFunc(cv.Ints("pads"), func(p int64) bool { return p != 0 }) {
		c.remark(n, "fold-bn: %s pads its input, so %s cannot fold into it exactly", cv.Outputs[0], y)
		return nil
	}
	var bn [4][]float32
	for i := range bn {
		if bn[i] = floats(n.Input(i + 1)); bn[i] == nil {
			c.remark(n, "fold-bn: %s is not a constant f32 tensor", n.Input(i+1))
			return nil
		}
	}
	w := floats(cv.Input(1))
	wt := ir.ConstValue(cv.Input(1))
	if w == nil || len(wt.Dims) < 3 {
		c.remark(n, "fold-bn: weight %s of %q is not a constant f32 tensor", cv.Input(1), cv.Name)
		return nil
	}
	var b []float32
	if cv.Input(2) != nil {
		if b = floats(cv.Input(2)); b == nil {
			c.remark(n, "fold-bn: bias %s of %q is not a constant f32 tensor", cv.Input(2), cv.Name)
			return nil
		}
	}
	cin := len(bn[0])
	m, cg := int(wt.Dims[0]), int(wt.Dims[1])
	group := int(cv.Int("group"))
	if group < 1 || cg*group != cin || m%group != 0 {
		return nil
	}
	eps := float64(n.Float("epsilon"))
	k := make([]float64, cin)
	shift := make([]float64, cin)
	for ch := range k {
		k[ch] = float64(bn[0][ch]) / math.Sqrt(float64(bn[3][ch])+eps)
		shift[ch] = float64(bn[1][ch]) - float64(bn[2][ch])*k[ch]
	}
	per := len(w) / (m * cg) // kernel elements
	ow := make([]float32, len(w))
	ob := make([]float32, m)
	for o := 0; o < m; o++ {
		g := o / (m / group)
		acc := 0.0
		if b != nil {
			acc = float64(b[o])
		}
		for j := 0; j < cg; j++ {
			ch := g*cg + j
			for e := 0; e < per; e++ {
				i := (o*cg+j)*per + e
				acc += float64(w[i]) * shift[ch]
				ow[i] = float32(float64(w[i]) * k[ch])
			}
		}
		ob[o] = float32(acc)
	}
	c.setInput(cv, 0, n.Input(0))
	c.setInput(cv, 1, c.newParam(cv.Name+"_w", ir.NewFloat32(append([]int64(nil), wt.Dims...), ow)))
	if len(cv.Inputs) < 3 {
		cv.Inputs = append(cv.Inputs, nil)
	}
	c.setInput(cv, 2, c.newParam(cv.Name+"_b", ir.NewFloat32([]int64{int64(m)}, ob)))
	c.remove(n)
	return nil
}

package passes

import (
	"github.com/ferminets/fermi/ir"
)

// fuse-contrib rewrites each Conv fusion group (see Fusions: Conv,
// optional residual Add, optional activation) into ONNX Runtime's
// com.microsoft FusedConv, Y = activation(Conv(X, W, B) + Z), and each
// Gemm + activation into com.microsoft FusedGemm, what fcompile
// --onnx-contrib selects. The result runs only in ONNX Runtime
// (the engine has no kernel for it, so no numeric check in the engine; the
// tests compare in ONNX Runtime). Activations: Relu, Sigmoid, Tanh,
// LeakyRelu (alpha), HardSigmoid (alpha, beta) and Clip with constant
// bounds (FusedGemm: Relu, Sigmoid, Tanh, LeakyRelu). Groups without an Add
// or activation stay standard.
func fuseContrib(c *ctx) error {
	fused := false
	for _, k := range Fusions(c.g) {
		if k.Anchor.Op == ir.OpGemm {
			fused = fuseGemm(c, k) || fused
			continue
		}
		if k.Residual == nil && k.Activation == nil {
			continue
		}
		var act string
		var params []float32
		if a := k.Activation; a != nil {
			switch a.Op {
			case ir.OpRelu, ir.OpSigmoid, ir.OpTanh:
				act = a.Op.String()
			case ir.OpLeakyRelu:
				act, params = "LeakyRelu", []float32{a.Float("alpha")}
			case ir.OpHardSigmoid:
				act, params = "HardSigmoid", []float32{a.Float("alpha"), a.Float("beta")}
			case ir.OpClip:
				lo, hi := clipBound(a.Input(1), -3.4028235e38), clipBound(a.Input(2), 3.4028235e38)
				if lo == nil || hi == nil {
					c.remark(a, "fuse-contrib: Clip bounds are not constant")
					continue
				}
				act, params = "Clip", []float32{*lo, *hi}
			default:
				c.remark(a, "fuse-contrib: FusedConv has no %s activation", a.Op)
				continue
			}
		}
		conv := k.Anchor
		last := conv
		inputs := append([]*ir.Value(nil), conv.Inputs...)
		for len(inputs) < 3 {
			inputs = append(inputs, nil)
		}
		if r := k.Residual; r != nil {
			z := r.Input(0)
			if z == conv.Outputs[0] {
				z = r.Input(1)
			}
			inputs = append(inputs, z)
			last = r
		}
		if k.Activation != nil {
			last = k.Activation
		}
		for len(inputs) > 0 && inputs[len(inputs)-1] == nil {
			inputs = inputs[:len(inputs)-1]
		}
		attrs := append([]ir.Attr(nil), conv.Attrs...)
		if act != "" {
			attrs = append(attrs, ir.StrAttr("activation", act))
		}
		if params != nil {
			attrs = append(attrs, ir.FloatsAttr("activation_params", params...))
		}
		y := last.Outputs[0]
		f := &ir.Node{Name: conv.Name, Op: ir.OpOpaque, Domain: "com.microsoft", OpType: "FusedConv", Inputs: inputs, Attrs: attrs, Outputs: []*ir.Value{y}}
		// The fused node takes the last node's place in the order, where
		// every input (the residual included) is defined.
		for i, n := range c.g.Nodes {
			if n == last {
				c.g.Nodes[i] = f
			}
		}
		y.Def = f
		for _, n := range []*ir.Node{conv, k.Residual, k.Activation} {
			if n != nil && n != last {
				c.remove(n)
			}
		}
		c.users = nil
		c.changed, fused = true, true
	}
	if fused && !hasOpset(c.g, "com.microsoft") {
		c.g.Opsets = append(c.g.Opsets, ir.OpsetImport{Domain: "com.microsoft", Version: 1})
	}
	return nil
}

func clipBound(v *ir.Value, def float32) *float32 {
	if v == nil {
		return &def
	}
	f := floats(v)
	if len(f) != 1 {
		return nil
	}
	return &f[0]
}

func hasOpset(g *ir.Graph, domain string) bool {
	for _, o := range g.Opsets {
		if o.Domain == domain {
			return true
		}
	}
	return false
}

// fuseGemm rewrites Gemm + activation into com.microsoft FusedGemm.
func fuseGemm(c *ctx, k Kernel) bool {
	a := k.Activation
	if a == nil {
		return false
	}
	attrs := append([]ir.Attr(nil), k.Anchor.Attrs...)
	switch a.Op {
	case ir.OpRelu, ir.OpSigmoid, ir.OpTanh:
		attrs = append(attrs, ir.StrAttr("activation", a.Op.String()))
	case ir.OpLeakyRelu:
		attrs = append(attrs, ir.StrAttr("activation", "LeakyRelu"), ir.FloatAttr("activation_alpha", a.Float("alpha")))
	default:
		c.remark(a, "fuse-contrib: FusedGemm has no %s activation", a.Op)
		return false
	}
	g := k.Anchor
	y := a.Outputs[0]
	f := &ir.Node{Name: g.Name, Op: ir.OpOpaque, Domain: "com.microsoft", OpType: "FusedGemm",
		Inputs: append([]*ir.Value(nil), g.Inputs...), Attrs: attrs, Outputs: []*ir.Value{y}}
	for i, n := range c.g.Nodes {
		if n == a {
			c.g.Nodes[i] = f
		}
	}
	y.Def = f
	c.remove(g)
	c.users = nil
	c.changed = true
	return true
}

package passes

import "github.com/ferminets/fermi/ir"

// matmul-add-to-gemm rewrites Add(MatMul(A, B), C) as Gemm(A, B, C) when A
// and B are 2-D f32, the MatMul result has no other reader, and C
// broadcasts to the product's shape without growing it (Gemm's C is
// broadcast one way only). The MatMul node becomes the Gemm and produces
// the Add's output value; the Add is deleted.
func matmulAddToGemm(c *ctx) error {
	for _, a := range c.g.Nodes {
		if c.dead[a] || a.Op != ir.OpAdd {
			continue
		}
		for side := 0; side < 2; side++ {
			mmv, cv := a.Input(side), a.Input(1-side)
			mm := mmv.Def
			if mm == nil || c.dead[mm] || mm.Op != ir.OpMatMul || !c.singleUse(mmv) || mmv == cv {
				continue
			}
			A, B := mm.Input(0), mm.Input(1)
			if len(A.Shape) != 2 || len(B.Shape) != 2 || A.DType != ir.Float32 || cv.Shape == nil || len(cv.Shape) > 2 {
				continue
			}
			if !a.Outputs[0].Shape.Equal(mmv.Shape) {
				continue
			}
			g := &ir.Node{Name: mm.Name, Op: ir.OpGemm, Inputs: []*ir.Value{A, B, cv}, Outputs: []*ir.Value{{Name: "probe"}}}
			if ir.InferNode(g) != nil {
				continue
			}
			y := a.Outputs[0]
			mm.Op = ir.OpGemm
			c.setInput(mm, 0, A)
			mm.Inputs = append(mm.Inputs, nil)
			c.setInput(mm, 2, cv)
			mm.Outputs[0], y.Def = y, mm
			c.remove(a)
			break
		}
	}
	return nil
}

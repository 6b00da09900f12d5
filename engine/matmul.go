package engine

import (
	"fmt"

	"github.com/ferminets/fermi/ir"
)

// gemm computes alpha·A'·B' + beta·C, where A' and B' are A and B optionally
// transposed and C broadcasts to the [M, N] result.
func gemm(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	a, b := in[0], in[1]
	if err := needF32(a, "A", 2); err != nil {
		return nil, err
	}
	if err := needF32(b, "B", 2); err != nil {
		return nil, err
	}
	ta, tb := n.Int("transA") != 0, n.Int("transB") != 0
	m, k := int(a.Dims[0]), int(a.Dims[1])
	if ta {
		m, k = k, m
	}
	kb, nn := int(b.Dims[0]), int(b.Dims[1])
	if tb {
		kb, nn = nn, kb
	}
	if k != kb {
		return nil, fmt.Errorf("A' is %d×%d, B' is %d×%d", m, k, kb, nn)
	}
	y := e.allocRaw([]int{m, nn}) // filled from C or overwritten by the product
	beta := float32(0)
	if len(in) > 2 && in[2] != nil {
		c := in[2]
		if err := needF32(c, "C", -1); err != nil {
			return nil, err
		}
		if len(c.Dims) > 2 {
			return nil, fmt.Errorf("C has %d dims, want at most 2", len(c.Dims))
		}
		d, err := broadcastDims(ints(c.Dims), []int{m, nn})
		if err != nil || d[0] != m || d[1] != nn {
			return nil, fmt.Errorf("C %v does not broadcast to [%d %d]", c.Dims, m, nn)
		}
		broadcastRows([]int{m, nn}, ints(c.Dims), []int{m, nn}, func(o, ic, _, cnt, sc, _ int) {
			for j := 0; j < cnt; j++ {
				y.F32[o+j] = c.F32[ic+j*sc]
			}
		})
		beta = n.Float("beta")
	}
	lda, ldb := int(a.Dims[1]), int(b.Dims[1])
	e.cfg.kernels.Sgemm(ta, tb, m, nn, k, n.Float("alpha"), a.F32, lda, b.F32, ldb, beta, y.F32, nn)
	return []*ir.Tensor{y}, nil
}

// matMul is numpy matmul: 1-D operands are promoted to matrices (and the
// added dim removed from the result); leading batch dims broadcast.
func matMul(e *Executor, n *ir.Node, in []*ir.Tensor) ([]*ir.Tensor, error) {
	a, b := in[0], in[1]
	if err := needF32(a, "A", -1); err != nil {
		return nil, err
	}
	if err := needF32(b, "B", -1); err != nil {
		return nil, err
	}
	ad, bd := ints(a.Dims), ints(b.Dims)
	if len(ad) == 0 || len(bd) == 0 {
		return nil, fmt.Errorf("operands must have at least 1 dim")
	}
	vecA, vecB := len(ad) == 1, len(bd) == 1
	if vecA {
		ad = []int{1, ad[0]}
	}
	if vecB {
		bd = []int{bd[0], 1}
	}
	m, k, kb, nn := ad[len(ad)-2], ad[len(ad)-1], bd[len(bd)-2], bd[len(bd)-1]
	if k != kb {
		return nil, fmt.Errorf("A %v and B %v: inner dims %d and %d differ", a.Dims, b.Dims, k, kb)
	}
	batch, err := broadcastDims(ad[:len(ad)-2], bd[:len(bd)-2])
	if err != nil {
		return nil, err
	}
	out := append(append([]int{}, batch...), m, nn)
	y := e.allocRaw(out) // every batch matrix is overwritten
	// Offsets of each batch matrix in A and B.
	nb := prod(batch)
	offA, offB := make([]int, 0, nb), make([]int, 0, nb)
	broadcastRows(append(append([]int{}, batch...), 1), append(append([]int{}, ad[:len(ad)-2]...), 1),
		append(append([]int{}, bd[:len(bd)-2]...), 1), func(_, ia, ib, _, _, _ int) {
			offA, offB = append(offA, ia*m*k), append(offB, ib*k*nn)
		})
	e.parallel(nb, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			e.cfg.kernels.Sgemm(false, false, m, nn, k, 1, a.F32[offA[i]:offA[i]+m*k], k, b.F32[offB[i]:offB[i]+k*nn], nn, 0, y.F32[i*m*nn:(i+1)*m*nn], nn)
		}
	})
	switch {
	case vecA && vecB:
		out = out[:len(out)-2]
	case vecA:
		out = append(out[:len(out)-2], nn)
	case vecB:
		out = out[:len(out)-1]
	}
	y.Dims = dims64(out)
	return []*ir.Tensor{y}, nil
}

// gemmBackward is the gradient of Gemm, Y = α·A'·B' + β·C: dA' = α·dY·B'ᵀ,
// dB' = α·A'ᵀ·dY (transposed back when the attribute transposes the
// operand) and dC = β·dY summed over C's broadcast dims.
func gemmBackward(e *Executor, n *ir.Node, in, out, dout []*ir.Tensor, need []bool) ([]*ir.Tensor, error) {
	a, b, dy := in[0], in[1], dout[0]
	ta, tb := n.Int("transA") != 0, n.Int("transB") != 0
	alpha := n.Float("alpha")
	m, nn := int(dy.Dims[0]), int(dy.Dims[1])
	k := int(a.Dims[1])
	if ta {
		k = int(a.Dims[0])
	}
	lda, ldb := int(a.Dims[1]), int(b.Dims[1])
	grads := make([]*ir.Tensor, len(in))
	if need[0] {
		da := e.allocRaw(ints(a.Dims))
		if !ta {
			e.cfg.kernels.Sgemm(false, !tb, m, k, nn, alpha, dy.F32, nn, b.F32, ldb, 0, da.F32, k)
		} else {
			e.cfg.kernels.Sgemm(tb, true, k, m, nn, alpha, b.F32, ldb, dy.F32, nn, 0, da.F32, m)
		}
		grads[0] = da
	}
	if need[1] {
		db := e.allocRaw(ints(b.Dims))
		if !tb {
			e.cfg.kernels.Sgemm(!ta, false, k, nn, m, alpha, a.F32, lda, dy.F32, nn, 0, db.F32, nn)
		} else {
			e.cfg.kernels.Sgemm(true, ta, nn, k, m, alpha, dy.F32, nn, a.F32, lda, 0, db.F32, k)
		}
		grads[1] = db
	}
	if len(in) > 2 && in[2] != nil && need[2] {
		c := in[2]
		dc := newF32(ints(c.Dims))
		beta := n.Float("beta")
		sums := make([]float64, len(dc.F32))
		broadcastRows([]int{m, nn}, ints(c.Dims), []int{m, nn}, func(o, ic, _, cnt, sc, _ int) {
			for j := 0; j < cnt; j++ {
				sums[ic+j*sc] += float64(dy.F32[o+j])
			}
		})
		for i, s := range sums {
			dc.F32[i] = float32(s) * beta
		}
		grads[2] = dc
	}
	return grads, nil
}

// matMulBackward is the gradient of numpy matmul: per batch matrix, dA +=
// dY·Bᵀ and dB += Aᵀ·dY, summed over broadcast batch dims in order.
func matMulBackward(e *Executor, n *ir.Node, in, out, dout []*ir.Tensor, need []bool) ([]*ir.Tensor, error) {
	a, b, dy := in[0], in[1], dout[0]
	ad, bd := ints(a.Dims), ints(b.Dims)
	if len(ad) == 1 {
		ad = []int{1, ad[0]}
	}
	if len(bd) == 1 {
		bd = []int{bd[0], 1}
	}
	m, k, nn := ad[len(ad)-2], ad[len(ad)-1], bd[len(bd)-1]
	batch, err := broadcastDims(ad[:len(ad)-2], bd[:len(bd)-2])
	if err != nil {
		return nil, err
	}
	nb := prod(batch)
	offA, offB := make([]int, 0, nb), make([]int, 0, nb)
	broadcastRows(append(append([]int{}, batch...), 1), append(append([]int{}, ad[:len(ad)-2]...), 1),
		append(append([]int{}, bd[:len(bd)-2]...), 1), func(_, ia, ib, _, _, _ int) {
			offA, offB = append(offA, ia*m*k), append(offB, ib*k*nn)
		})
	grads := make([]*ir.Tensor, 2)
	if need[0] {
		da := newF32(ints(a.Dims))
		for i := 0; i < nb; i++ {
			e.cfg.kernels.Sgemm(false, true, m, k, nn, 1, dy.F32[i*m*nn:(i+1)*m*nn], nn, b.F32[offB[i]:offB[i]+k*nn], nn, 1, da.F32[offA[i]:offA[i]+m*k], k)
		}
		grads[0] = da
	}
	if need[1] {
		db := newF32(ints(b.Dims))
		for i := 0; i < nb; i++ {
			e.cfg.kernels.Sgemm(true, false, k, nn, m, 1, a.F32[offA[i]:offA[i]+m*k], k, dy.F32[i*m*nn:(i+1)*m*nn], nn, 1, db.F32[offB[i]:offB[i]+k*nn], nn)
		}
		grads[1] = db
	}
	return grads, nil
}

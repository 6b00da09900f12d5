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
	y := newF32([]int{m, nn})
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
	y := newF32(out)
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

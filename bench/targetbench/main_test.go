package main

import (
	"testing"

	"github.com/ferminets/fermi/ir"
)

// TestEvaluationSet checks that the evaluation list has at least 20
// networks with distinct names, and that every random conv stack builds a
// verified graph with convolutions in it.
func TestEvaluationSet(t *testing.T) {
	nets := evaluationNets()
	if len(nets) < 20 {
		t.Fatalf("%d evaluation networks, want at least 20", len(nets))
	}
	seen := map[string]bool{}
	for _, n := range nets {
		if seen[n.name] {
			t.Errorf("duplicate network %q", n.name)
		}
		seen[n.name] = true
		if n.source != "random" {
			continue
		}
		g, data, err := n.load()
		if err != nil {
			t.Fatalf("%s: %v", n.name, err)
		}
		if err := ir.Verify(g); err != nil {
			t.Errorf("%s: %v", n.name, err)
		}
		convs := 0
		for _, nd := range g.Nodes {
			if nd.Op == ir.OpConv {
				convs++
			}
		}
		if convs < 2 || len(data) == 0 {
			t.Errorf("%s: %d convolutions, %d bytes of ONNX", n.name, convs, len(data))
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		xs   []float64
		want float64
	}{{[]float64{3}, 3}, {[]float64{3, 1, 2}, 2}, {[]float64{4, 1, 3, 2}, 2.5}} {
		if got := median(tc.xs); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.xs, got, tc.want)
		}
	}
}

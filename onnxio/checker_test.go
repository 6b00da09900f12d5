package onnxio

import (
	"fmt"
	"testing"

	"github.com/ferminets/fermi/crosscheck"
	"github.com/ferminets/fermi/ir"
)

// TestExportPassesONNXChecker exports normalized old-opset models, and
// graphs built in Go, at the opsets the reference checker (onnx 1.12, up to
// opset 17) knows, and runs onnx.checker with full shape inference on them.
func TestExportPassesONNXChecker(t *testing.T) {
	crosscheck.RequireChecker(t)
	graphs := map[string]*ir.Graph{}
	for _, opset := range []int64{7, 11, 18} {
		graphs[fmt.Sprintf("chain-opset%d", opset)] = oldOpsetModel(opset).decode(t)
	}
	graphs["softmax-expanded"] = goldenModels()["softmax-opset11-axis1"].decode(t)
	graphs["built"] = buildGraph(t, func(b *ir.Builder, x *ir.Value) []*ir.Value {
		scales := b.Param("scales", ir.NewFloat32([]int64{4}, []float32{1, 1, 2, 2}))
		r := b.Node(ir.OpResize, "rs", []*ir.Value{x, nil, scales}, ir.StrAttr("keep_aspect_ratio_policy", "stretch"))
		p := b.Node(ir.OpAveragePool, "ap", []*ir.Value{r}, ir.IntsAttr("kernel_shape", 2, 2), ir.IntsAttr("dilations", 1, 1))
		m := b.Node(ir.OpReduceMean, "rm", []*ir.Value{p}, ir.IntsAttr("axes", 2, 3))
		s := b.NodeN(ir.OpSplit, "sp", 2, []*ir.Value{m}, ir.IntAttr("axis", 1))
		c := b.Node(ir.OpCast, "ct", []*ir.Value{s[0]}, ir.IntAttr("to", int64(ir.Float16)), ir.IntAttr("saturate", 1))
		return []*ir.Value{c, s[1]}
	})
	for name, g := range graphs {
		for _, opset := range []int64{13, 17} {
			b, err := Encode(g, WriteOptions{Opset: opset})
			if err != nil {
				t.Errorf("%s at %d: %v", name, opset, err)
				continue
			}
			if err := crosscheck.Check(b); err != nil {
				t.Errorf("%s at %d: %v", name, opset, err)
			}
		}
	}
}

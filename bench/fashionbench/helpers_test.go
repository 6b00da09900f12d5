package main

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/modelfile"
	"github.com/ferminets/fermi/synth"
)

// writeJSON writes v as JSON to path.
func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeIDX writes an IDX image file (n 28×28 images, pixel value of image i
// = i) and its label file into dir with the given prefix ("train", "t10k").
func writeIDX(t *testing.T, dir, prefix string, labels []uint8) {
	t.Helper()
	n := len(labels)
	img := binary.BigEndian.AppendUint32(nil, 0x803)
	for _, d := range []int{n, 28, 28} {
		img = binary.BigEndian.AppendUint32(img, uint32(d))
	}
	for i := range n {
		for range 28 * 28 {
			img = append(img, uint8(i))
		}
	}
	lab := binary.BigEndian.AppendUint32(nil, 0x801)
	lab = binary.BigEndian.AppendUint32(lab, uint32(n))
	lab = append(lab, labels...)
	if err := os.WriteFile(filepath.Join(dir, prefix+"-images-idx3-ubyte"), img, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, prefix+"-labels-idx1-ubyte"), lab, 0o644); err != nil {
		t.Fatal(err)
	}
}

// constModel saves to path an untrained but valid classifier, Flatten →
// Gemm 784→10 with zero weights and a bias that is largest for class, so
// that it predicts class for every image; its metadata records the
// Fashion-MNIST preprocessing and arch.
func constModel(t *testing.T, path string, class int, arch string) {
	t.Helper()
	b := ir.NewBuilder("const")
	x := b.Input("input", ir.Float32, ir.Shape{ir.Sym("N"), ir.D(1), ir.D(28), ir.D(28)})
	f := b.Node(ir.OpFlatten, "flatten", []*ir.Value{x}, ir.IntAttr("axis", 1))
	w := b.Param("fc.weight", ir.NewFloat32([]int64{10, 784}, make([]float32, 7840)))
	bias := make([]float32, 10)
	bias[class] = 1
	bv := b.Param("fc.bias", ir.NewFloat32([]int64{10}, bias))
	y := b.Node(ir.OpGemm, "logits", []*ir.Value{f, w, bv}, ir.IntAttr("transB", 1))
	b.Output(y)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	g.Metadata = []ir.MetaProp{
		{Key: "preprocess.mean", Value: "0.286"}, {Key: "preprocess.std", Value: "0.353"},
		{Key: "preprocess.scale", Value: "0.00392156862745098"}, {Key: "dataset", Value: "fashion-mnist"},
	}
	if arch != "" {
		g.Metadata = append(g.Metadata, ir.MetaProp{Key: "ferminets.arch", Value: arch})
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := modelfile.Save(g, path, modelfile.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
}

// poolEntryJSON is a pool entry of state.json as synth writes it.
func poolEntryJSON(name string, stemWidth int, acc float64, macs, params int64) map[string]any {
	return map[string]any{
		"file": "pool/" + name + ".onnx",
		"observation": map[string]any{
			"name":    name,
			"arch":    synth.Arch{StemWidth: stemWidth, StemKernel: 5, Stages: []synth.StageShape{{Width: 8, Depth: 1, Kernel: 3}}},
			"metrics": synth.Metrics{Accuracy: acc, MACs: macs, Params: params}, "trained": true, "satisfied": true,
		},
	}
}

// archOf is the architecture string poolEntryJSON gives stemWidth.
func archOf(stemWidth int) string {
	return synth.Arch{StemWidth: stemWidth, StemKernel: 5, Stages: []synth.StageShape{{Width: 8, Depth: 1, Kernel: 3}}}.String()
}

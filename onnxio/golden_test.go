package onnxio

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio/onnxpb"
)

var update = flag.Bool("update", false, "rewrite the golden .fir files in testdata/import")

// TestImportGolden compares the IR of small hand-built ONNX models (see
// goldenModels) with snapshots in testdata/import, which show the normalized
// form of each opset's operators. The comparison parses the snapshot and
// uses ir.Equal, so printer layout changes do not matter; run with -update
// to rewrite the snapshots after a deliberate change, and review the diff.
func TestImportGolden(t *testing.T) {
	for name, m := range goldenModels() {
		t.Run(name, func(t *testing.T) {
			g := m.decode(t)
			path := filepath.Join("testdata", "import", name+".fir")
			if *update {
				if err := os.WriteFile(path, []byte(ir.Print(g)), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := ir.ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := ir.Equal(g, want); err != nil {
				t.Errorf("%v\ngot:\n%s", err, ir.Print(g))
			}
		})
	}
}

// goldenModels are the models of TestImportGolden, by snapshot name.
func goldenModels() map[string]mp {
	softmax := func(opset, axis int64) mp {
		return mp{opset: opset, nodes: []*onnxpb.NodeProto{pnode("Softmax", "sm", []string{"x"}, []string{"y"}, attrI("axis", axis))},
			inputs: []*onnxpb.ValueInfoProto{vinfo("x", f32, "N", 3, 4)}, outputs: []*onnxpb.ValueInfoProto{vinfoNoShape("y", f32)}}
	}
	return map[string]mp{
		"chain-opset7":          oldOpsetModel(7),
		"chain-opset11":         oldOpsetModel(11),
		"chain-opset13":         oldOpsetModel(13),
		"chain-opset18":         oldOpsetModel(18),
		"softmax-opset11-axis1": softmax(11, 1),
		"softmax-opset11-axis2": softmax(11, 2),
		"opaque":                opaqueModel(),
	}
}

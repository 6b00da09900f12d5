package backendtest

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio"
)

// NodeDir is where Debian's libonnx-testdata installs the node tests.
const NodeDir = "/usr/share/libonnx-testdata/data/node"

// Dirs returns the node test directories under root, sorted.
func Dirs(root string) []string {
	dirs, _ := filepath.Glob(filepath.Join(root, "test_*"))
	return dirs
}

// EngineScope says why an imported node test is not one the engine must
// pass, or "" if it is in scope: every op is core, every graph input and
// output is f32 or i64, and it is not a training-mode BatchNorm, a
// training-mode Dropout or a MaxPool with argmax. A result starting with
// "op " means an op outside the core set.
func EngineScope(g *ir.Graph) string {
	for _, n := range g.Nodes {
		switch {
		case n.Op == ir.OpOpaque:
			if _, core := ir.LookupOp(n.OpType); core && n.Domain == "" {
				continue // a core op the importer kept opaque (e.g. an old opset): in scope, and the engine fails it
			}
			return "op " + n.TypeName()
		case n.Op == ir.OpBatchNorm && n.Int("training_mode") != 0:
			return "batchnorm training"
		case n.Op == ir.OpDropout && n.Input(2) != nil:
			return "dropout training"
		case n.Op == ir.OpMaxPool && len(n.Outputs) > 1:
			return "maxpool argmax"
		}
	}
	for _, v := range append(slices.Clone(g.Inputs), g.Outputs...) {
		if v.DType != ir.Float32 && v.DType != ir.Int64 {
			return "dtype " + v.DType.String()
		}
	}
	return ""
}

// InputFiles returns the input .pb files of test_data_set_0 of the test in
// dir, keyed by the graph input each binds to: the name stored in the file,
// or the graph input at its position when the file names none.
func InputFiles(dir string, g *ir.Graph) (map[string]string, error) {
	set := filepath.Join(dir, "test_data_set_0")
	files := map[string]string{}
	for i := 0; ; i++ {
		p := filepath.Join(set, fmt.Sprintf("input_%d.pb", i))
		if _, err := os.Stat(p); err != nil {
			break
		}
		_, name, err := onnxio.ReadTensorFile(p)
		if err != nil {
			return nil, err
		}
		if name == "" && i < len(g.Inputs) {
			name = g.Inputs[i].Name
		}
		files[name] = p
	}
	return files, nil
}

// Inputs reads the tensors InputFiles names.
func Inputs(dir string, g *ir.Graph) (map[string]*ir.Tensor, error) {
	files, err := InputFiles(dir, g)
	if err != nil {
		return nil, err
	}
	feeds := map[string]*ir.Tensor{}
	for name, p := range files {
		t, _, err := onnxio.ReadTensorFile(p)
		if err != nil {
			return nil, err
		}
		feeds[name] = t
	}
	return feeds, nil
}

// Compare checks outputs, in graph-output order, against the expected
// output_N.pb files of test_data_set_0 with CloseTo.
func Compare(dir string, g *ir.Graph, got []*ir.Tensor, rtol, atol float64) error {
	if len(got) != len(g.Outputs) {
		return fmt.Errorf("%d outputs, want %d", len(got), len(g.Outputs))
	}
	for i := range g.Outputs {
		want, _, err := onnxio.ReadTensorFile(filepath.Join(dir, "test_data_set_0", fmt.Sprintf("output_%d.pb", i)))
		if err != nil {
			return err
		}
		if msg := CloseTo(got[i], want, rtol, atol); msg != "" {
			return fmt.Errorf("output %d (%s): %s", i, g.Outputs[i].Name, msg)
		}
	}
	return nil
}

// CloseTo reports how got differs from want: dtype, dims, or an element
// with |got−want| > atol + rtol·|want| (integers must be equal), or "".
func CloseTo(got, want *ir.Tensor, rtol, atol float64) string {
	if got.DType != want.DType || !slices.Equal(got.Dims, want.Dims) {
		return fmt.Sprintf("got %v%v, want %v%v", got.DType, got.Dims, want.DType, want.Dims)
	}
	gv, wv := got.Float64s(), want.Float64s()
	for i := range wv {
		g, w := gv[i], wv[i]
		if math.IsNaN(w) && math.IsNaN(g) || g == w {
			continue
		}
		if want.DType != ir.Float32 || math.Abs(g-w) > atol+rtol*math.Abs(w) || math.IsNaN(g) {
			return fmt.Sprintf("element %d = %g, want %g", i, g, w)
		}
	}
	return ""
}

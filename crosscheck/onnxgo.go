package crosscheck

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"sort"
	"strings"

	"github.com/ferminets/fermi/ir"
)

// GoModel is what onnx-go reports about a model.
type GoModel struct {
	Nodes   int            // operations (one per NodeProto)
	OpTypes map[string]int // operations per op type (without domain)
	Inputs  int            // graph inputs that are not initializers
	Outputs int
	Tensors map[string]GoTensor // data onnx-go attached to named values; initializers win over declared types
}

// GoTensor is a tensor as onnx-go decoded it.
type GoTensor struct {
	Shape  []int
	Values []float64 // the elements converted to float64
}

// dumpCmd is the helper that runs onnx-go. It is a separate binary because
// onnx-go and onnxio both register protobuf messages named "onnx.*", and a
// binary linking both panics at init.
const dumpCmd = "github.com/ferminets/fermi/crosscheck/internal/onnxgodump"

// DecodeGo decodes model with onnx-go (onnx.NewModel + UnmarshalBinary) in a
// helper process, `go run` of crosscheck/internal/onnxgodump (Go caches the
// binary), so the working directory must be inside this module.
func DecodeGo(model []byte) (*GoModel, error) {
	dir, err := os.MkdirTemp("", "crosscheck")
	if err != nil {
		return nil, fmt.Errorf("crosscheck: %v", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(path, model, 0o644); err != nil {
		return nil, fmt.Errorf("crosscheck: %v", err)
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goCmd, "run", dumpCmd, path)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := lastLine(stderr.Bytes())
		if msg == "" {
			msg = err.Error()
		}
		return nil, fmt.Errorf("crosscheck: onnx-go: %s", msg)
	}
	m := new(GoModel)
	if err := gob.NewDecoder(&stdout).Decode(m); err != nil {
		return nil, fmt.Errorf("crosscheck: reading onnx-go's report: %v", err)
	}
	if m.OpTypes == nil {
		m.OpTypes = map[string]int{}
	}
	if m.Tensors == nil {
		m.Tensors = map[string]GoTensor{}
	}
	return m, nil
}

// CompareGo reports every difference between g and what onnx-go decoded from
// g's encoding: node count, op-type histogram, input and output counts, and
// each parameter's presence, shape and values.
func CompareGo(g *ir.Graph, m *GoModel) error {
	var probs []string
	if m.Nodes != len(g.Nodes) {
		probs = append(probs, fmt.Sprintf("%d nodes, onnx-go %d", len(g.Nodes), m.Nodes))
	}
	ours := map[string]int{}
	for _, n := range g.Nodes {
		if n.Op == ir.OpOpaque {
			ours[n.OpType]++
		} else {
			ours[n.Op.String()]++
		}
	}
	if !reflect.DeepEqual(ours, m.OpTypes) {
		probs = append(probs, fmt.Sprintf("op types %s, onnx-go %s", histogram(ours), histogram(m.OpTypes)))
	}
	if m.Inputs != len(g.Inputs) {
		probs = append(probs, fmt.Sprintf("%d inputs, onnx-go %d", len(g.Inputs), m.Inputs))
	}
	if m.Outputs != len(g.Outputs) {
		probs = append(probs, fmt.Sprintf("%d outputs, onnx-go %d", len(g.Outputs), m.Outputs))
	}
	for _, p := range g.Params {
		gt, ok := m.Tensors[p.Name]
		if !ok {
			probs = append(probs, fmt.Sprintf("parameter %q missing in onnx-go", p.Name))
			continue
		}
		if !sameShape(p.Const.Dims, gt.Shape) {
			probs = append(probs, fmt.Sprintf("parameter %q: shape %v, onnx-go %v", p.Name, p.Const.Dims, gt.Shape))
			continue
		}
		if want := p.Const.Float64s(); !sameValues(want, gt.Values) {
			probs = append(probs, fmt.Sprintf("parameter %q: values differ from onnx-go's", p.Name))
		}
	}
	if len(probs) > 0 {
		return fmt.Errorf("crosscheck: onnx-go disagrees: %s", strings.Join(probs, "; "))
	}
	return nil
}

func histogram(h map[string]int) string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s×%d", k, h[k])
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// sameShape compares dims, treating gorgonia's scalar shapes ([] or [1]) as
// equal to a rank-0 or one-element rank-1 shape.
func sameShape(dims []int64, shape []int) bool {
	if len(dims) <= 1 && len(shape) <= 1 && ir.NumElements(dims) == 1 {
		n := 1
		for _, s := range shape {
			n *= s
		}
		return n == 1
	}
	if len(dims) != len(shape) {
		return false
	}
	for i := range dims {
		if dims[i] != int64(shape[i]) {
			return false
		}
	}
	return true
}

func sameValues(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

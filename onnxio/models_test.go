package onnxio

import (
	"bytes"
	"errors"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/ferminets/fermi/internal/sharedmodels"
	"github.com/ferminets/fermi/ir"
)

// TestSharedModels imports the real PyTorch exports, checks facts their
// README states, and that export and re-import give the same graph and
// deterministic bytes.
func TestSharedModels(t *testing.T) {
	// Node counts before ONNX Runtime's optimizer, from the models' README.
	tests := []struct {
		file  string
		nodes int // 0: not stated
		ch    int64
	}{
		{"fashion-lenet5.onnx", 0, 1},
		{"fashion-resnet20.onnx", 75, 1},
		{"mobilenet_v2-op13.onnx", 222, 3},
		{"squeezenet1_1-op13.onnx", 83, 3},
		{"shufflenet_v2_x0_5-op13.onnx", 976, 3},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := sharedmodels.Path(t, tc.file)
			g, err := ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if tc.nodes != 0 && len(g.Nodes) != tc.nodes {
				t.Errorf("%d nodes, want %d", len(g.Nodes), tc.nodes)
			}
			in, out := g.Inputs[0], g.Outputs[0]
			if len(g.Inputs) != 1 || in.Name != "input" || in.DType != ir.Float32 || len(in.Shape) != 4 || in.Shape[0] != ir.Sym("N") || in.Shape[1] != ir.D(tc.ch) {
				t.Errorf("input %q %v %v, want input f32 [N,%d,..]", in.Name, in.DType, in.Shape, tc.ch)
			}
			if out.Name != "logits" || out.DType != ir.Float32 || !out.Shape.Equal(ir.Shape{ir.Sym("N"), ir.D(10)}) && !out.Shape.Equal(ir.Shape{ir.Sym("N"), ir.D(1000)}) {
				t.Errorf("output %q %v %v, want logits f32 [N,10] or [N,1000]", out.Name, out.DType, out.Shape)
			}
			if g.Opset() != 13 || len(g.Remarks) != 0 {
				t.Errorf("opset %d, remarks %q", g.Opset(), g.Remarks)
			}
			for _, n := range g.Nodes {
				if n.Op == ir.OpOpaque {
					t.Errorf("node %q (%s) is opaque", n.Name, n.TypeName())
				}
				if n.Op == ir.OpClip && (len(n.Inputs) != 3 || ir.ConstValue(n.Inputs[1]) == nil || ir.ConstValue(n.Inputs[2]) == nil) {
					t.Errorf("Clip %q inputs %v, want constant bounds", n.Name, n.Inputs)
				}
			}
			b1, err := Encode(g, WriteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			b2, err := Encode(g, WriteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b1, b2) {
				t.Error("two encodings of one graph differ")
			}
			g2, err := Decode(b1, ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if err := ir.Equal(g, g2); err != nil {
				t.Error(err)
			}
			b3, err := Encode(g2, WriteOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b1, b3) {
				t.Error("re-encoding the re-imported graph changed the bytes")
			}
		})
	}
}

// errorKind reduces an error message to its kind by blanking out quoted
// names and numbers.
var errorKindRE = regexp.MustCompile(`"[^"]*"|%[A-Za-z0-9_]+|[0-9]+`)

// TestONNXBackendModels imports every model of ONNX's backend test suite
// (node, pytorch-converted, pytorch-operator, simple): each must give a
// verified graph that survives export and re-import, or a clean error.
// Counts by error kind are logged (go test -v).
func TestONNXBackendModels(t *testing.T) {
	files, _ := filepath.Glob("/usr/share/libonnx-testdata/data/*/*/model.onnx")
	if len(files) == 0 {
		t.Skip("ONNX test data not installed")
	}
	kinds := make(map[string]int)
	var ok, opaque, oldOpset int
	for _, path := range files {
		test := filepath.Base(filepath.Dir(path))
		g, err := ReadFile(path)
		if err != nil {
			msg := strings.SplitN(err.Error(), "\n", 2)[0]
			if !strings.HasPrefix(msg, "onnxio: ") && !strings.HasPrefix(msg, "ir: ") {
				t.Errorf("%s: error without package prefix: %v", test, err)
			}
			kinds[errorKindRE.ReplaceAllString(msg, "_")]++
			var oe *OpsetError
			if errors.As(err, &oe) {
				oldOpset++
			}
			continue
		}
		ok++
		for _, n := range g.Nodes {
			if n.Op == ir.OpOpaque {
				opaque++
				break
			}
		}
		b, err := Encode(g, WriteOptions{})
		if err != nil {
			t.Errorf("%s: Encode: %v", test, err)
			continue
		}
		g2, err := Decode(b, ReadOptions{})
		if err != nil {
			t.Errorf("%s: Decode(Encode): %v", test, err)
			continue
		}
		g.IRVersion, g.Opsets = g2.IRVersion, g2.Opsets // raised to the export opset
		if err := ir.Equal(g, g2); err != nil {
			t.Errorf("%s: round trip: %v", test, err)
		}
	}
	t.Logf("%d models: %d imported (%d with opaque nodes), %d errors", len(files), ok, opaque, len(files)-ok)
	var ks []string
	for k := range kinds {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		return kinds[ks[i]] > kinds[ks[j]] || kinds[ks[i]] == kinds[ks[j]] && ks[i] < ks[j]
	})
	for _, k := range ks {
		t.Logf("%4d  %s", kinds[k], k)
	}
	// Most models in the opset range are plain tensor ops the importer must
	// handle (the rest need sequence types or type inference of ops outside
	// the core set).
	if inRange := len(files) - oldOpset; ok < inRange*85/100 {
		t.Errorf("only %d of %d models with a supported opset imported", ok, inRange)
	}
}

// TestDecodeLargeModel imports a 100 MB model and checks time and memory:
// tensors are converted without extra copies, so Decode allocates about the
// file size once (the protobuf copy of raw_data, which the tensors then
// share).
func TestDecodeLargeModel(t *testing.T) {
	if testing.Short() {
		t.Skip("large model")
	}
	const n = 25 << 20 / 4 // floats per param: 4 params of 25 MiB
	b := ir.NewBuilder("big")
	x := b.Input("x", ir.Float32, ir.Static(n))
	y := x
	for i := 0; i < 4; i++ {
		w := make([]float32, n)
		w[i] = float32(i + 1)
		y = b.Node(ir.OpAdd, "", []*ir.Value{y, b.Param("w", ir.NewFloat32([]int64{n}, w))})
	}
	b.Output(y)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	data, err := Encode(g, WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g = nil
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	g2, err := Decode(data, ReadOptions{})
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("decoded %d MB in %v, allocating %d MB", len(data)>>20, elapsed, alloc>>20)
	// Peak memory is at most the file plus everything Decode allocates.
	if limit := uint64(len(data)) * 2; alloc > limit {
		t.Errorf("Decode allocated %d bytes for a %d-byte model; want at most %d (peak under 3x the file)", alloc, len(data), limit)
	}
	// Speed is a benchmark's job (make bench-import), not a unit test's: a
	// loaded machine must not fail the suite.
	if p := g2.Params[3].Const.F32; p[3] != 4 {
		t.Errorf("param data wrong: %v", p[:4])
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/modelfile"
	"github.com/ferminets/fermi/onnxio"
)

const tinyCNN = "../../testdata/ir/tiny-cnn.fir"

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = mainErr(args, &out, &errb)
	return code, out.String(), errb.String()
}

// TestRoundTrip carries tiny-cnn through ONNX and back to .fir and expects the
// identical graph.
func TestRoundTrip(t *testing.T) {
	dir := t.TempDir()
	onnx := filepath.Join(dir, "tiny.onnx")
	fir := filepath.Join(dir, "tiny.fir")
	if code, _, stderr := run(t, tinyCNN, "--passes", "none", "-o", onnx); code != 0 {
		t.Fatalf("compile to onnx: exit %d: %s", code, stderr)
	}
	if code, _, stderr := run(t, onnx, "--passes", "none", "-o", fir); code != 0 {
		t.Fatalf("compile to fir: exit %d: %s", code, stderr)
	}
	want, err := ir.ParseFile(tinyCNN)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ir.ParseFile(fir)
	if err != nil {
		t.Fatal(err)
	}
	// The ONNX trip adds nothing the IR models except what the exporter
	// writes about itself; compare the network.
	if len(got.Nodes) != len(want.Nodes) || len(got.Params) != len(want.Params) {
		t.Fatalf("round trip changed the graph: %d nodes %d params, want %d, %d",
			len(got.Nodes), len(got.Params), len(want.Nodes), len(want.Params))
	}
	for i, p := range want.Params {
		q := got.Params[i]
		if p.Name != q.Name || !p.Shape.Equal(q.Shape) || len(p.Const.F32) != len(q.Const.F32) {
			t.Fatalf("param %d: got %s %v, want %s %v", i, q.Name, q.Shape, p.Name, p.Shape)
		}
		for j := range p.Const.F32 {
			if p.Const.F32[j] != q.Const.F32[j] {
				t.Fatalf("param %s[%d] = %v, want %v", p.Name, j, q.Const.F32[j], p.Const.F32[j])
			}
		}
	}
}

// TestReportJSON checks the report's totals against counts made by hand for
// tiny-cnn: conv1 8·9·784, conv2 16·72·196, fc 10·784 MACs.
func TestReportJSON(t *testing.T) {
	code, stdout, stderr := run(t, tinyCNN, "--passes", "none", "--report-json", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r struct {
		MACs   int64             `json:"macs"`
		Params int64             `json:"params"`
		Nodes  []json.RawMessage `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, stdout)
	}
	wantMACs := int64(8*9*784 + 16*72*196 + 10*784)
	// conv1 72+8, bn1 folds into conv1 (bias exists), conv2 1152+16, fc 7840+10.
	wantParams := int64(72 + 8 + 1152 + 16 + 7840 + 10)
	if r.MACs != wantMACs || r.Params != wantParams {
		t.Errorf("macs %d params %d, want %d and %d", r.MACs, r.Params, wantMACs, wantParams)
	}
	if len(r.Nodes) != 9 {
		t.Errorf("%d node rows, want 9", len(r.Nodes))
	}
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.onnx")
	os.WriteFile(bad, []byte("not a protobuf at all \xff\xff"), 0o644)
	empty := filepath.Join(dir, "empty.onnx")
	os.WriteFile(empty, nil, 0o644)
	out := filepath.Join(dir, "out.onnx")
	tests := []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{}, 2, "want exactly one model file"},
		{[]string{"--no-such-flag", tinyCNN}, 2, "unknown flag"},
		{[]string{tinyCNN, "--emit", "asm"}, 2, "--emit"},
		{[]string{tinyCNN, "--passes", "fold-bn,no-such-pass"}, 2, "no-such-pass"},
		{[]string{tinyCNN, "--target", "cortex-m7"}, 2, "--calib"},
		{[]string{tinyCNN, "--input-shape", "input:1,x"}, 2, "input"},
		{[]string{tinyCNN, "--passes", "prune{ratio=0.5}", "--check-equivalence"}, 2, "does not preserve semantics"},
		{[]string{tinyCNN, "--passes", "fold-bn,fp16", "--check-equivalence"}, 0, "tolerance 0.01"}, // fp16's own bound
		{[]string{tinyCNN, "--passes", "fp16", "--check-equivalence", "--tol", "1e-9"}, 1, "exceeds tolerance 1e-09"},
		{[]string{tinyCNN, "-o", "x.txt"}, 2, "unknown model format"},
		{[]string{filepath.Join(dir, "missing.onnx")}, 1, "missing.onnx"},
		{[]string{bad, "-o", out}, 1, "bad.onnx"},
		{[]string{empty, "-o", out}, 1, "empty"},
		{[]string{"run", tinyCNN}, 2, "--output-dir"},
		{[]string{"help"}, 0, ""},
		{[]string{"--help"}, 0, ""},
	}
	for _, tc := range tests {
		code, _, stderr := run(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("fcompile %v: exit %d, stderr %q; want exit %d containing %q", tc.args, code, stderr, tc.code, tc.msg)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a failed compile left %s behind", out)
	}
}

func TestHelpHasExample(t *testing.T) {
	_, stdout, _ := run(t, "help")
	if !strings.Contains(stdout, "Example") || !strings.Contains(stdout, "fcompile testdata/ir/tiny-cnn.fir") {
		t.Errorf("help lacks examples:\n%s", stdout)
	}
}

func TestTargetReport(t *testing.T) {
	code, stdout, stderr := run(t, tinyCNN, "--target", "pixel1", "--report-json", "-")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"macs", "params", "latency_ms", "energy_mj", "peak_memory_bytes", "fits", "target"} {
		if _, ok := r[key]; !ok {
			t.Errorf("report lacks %q", key)
		}
	}
	if lat, _ := r["latency_ms"].(float64); lat <= 0 {
		t.Errorf("latency_ms = %v, want > 0", r["latency_ms"])
	}
	if code, _, stderr := run(t, tinyCNN, "--passes", "none", "--target", "cortex-m7", "--strict"); code != 1 || !strings.Contains(stderr, "static shapes") {
		t.Errorf("--strict on a dynamic-batch model for cortex-m7: exit %d, %q", code, stderr)
	}
	if code, _, _ := run(t, tinyCNN, "--target", "no-such-chip"); code != 2 {
		t.Errorf("unknown target: exit %d, want 2", code)
	}
	if code, stdout, _ := run(t, "targets"); code != 0 || !strings.Contains(stdout, "cortex-m7") {
		t.Errorf("targets: exit %d:\n%s", code, stdout)
	}
}

// TestDefaultPipeline compiles tiny-cnn with the host target's pipeline:
// the BatchNormalization folds into conv1, the engine agrees within the
// tolerance, and the report counts what remains.
func TestDefaultPipeline(t *testing.T) {
	out := filepath.Join(t.TempDir(), "tiny.fir")
	code, _, stderr := run(t, tinyCNN, "--check-equivalence", "--verify-each", "--stats", "-o", out)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	g, err := ir.ParseFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range g.Nodes {
		if n.Op == ir.OpBatchNorm {
			t.Errorf("BatchNormalization %q survived the default pipeline", n.Name)
		}
	}
	if len(g.Nodes) != 8 {
		t.Errorf("%d nodes after the default pipeline, want 8 (9 minus the folded BatchNormalization)", len(g.Nodes))
	}
	if !strings.Contains(stderr, "equivalence: max abs error") || !strings.Contains(stderr, "fold-bn") {
		t.Errorf("stderr lacks the equivalence line or the stats table:\n%s", stderr)
	}
	code, stdout, stderr := run(t, tinyCNN, "--input-shape", "input:2,1,28,28", "--emit", "ir")
	if code != 0 {
		t.Fatalf("--input-shape: exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "%input: f32[2,1,28,28]") || strings.Contains(stdout, "[N,") {
		t.Errorf("--input-shape left the batch dynamic:\n%s", stdout)
	}
}

// TestGuards covers the flags that protect users from themselves: -o naming
// the input, --max-memory on the file, and a tiny model whose activations no
// machine holds (Resize by 10^5 in both spatial dims), which run must refuse
// before the engine allocates.
func TestGuards(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "tiny.fir")
	src, err := os.ReadFile(tinyCNN)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(in, src, 0o644)
	if code, _, stderr := run(t, in, "-o", in); code != 2 || !strings.Contains(stderr, "is the input file") {
		t.Errorf("-o = input: exit %d, %q", code, stderr)
	}
	if got, _ := os.ReadFile(in); !bytes.Equal(got, src) {
		t.Error("-o = input changed the input")
	}
	if code, _, stderr := run(t, in, "--passes", "none", "-o", in, "--force"); code != 0 {
		t.Errorf("-o = input --force: exit %d, %q", code, stderr)
	}
	if code, _, stderr := run(t, in, "--max-memory", "1KiB"); code != 1 || !strings.Contains(stderr, "limit") {
		t.Errorf("--max-memory 1KiB: exit %d, %q", code, stderr)
	}
	if code, _, _ := run(t, in, "--max-memory", "lots"); code != 2 {
		t.Errorf("--max-memory lots: exit %d, want 2", code)
	}

	b := ir.NewBuilder("bomb")
	x := b.Input("x", ir.Float32, ir.Static(1, 1, 4, 4))
	scales := b.Param("scales", ir.NewFloat32([]int64{4}, []float32{1, 1, 1e5, 1e5}))
	y := b.Node(ir.OpResize, "resize", []*ir.Value{x, nil, scales})
	b.Output(y)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	bomb := filepath.Join(dir, "bomb.fir")
	if err := modelfile.Save(g, bomb, modelfile.SaveOptions{}); err != nil {
		t.Fatal(err)
	}
	xpb := filepath.Join(dir, "x.pb")
	if err := onnxio.WriteTensorFile(xpb, "x", ir.NewFloat32([]int64{1, 1, 4, 4}, make([]float32, 16))); err != nil {
		t.Fatal(err)
	}
	code, _, stderr := run(t, "run", bomb, "--input", "x="+xpb, "--output-dir", filepath.Join(dir, "out"))
	if code != 1 || !strings.Contains(stderr, "activations need") {
		t.Errorf("run on a Resize bomb: exit %d, %q", code, stderr)
	}
}

// Package acceptance holds end-to-end tests of the acceptance figures.
// They run real third-party tools (ONNX Runtime, the Python onnx checker,
// onnx-go) on real models, skip locally when a tool is missing and fail under
// CI=true.
package acceptance

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ferminets/fermi/crosscheck"
	"github.com/ferminets/fermi/internal/sharedmodels"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio"
	"github.com/ferminets/fermi/ortrun"
)

// backendTestData is where Debian's libonnx-testdata installs the ONNX
// backend test models.
const backendTestData = "/usr/share/libonnx-testdata/data"

// roundTripTol is the largest absolute difference allowed between ORT's
// outputs on an original model and on its re-export (integers: exact).
const roundTripTol = 1e-6

// ortOptions run every model single-threaded: the machine is shared, and one
// thread makes ORT's reductions deterministic.
var ortOptions = ortrun.Options{IntraOpThreads: 1}

// repoRoot returns the directory holding go.mod above the working directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// requireDir skips (fails under CI=true) when dir does not exist.
func requireDir(t *testing.T, dir, what string) {
	t.Helper()
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %s missing: %v", what, err)
		}
		t.Skipf("%s missing: %v", what, err)
	}
}

// diff compares two output tensors: same dtype and dims, integer and bool
// data equal, floating-point data within tol (NaN matches NaN, infinities
// must match exactly). It returns the largest absolute difference.
func diff(got, want *ir.Tensor, tol float64) (float64, error) {
	if got.DType != want.DType {
		return 0, fmt.Errorf("dtype %v, want %v", got.DType, want.DType)
	}
	if fmt.Sprint(got.Dims) != fmt.Sprint(want.Dims) {
		return 0, fmt.Errorf("dims %v, want %v", got.Dims, want.Dims)
	}
	if got.DType == ir.String {
		if fmt.Sprint(got.Strs) != fmt.Sprint(want.Strs) {
			return 0, errors.New("strings differ")
		}
		return 0, nil
	}
	a, b := got.Float64s(), want.Float64s()
	if len(a) != len(b) {
		return 0, fmt.Errorf("%d elements, want %d", len(a), len(b))
	}
	if !got.DType.IsFloat() {
		if got.DType == ir.Int64 || got.DType == ir.Uint64 { // exact beyond 2^53
			ai, bi := got.Int64s(), want.Int64s()
			if got.DType == ir.Uint64 {
				ai, bi = rawWords(got.Raw), rawWords(want.Raw)
			}
			for i := range ai {
				if ai[i] != bi[i] {
					return 0, fmt.Errorf("element %d: %d, want %d", i, ai[i], bi[i])
				}
			}
			return 0, nil
		}
		for i := range a {
			if a[i] != b[i] {
				return 0, fmt.Errorf("element %d: %v, want %v", i, a[i], b[i])
			}
		}
		return 0, nil
	}
	var maxd float64
	for i := range a {
		switch {
		case math.IsNaN(a[i]) || math.IsNaN(b[i]):
			if math.IsNaN(a[i]) != math.IsNaN(b[i]) {
				return 0, fmt.Errorf("element %d: %v, want %v", i, a[i], b[i])
			}
		case math.IsInf(a[i], 0) || math.IsInf(b[i], 0):
			if a[i] != b[i] {
				return 0, fmt.Errorf("element %d: %v, want %v", i, a[i], b[i])
			}
		default:
			d := math.Abs(a[i] - b[i])
			if d > maxd {
				maxd = d
			}
			if d > tol {
				return d, fmt.Errorf("element %d: %v, want %v (|diff| %.3g > %.3g)", i, a[i], b[i], d, tol)
			}
		}
	}
	return maxd, nil
}

// rawWords reads little-endian 64-bit words.
func rawWords(raw []byte) []int64 {
	out := make([]int64, len(raw)/8)
	for i := range out {
		var w uint64
		for j := 7; j >= 0; j-- {
			w = w<<8 | uint64(raw[8*i+j])
		}
		out[i] = int64(w)
	}
	return out
}

// diffOutputs compares two ORT result maps output by output.
func diffOutputs(got, want map[string]*ir.Tensor, tol float64) (float64, error) {
	if len(got) != len(want) {
		return 0, fmt.Errorf("%d outputs, want %d", len(got), len(want))
	}
	names := make([]string, 0, len(want))
	for name := range want {
		names = append(names, name)
	}
	sort.Strings(names)
	var maxd float64
	for _, name := range names {
		g, ok := got[name]
		if !ok {
			return 0, fmt.Errorf("output %q missing", name)
		}
		d, err := diff(g, want[name], tol)
		if err != nil {
			return d, fmt.Errorf("output %q: %v", name, err)
		}
		maxd = math.Max(maxd, d)
	}
	return maxd, nil
}

// testCase is one backend test: a model and its data sets.
type testCase struct {
	dir   string                  // relative to backendTestData
	sets  []map[string]*ir.Tensor // inputs by name, per data set
	wants [][]*ir.Tensor          // reference outputs, per data set
	names [][]string              // reference output names (may be empty)
	ops   map[string]bool         // default-domain op types
	extra []string                // op types outside the core set (domain-qualified)
	model []byte                  // the original model
	scan  *crosscheck.Model       // its structure
	ins   []string                // graph inputs that are not initializers, in order
	err   error                   // why the model could not be read
}

// scanCase reads model.onnx and sorts its ops into core and other.
func scanCase(root, dir string) *testCase {
	tc := &testCase{dir: dir, ops: map[string]bool{}}
	var err error
	if tc.model, err = os.ReadFile(filepath.Join(root, dir, "model.onnx")); err != nil {
		tc.err = err
		return tc
	}
	if tc.scan, err = crosscheck.Scan(tc.model); err != nil {
		tc.err = err
		return tc
	}
	for _, n := range tc.scan.Nodes {
		if n.IsDefaultDomain() {
			tc.ops[n.OpType] = true
			if _, ok := ir.LookupOp(n.OpType); ok {
				continue
			}
			tc.extra = append(tc.extra, n.OpType)
		} else {
			tc.extra = append(tc.extra, n.Domain+"."+n.OpType)
		}
	}
	inits := map[string]bool{}
	for _, name := range tc.scan.Initializers {
		inits[name] = true
	}
	for _, name := range tc.scan.Inputs {
		if !inits[name] {
			tc.ins = append(tc.ins, name)
		}
	}
	return tc
}

// loadData reads the test_data_set_* directories. The backend tests store
// bfloat16 tensors as uint16 (numpy has no bfloat16); those are retyped to
// the model's bfloat16 inputs, bits unchanged.
func (tc *testCase) loadData(root string, inputTypes map[string]ir.DType) error {
	sets, _ := filepath.Glob(filepath.Join(root, tc.dir, "test_data_set_*"))
	sort.Strings(sets)
	for _, set := range sets {
		inputs, _, err := readTensors(set, "input", tc.ins)
		if err != nil {
			return err
		}
		wants, names, err := readTensors(set, "output", nil)
		if err != nil {
			return err
		}
		m := make(map[string]*ir.Tensor, len(inputs))
		for i, t := range inputs {
			name := nameAt(tc.ins, i)
			if t.DType == ir.Uint16 && inputTypes[name] == ir.BFloat16 {
				t.DType = ir.BFloat16
			}
			m[name] = t
		}
		tc.sets = append(tc.sets, m)
		tc.wants = append(tc.wants, wants)
		tc.names = append(tc.names, names)
	}
	if len(tc.sets) == 0 {
		return errors.New("no test data sets")
	}
	return nil
}

// nameAt returns names[i], or "" past the end.
func nameAt(names []string, i int) string {
	if i < len(names) {
		return names[i]
	}
	return ""
}

var pbIndex = regexp.MustCompile(`_(\d+)\.pb$`)

// readTensors reads <prefix>_<i>.pb in index order. Inputs are matched to
// graph inputs by position (the backend tests' convention); a tensor's own
// name, when set, must agree.
func readTensors(dir, prefix string, graphNames []string) ([]*ir.Tensor, []string, error) {
	paths, _ := filepath.Glob(filepath.Join(dir, prefix+"_*.pb"))
	sort.Slice(paths, func(i, j int) bool {
		a, _ := strconv.Atoi(pbIndex.FindStringSubmatch(paths[i])[1])
		b, _ := strconv.Atoi(pbIndex.FindStringSubmatch(paths[j])[1])
		return a < b
	})
	var ts []*ir.Tensor
	var names []string
	for i, p := range paths {
		t, name, err := onnxio.ReadTensorFile(p)
		if err != nil {
			return nil, nil, err
		}
		if graphNames != nil && name != "" && name != nameAt(graphNames, i) {
			return nil, nil, fmt.Errorf("%s: tensor %q, graph input %d is %q", p, name, i, nameAt(graphNames, i))
		}
		ts = append(ts, t)
		names = append(names, name)
	}
	return ts, names, nil
}

// opStat is one row of the per-op table.
type opStat struct {
	Op         string `json:"op"`
	InScope    int    `json:"in_scope"`
	Passed     int    `json:"passed"`
	Failed     int    `json:"failed"`
	ORTCannot  int    `json:"ort_cannot_run"`
	OutOfScope int    `json:"out_of_scope"` // models with only core ops that are out of scope for their opset or non-tensor I/O
}

// roundTripReport is the JSON written to bench/results/onnx-backend-roundtrip.json.
type roundTripReport struct {
	Description     string            `json:"description"`
	TestData        string            `json:"test_data"`
	ORTVersion      string            `json:"ort_version"`
	Tolerance       float64           `json:"tolerance_abs"`
	Models          int               `json:"models"`
	InScope         int               `json:"in_scope"`
	Passed          int               `json:"passed"`
	Failed          int               `json:"failed"`
	ORTCannotRun    int               `json:"ort_cannot_run"`
	OutOfScopeOps   int               `json:"out_of_scope_ops"`
	OutOfScopeOpset int               `json:"out_of_scope_opset"`
	OutOfScopeTypes int               `json:"out_of_scope_non_tensor_io"`
	Unreadable      int               `json:"unreadable"`
	MaxAbsDiff      float64           `json:"max_abs_diff"`
	RefAgree        int               `json:"ort_matches_reference_outputs"`
	RefChecked      int               `json:"reference_outputs_checked"`
	RefDisagree     []string          `json:"ort_differs_from_reference"`
	ByOp            []opStat          `json:"by_op"`
	NonCoreOps      map[string]int    `json:"non_core_ops"`
	Failures        map[string]string `json:"failures"`
	ORTFailures     map[string]string `json:"ort_cannot_run_models"`
	Seconds         float64           `json:"seconds"`
}

// TestONNXBackendRoundTrip imports every ONNX backend test model whose ops
// are all in the core set, exports it, and runs original and export in ONNX
// Runtime on the test's own inputs: outputs must agree within roundTripTol
// (integers exactly). Models whose original ORT cannot run are reported
// apart; they say nothing about us.
func TestONNXBackendRoundTrip(t *testing.T) {
	ortrun.Require(t)
	requireDir(t, backendTestData, "ONNX backend test data (Debian libonnx-testdata)")
	start := time.Now()
	var dirs []string
	err := filepath.WalkDir(backendTestData, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && d.Name() == "model.onnx" {
			rel, _ := filepath.Rel(backendTestData, filepath.Dir(path))
			dirs = append(dirs, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(dirs)
	version, _ := ortrun.Version()
	rep := roundTripReport{
		Description: "ONNX backend test models (Debian libonnx-testdata) whose ops are all in the core set and whose " +
			"default-domain opset onnxio imports: import, export at the default opset, run original and export in ONNX " +
			"Runtime on the test inputs, outputs compared",
		TestData: backendTestData, ORTVersion: version, Tolerance: roundTripTol, Models: len(dirs),
		NonCoreOps: map[string]int{}, Failures: map[string]string{}, ORTFailures: map[string]string{},
	}
	stats := map[string]*opStat{}
	stat := func(op string) *opStat {
		if stats[op] == nil {
			stats[op] = &opStat{Op: op}
		}
		return stats[op]
	}
	for _, dir := range dirs {
		tc := scanCase(backendTestData, dir)
		if tc.err != nil {
			rep.Unreadable++
			rep.Failures[dir] = "unreadable model: " + tc.err.Error()
			t.Errorf("%s: unreadable model: %v", dir, tc.err)
			continue
		}
		opset := tc.scan.Opset("")
		switch {
		case len(tc.extra) > 0:
			rep.OutOfScopeOps++
			seen := map[string]bool{}
			for _, op := range tc.extra {
				if !seen[op] {
					rep.NonCoreOps[op]++
					seen[op] = true
				}
			}
			continue
		case opset < onnxio.MinOpset || opset > onnxio.MaxOpset:
			rep.OutOfScopeOpset++
			for op := range tc.ops {
				stat(op).OutOfScope++
			}
			continue
		case len(tc.scan.NonTensor) > 0:
			rep.OutOfScopeTypes++
			for op := range tc.ops {
				stat(op).OutOfScope++
			}
			continue
		}
		status, maxd, why := roundTripCase(tc, &rep)
		rep.MaxAbsDiff = math.Max(rep.MaxAbsDiff, maxd)
		for op := range tc.ops {
			s := stat(op)
			switch status {
			case "ort":
				s.ORTCannot++
			case "pass":
				s.InScope++
				s.Passed++
			default:
				s.InScope++
				s.Failed++
			}
		}
		switch status {
		case "ort":
			rep.ORTCannotRun++
			rep.ORTFailures[dir] = why
		case "pass":
			rep.InScope++
			rep.Passed++
		default:
			rep.InScope++
			rep.Failed++
			rep.Failures[dir] = why
			t.Errorf("%s: %s", dir, why)
		}
	}
	for _, s := range stats {
		rep.ByOp = append(rep.ByOp, *s)
	}
	sort.Slice(rep.ByOp, func(i, j int) bool { return rep.ByOp[i].Op < rep.ByOp[j].Op })
	rep.Seconds = math.Round(time.Since(start).Seconds()*10) / 10

	var tab strings.Builder
	fmt.Fprintf(&tab, "%-20s %8s %6s %6s %10s %12s\n", "op", "in scope", "passed", "failed", "ORT can't", "out of scope")
	for _, s := range rep.ByOp {
		fmt.Fprintf(&tab, "%-20s %8d %6d %6d %10d %12d\n", s.Op, s.InScope, s.Passed, s.Failed, s.ORTCannot, s.OutOfScope)
	}
	t.Logf("ONNX backend round trip, per op (a model counts once for each op it uses):\n%s", tab.String())
	t.Logf("models %d: in scope %d, passed %d, failed %d; the original does not run in ORT: %d; out of scope: %d with non-core ops, %d with only core ops but an opset outside %d..%d, %d with only core ops but non-tensor inputs or outputs; unreadable %d",
		rep.Models, rep.InScope, rep.Passed, rep.Failed, rep.ORTCannotRun, rep.OutOfScopeOps, rep.OutOfScopeOpset,
		onnxio.MinOpset, onnxio.MaxOpset, rep.OutOfScopeTypes, rep.Unreadable)
	t.Logf("max |diff| original vs export: %.3g; ORT vs the reference outputs (harness sanity, rtol 1e-3 atol 1e-5): %d of %d data sets agree; %.1f s",
		rep.MaxAbsDiff, rep.RefAgree, rep.RefChecked, rep.Seconds)
	for _, dir := range sortedKeys(rep.ORTFailures) {
		t.Logf("original does not run in ORT: %s: %s", dir, rep.ORTFailures[dir])
	}
	if len(rep.RefDisagree) > 0 {
		t.Logf("ORT differs from the reference outputs (not counted): %s", strings.Join(rep.RefDisagree, ", "))
	}
	if rep.InScope == 0 {
		t.Error("no model in scope")
	}
	if os.Getenv("FERMI_WRITE_RESULTS") == "1" {
		writeJSON(t, filepath.Join(repoRoot(t), "bench", "results", "onnx-backend-roundtrip.json"), rep)
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", path)
}

// roundTripCase runs one in-scope model: "pass", "fail" or "ort" (ORT cannot
// run the original), the largest difference seen, and why it did not pass.
func roundTripCase(tc *testCase, rep *roundTripReport) (status string, maxd float64, why string) {
	orig, err := ortrun.NewSession(tc.model, ortOptions)
	if err != nil {
		return "ort", 0, err.Error()
	}
	defer orig.Close()
	types := map[string]ir.DType{}
	for _, in := range orig.Inputs() {
		types[in.Name] = in.DType
	}
	if err := tc.loadData(backendTestData, types); err != nil {
		return "fail", 0, "test data: " + err.Error()
	}
	var origOuts []map[string]*ir.Tensor
	for i, in := range tc.sets {
		out, err := orig.Run(in)
		if err != nil {
			return "ort", 0, fmt.Sprintf("data set %d: %v", i, err)
		}
		origOuts = append(origOuts, out)
		rep.RefChecked++
		if matchesReference(out, orig.OutputNames(), tc.wants[i], tc.names[i]) {
			rep.RefAgree++
		} else {
			rep.RefDisagree = append(rep.RefDisagree, fmt.Sprintf("%s/%d", tc.dir, i))
		}
	}
	g, err := onnxio.Decode(tc.model, onnxio.ReadOptions{})
	if err != nil {
		return "fail", 0, "import: " + err.Error()
	}
	exported, err := onnxio.Encode(g, onnxio.WriteOptions{})
	if err != nil {
		return "fail", 0, "export: " + err.Error()
	}
	re, err := ortrun.NewSession(exported, ortOptions)
	if err != nil {
		return "fail", 0, "ORT on the export: " + err.Error()
	}
	defer re.Close()
	for i, in := range tc.sets {
		out, err := re.Run(in)
		if err != nil {
			return "fail", maxd, fmt.Sprintf("ORT on the export, data set %d: %v", i, err)
		}
		d, err := diffOutputs(out, origOuts[i], roundTripTol)
		maxd = math.Max(maxd, d)
		if err != nil {
			return "fail", maxd, fmt.Sprintf("data set %d: export differs from original: %v", i, err)
		}
	}
	return "pass", maxd, ""
}

// matchesReference compares ORT's outputs with the test's reference outputs
// at the backend tests' own tolerance (rtol 1e-3, atol 1e-5), by position.
func matchesReference(out map[string]*ir.Tensor, order []string, wants []*ir.Tensor, names []string) bool {
	if len(wants) != len(order) {
		return false
	}
	for i, w := range wants {
		name := order[i]
		if names[i] != "" {
			name = names[i]
		}
		g, ok := out[name]
		if !ok || g.DType != w.DType || fmt.Sprint(g.Dims) != fmt.Sprint(w.Dims) {
			return false
		}
		if g.DType == ir.String {
			continue
		}
		a, b := g.Float64s(), w.Float64s()
		for j := range a {
			if math.IsNaN(a[j]) && math.IsNaN(b[j]) || a[j] == b[j] {
				continue
			}
			if math.Abs(a[j]-b[j]) > 1e-5+1e-3*math.Abs(b[j]) {
				return false
			}
		}
	}
	return true
}

// sharedModels returns the real models (see package sharedmodels).
func sharedModels(t *testing.T) []string {
	dir := sharedmodels.Require(t)
	paths, err := filepath.Glob(filepath.Join(dir, "*.onnx"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no models in %s", dir)
	}
	return paths
}

// TestSharedModelsRoundTrip imports and exports each real model and checks
// the export three ways: the ONNX checker (full_check), ORT outputs on seeded
// random inputs against the original's, and onnx-go's reading of it.
func TestSharedModelsRoundTrip(t *testing.T) {
	ortrun.Require(t)
	crosscheck.RequireChecker(t)
	for _, path := range sharedModels(t) {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".onnx"), func(t *testing.T) {
			orig, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			g, err := onnxio.ReadFile(path)
			if err != nil {
				t.Fatalf("import: %v", err)
			}
			exported, err := onnxio.Encode(g, onnxio.WriteOptions{})
			if err != nil {
				t.Fatalf("export: %v", err)
			}
			// WriteFile writes what Encode returns.
			file := filepath.Join(t.TempDir(), "export.onnx")
			if err := onnxio.WriteFile(g, file, onnxio.WriteOptions{}); err != nil {
				t.Fatalf("WriteFile: %v", err)
			}
			if written, err := os.ReadFile(file); err != nil || !bytes.Equal(written, exported) {
				t.Errorf("WriteFile wrote %d bytes, Encode %d (err %v), not the same bytes", len(written), len(exported), err)
			}

			// 1. The ONNX checker.
			checked := "export"
			err = crosscheck.CheckFile(file)
			if errors.Is(err, crosscheck.ErrOpsetTooNew) {
				// Debian's onnx 1.12 knows opsets up to 17: check the export at 17.
				checked = "export at opset 17"
				var b []byte
				if b, err = onnxio.Encode(g, onnxio.WriteOptions{Opset: 17}); err == nil {
					err = crosscheck.Check(b)
				}
			}
			if err != nil {
				t.Errorf("onnx.checker on the %s: %v", checked, err)
			}

			// 2. ORT: the export computes what the original computes.
			inputs, err := ortrun.RandomInputs(g, 1, 2)
			if err != nil {
				t.Fatal(err)
			}
			want, err := ortrun.Run(orig, inputs, ortOptions)
			if err != nil {
				t.Fatalf("ORT on the original: %v", err)
			}
			got, err := ortrun.Run(exported, inputs, ortOptions)
			if err != nil {
				t.Fatalf("ORT on the export: %v", err)
			}
			maxd, err := diffOutputs(got, want, roundTripTol)
			if err != nil {
				t.Errorf("export differs from original: %v", err)
			}

			// 3. onnx-go reads the export as we wrote it, and reads the same
			// ops in the original.
			gm, err := crosscheck.DecodeGo(exported)
			if err != nil {
				t.Fatalf("onnx-go on the export: %v", err)
			}
			if err := crosscheck.CompareGo(g, gm); err != nil {
				t.Error(err)
			}
			om, err := crosscheck.DecodeGo(orig)
			if err != nil {
				t.Fatalf("onnx-go on the original: %v", err)
			}
			if fmt.Sprint(om.OpTypes) != fmt.Sprint(gm.OpTypes) {
				t.Errorf("onnx-go op types: original %v, export %v", om.OpTypes, gm.OpTypes)
			}
			t.Logf("%d nodes, %d params; checker ok on the %s; ORT max |diff| %.3g over %d outputs (batch 2); onnx-go: %d nodes, %d tensors",
				len(g.Nodes), len(g.Params), checked, maxd, len(got), gm.Nodes, len(gm.Tensors))
		})
	}
}

// TestOpaqueNodesRoundTrip checks that nodes outside the core set, of a custom
// domain and of the default domain (an op type ONNX does not define, and one
// it defines but the IR does not), come back byte for byte.
func TestOpaqueNodesRoundTrip(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join("testdata", "opaque.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	g, err := onnxio.Decode(orig, onnxio.ReadOptions{})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	exported, err := onnxio.Encode(g, onnxio.WriteOptions{})
	if err != nil {
		t.Fatalf("export: %v", err)
	}
	before, err := crosscheck.Scan(orig)
	if err != nil {
		t.Fatal(err)
	}
	after, err := crosscheck.Scan(exported)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]crosscheck.Node{}
	for _, n := range after.Nodes {
		byName[n.Name] = n
	}
	opaque := 0
	for _, n := range before.Nodes {
		if _, core := ir.LookupOp(n.OpType); core && n.IsDefaultDomain() {
			continue
		}
		opaque++
		m, ok := byName[n.Name]
		switch {
		case !ok:
			t.Errorf("node %q (%s.%s) missing from the export", n.Name, n.Domain, n.OpType)
		case !bytes.Equal(m.Raw, n.Raw):
			t.Errorf("node %q (%s.%s): NodeProto changed:\n got %x\nwant %x", n.Name, n.Domain, n.OpType, m.Raw, n.Raw)
		}
	}
	if opaque != 3 {
		t.Errorf("%d opaque nodes in testdata/opaque.onnx, want 3 (regenerate it with gen.py)", opaque)
	}
	if v := after.Opset("com.fermi.test"); v != 2 {
		t.Errorf("export imports com.fermi.test opset %d, want 2", v)
	}
	// Exporting the re-import gives the same bytes again.
	g2, err := onnxio.Decode(exported, onnxio.ReadOptions{})
	if err != nil {
		t.Fatalf("re-import: %v", err)
	}
	again, err := onnxio.Encode(g2, onnxio.WriteOptions{})
	if err != nil {
		t.Fatalf("re-export: %v", err)
	}
	if !bytes.Equal(again, exported) {
		t.Errorf("export of the re-import differs from the export (%d vs %d bytes)", len(again), len(exported))
	}
}

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio"
	"github.com/ferminets/fermi/onnxio/backendtest"
)

// TestBackendNodeTestsThroughRun is the engine's acceptance bar measured the
// way users see it: every in-scope ONNX backend node test run by
// `fcompile run` with --input NAME=FILE.pb flags, its output_N.pb files
// compared with the expected ones (rtol 1e-4, atol 1e-5); at least 95 % pass.
func TestBackendNodeTestsThroughRun(t *testing.T) {
	dirs := backendtest.Dirs(backendtest.NodeDir)
	if len(dirs) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("no ONNX node tests in " + backendtest.NodeDir + " (CI=true: make deps installs libonnx-testdata)")
		}
		t.Skip("no ONNX node tests in " + backendtest.NodeDir)
	}
	byOp := map[string][2]int{}
	pass, total := 0, 0
	for _, dir := range dirs {
		model := filepath.Join(dir, "model.onnx")
		g, err := onnxio.ReadFile(model)
		if err != nil || backendtest.EngineScope(g) != "" {
			continue
		}
		total++
		err = runThroughCLI(t, dir, model, g)
		if err == nil {
			pass++
		} else {
			t.Logf("FAIL %s: %v", filepath.Base(dir), err)
		}
		seen := map[string]bool{}
		for _, n := range g.Nodes {
			op := n.TypeName()
			if seen[op] {
				continue
			}
			seen[op] = true
			c := byOp[op]
			c[1]++
			if err == nil {
				c[0]++
			}
			byOp[op] = c
		}
	}
	var ops []string
	for op, c := range byOp {
		ops = append(ops, fmt.Sprintf("%s %d/%d", op, c[0], c[1]))
	}
	sort.Strings(ops)
	t.Logf("fcompile run: passed %d of %d in-scope node tests; by op: %s", pass, total, strings.Join(ops, ", "))
	if total < 220 {
		t.Errorf("only %d node tests in scope, want about 226", total)
	}
	if pass*100 < total*95 {
		t.Errorf("passed %d of %d, want at least 95 %%", pass, total)
	}
}

func runThroughCLI(t *testing.T, dir, model string, g *ir.Graph) error {
	files, err := backendtest.InputFiles(dir, g)
	if err != nil {
		return err
	}
	out := t.TempDir()
	args := []string{"run", model, "--output-dir", out}
	for name, p := range files {
		args = append(args, "--input", name+"="+p)
	}
	if code, _, stderr := run(t, args...); code != 0 {
		return fmt.Errorf("exit %d: %s", code, strings.TrimSpace(stderr))
	}
	got := make([]*ir.Tensor, len(g.Outputs))
	for i := range got {
		tn, name, err := onnxio.ReadTensorFile(filepath.Join(out, fmt.Sprintf("output_%d.pb", i)))
		if err != nil {
			return err
		}
		if name != g.Outputs[i].Name {
			return fmt.Errorf("output_%d.pb names %q, want %q", i, name, g.Outputs[i].Name)
		}
		got[i] = tn
	}
	return backendtest.Compare(dir, g, got, 1e-4, 1e-5)
}

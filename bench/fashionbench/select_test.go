package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Pool networks of the selection tests. NetScore (a in %, p and m in M):
//
//	A: 20·log10(88²/(√0.01·√0.2))   ≈ 104.8  (small budget)
//	B: 20·log10(90²/(√0.1·√1.1))    ≈ 87.7   (small budget, more accurate)
//	C: 20·log10(92²/(√0.2·√5))      ≈ 78.6   (mid budget)
//	D: 20·log10(93²/(√1·√10))       ≈ 68.7   (beyond every budget, most accurate)
var (
	poolA = poolEntryJSON("a", 4, 0.88, 200_000, 10_000)
	poolB = poolEntryJSON("b", 6, 0.90, 1_100_000, 100_000)
	poolC = poolEntryJSON("c", 8, 0.92, 5_000_000, 200_000)
	poolD = poolEntryJSON("d", 10, 0.93, 10_000_000, 1_000_000)
	// poolB2 is within the MAC budget of B but over its params budget.
	poolB2 = poolEntryJSON("b2", 12, 0.91, 1_000_000, 130_000)
)

func ferminetJSON(name string, stemWidth int) map[string]any {
	return map[string]any{"file": name + ".onnx", "name": name, "arch": archOf(stemWidth), "val_accuracy": 0.9, "macs": 1000, "params": 1000}
}

func stateJSON(cycle, cycles int, pool []map[string]any, ferminets []map[string]any) map[string]any {
	return map[string]any{
		"config": map[string]any{"dataset": "fashion-mnist", "prototype": "lenet5", "target": "cortex-a76",
			"requirements": map[string]any{"min_accuracy": 0.85, "max_macs": 1200000}, "performance": "netscore",
			"seed": 1, "cycles": cycles, "per_cycle": 4, "steps": 10, "batch": 8, "lr": 0.003},
		"cycle": cycle, "pool": pool, "ferminets": ferminets, "search_seconds": 100.0, "final_seconds": 20.0,
	}
}

func TestSelection(t *testing.T) {
	type want struct {
		source, arch string
		reasons      []string // substrings of the reason, in order
	}
	cases := []struct {
		name      string
		pool      []map[string]any
		ferminets []map[string]any
		max       int
		perf      string // the run's performance function ("": netscore)
		want      []want
		notes     []string // substrings of the notes
	}{
		{
			name: "one per criterion, run FermiNet duplicate merged, extra dropped by max",
			pool: []map[string]any{poolD, poolC, poolB, poolB2, poolA}, ferminets: []map[string]any{ferminetJSON("ferminet-1", 4), ferminetJSON("ferminet-2", 20)},
			max: 3,
			want: []want{
				{"pool/a.onnx", archOf(4), []string{"best NetScore", "FermiNet ferminet-1 of the run"}},
				{"pool/b.onnx", archOf(6), []string{"MACs ≤ 1.2 M and params ≤ 120 k"}},
				{"pool/c.onnx", archOf(8), []string{"MACs ≤ 6.2 M"}},
			},
			notes: []string{"dropped by --max 3: ferminet-2.onnx"},
		},
		{
			name: "max 5 keeps the run's other FermiNet",
			pool: []map[string]any{poolA, poolB, poolC, poolD}, ferminets: []map[string]any{ferminetJSON("ferminet-1", 4), ferminetJSON("ferminet-2", 20)},
			max: 5,
			want: []want{
				{"pool/a.onnx", archOf(4), []string{"best NetScore"}},
				{"pool/b.onnx", archOf(6), []string{"params ≤ 120 k"}},
				{"pool/c.onnx", archOf(8), []string{"MACs ≤ 6.2 M"}},
				{"ferminet-2.onnx", archOf(20), []string{"FermiNet ferminet-2"}},
			},
		},
		{
			name: "nothing in the small budget",
			pool: []map[string]any{poolD, poolC, poolB2},
			max:  3,
			want: []want{
				// B2: 20·log10(91²/(√0.13·√1)) ≈ 87.2 beats C and D.
				{"pool/b2.onnx", archOf(12), []string{"best NetScore"}},
				{"pool/c.onnx", archOf(8), []string{"MACs ≤ 6.2 M"}},
			},
			notes: []string{"no network: most accurate pool network with MACs ≤ 1.2 M"},
		},
		{
			name: "max 1",
			pool: []map[string]any{poolA, poolB}, max: 1,
			// B is the most accurate in both budgets, but only one fits.
			want:  []want{{"pool/a.onnx", archOf(4), []string{"best NetScore"}}},
			notes: []string{"dropped by --max 1: pool/b.onnx"},
		},
		{
			name: "a run maximizing accuracy puts the best NetScore last",
			pool: []map[string]any{poolA, poolB, poolC}, ferminets: []map[string]any{ferminetJSON("ferminet-1", 20)},
			max: 3, perf: "accuracy",
			want: []want{
				{"pool/b.onnx", archOf(6), []string{"params ≤ 120 k"}},
				{"pool/c.onnx", archOf(8), []string{"MACs ≤ 6.2 M"}},
				{"ferminet-1.onnx", archOf(20), []string{"FermiNet ferminet-1"}},
			},
			notes: []string{"dropped by --max 3: pool/a.onnx"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run, out := t.TempDir(), filepath.Join(t.TempDir(), "out")
			st := stateJSON(2, 2, tc.pool, tc.ferminets)
			if tc.perf != "" {
				st["config"].(map[string]any)["performance"] = tc.perf
			}
			writeJSON(t, filepath.Join(run, "state.json"), st)
			o := options{run: run, out: out, max: tc.max, stdout: io.Discard, stderr: io.Discard}
			sel, reused, err := loadOrSelect(o)
			if err != nil {
				t.Fatal(err)
			}
			if reused {
				t.Error("a fresh selection reported as reused")
			}
			if len(sel.Networks) != len(tc.want) {
				t.Fatalf("selected %d networks %+v, want %d", len(sel.Networks), sel.Networks, len(tc.want))
			}
			for i, w := range tc.want {
				c := sel.Networks[i]
				if c.K != i+1 || c.File != "ferminet-"+string(rune('1'+i))+".onnx" || c.Source != w.source || c.Arch != w.arch {
					t.Errorf("network %d: %+v, want k %d, source %s, arch %s", i, c, i+1, w.source, w.arch)
				}
				at := 0
				for _, r := range w.reasons {
					j := strings.Index(c.Reason[at:], r)
					if j < 0 {
						t.Errorf("network %d: reason %q lacks %q (in order)", i, c.Reason, r)
						break
					}
					at += j + len(r)
				}
			}
			for _, n := range tc.notes {
				if !slices.ContainsFunc(sel.Notes, func(s string) bool { return strings.Contains(s, n) }) {
					t.Errorf("notes %q lack %q", sel.Notes, n)
				}
			}
			// The selection is on disk, and a second call reuses it even
			// when the run has changed since.
			var disk Selection
			data, err := os.ReadFile(filepath.Join(out, selectionFile))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(data, &disk); err != nil {
				t.Fatal(err)
			}
			if len(disk.Networks) != len(sel.Networks) || disk.Networks[0].Source != sel.Networks[0].Source {
				t.Errorf("final-selection.json holds %+v, want %+v", disk.Networks, sel.Networks)
			}
			writeJSON(t, filepath.Join(run, "state.json"), stateJSON(2, 2, []map[string]any{poolD}, nil))
			again, reused, err := loadOrSelect(o)
			if err != nil {
				t.Fatal(err)
			}
			if !reused || len(again.Networks) != len(sel.Networks) || again.Networks[0].Source != sel.Networks[0].Source {
				t.Errorf("second selection %+v (reused %v), want the first %+v", again.Networks, reused, sel.Networks)
			}
		})
	}
}

func TestSelectionErrors(t *testing.T) {
	cases := []struct {
		name  string
		state map[string]any
		want  string
	}{
		{"unfinished run", stateJSON(1, 3, []map[string]any{poolA}, nil), "finished 1 of 3 cycles"},
		{"empty pool", stateJSON(2, 2, nil, nil), "no satisfying network"},
		{"no state", nil, "state.json"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			run, out := t.TempDir(), t.TempDir()
			if tc.state != nil {
				writeJSON(t, filepath.Join(run, "state.json"), tc.state)
			}
			_, _, err := loadOrSelect(options{run: run, out: out, max: 3})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(out, selectionFile)); err == nil {
				t.Error("a failed selection wrote final-selection.json")
			}
		})
	}
}

package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/ferminets/fermi/atomicfile"
	"github.com/ferminets/fermi/synth"
)

// The acceptance classes (issue 7): the selection picks one
// candidate for each, and the acceptance checks them on test accuracy.
const (
	smallMaxMACs   = 1_200_000 // "≥ 92.8 % with ≤ 1.2 M MACs and ≤ 120 k params"
	smallMaxParams = 120_000
	midMaxMACs     = 6_200_000 // "≥ 93.5 % with ≤ 6.2 M MACs"
)

// selectionFile is written to OUTDIR before any training.
const selectionFile = "final-selection.json"

// Choice is one FermiNet chosen for the reference-recipe training.
type Choice struct {
	K        int     `json:"k"`      // ferminet-K.onnx
	File     string  `json:"file"`   // ferminet-K.onnx, relative to OUTDIR
	Source   string  `json:"source"` // the architecture's ONNX, relative to RUNDIR
	Arch     string  `json:"arch"`
	Reason   string  `json:"reason"`
	ValAcc   float64 `json:"val_accuracy_search"` // validation accuracy as the run measured it
	MACs     int64   `json:"macs_search"`
	Params   int64   `json:"params_search"`
	NetScore float64 `json:"netscore_search"` // NetScore of ValAcc, params and MACs
}

// Selection is final-selection.json.
type Selection struct {
	Run      string   `json:"run"`
	Max      int      `json:"max"`
	Networks []Choice `json:"networks"`
	Notes    []string `json:"notes,omitempty"` // criteria no network met, networks dropped
}

// candidate is a network of the run the selection may take.
type candidate struct {
	source, arch string
	acc          float64
	macs, params int64
}

// selectFermiNets chooses at most max networks from the run state st: the
// pool's best NetScore, its most accurate network within the small budget,
// its most accurate within the mid budget, then the run's own FermiNets,
// without repeating an architecture (a repeat adds its reason to the first).
// For a run whose U is accuracy the best NetScore comes last.
func selectFermiNets(st *synth.State, run string, max int) Selection {
	sel := Selection{Run: run, Max: max}
	var pool []candidate
	for _, e := range st.Pool {
		m := e.Obs.Metrics
		pool = append(pool, candidate{e.File, e.Obs.Arch.String(), m.Accuracy, m.MACs, m.Params})
	}
	best := func(score func(c candidate) float64, ok func(c candidate) bool) *candidate {
		var b *candidate
		for i := range pool {
			if ok(pool[i]) && (b == nil || score(pool[i]) > score(*b)) {
				b = &pool[i]
			}
		}
		return b
	}
	netscore := func(c candidate) float64 { return synth.NetScoreOf(c.acc, c.params, c.macs) }
	acc := func(c candidate) float64 { return c.acc }
	all := func(candidate) bool { return true }
	type pick struct {
		c      *candidate
		reason string
	}
	picks := []pick{
		{best(netscore, all), "best NetScore of the pool"},
		{best(acc, func(c candidate) bool { return c.macs <= smallMaxMACs && c.params <= smallMaxParams }),
			"most accurate pool network with MACs ≤ 1.2 M and params ≤ 120 k"},
		{best(acc, func(c candidate) bool { return c.macs <= midMaxMACs }), "most accurate pool network with MACs ≤ 6.2 M"},
	}
	for _, f := range st.FermiNets {
		c := candidate{f.File, f.Arch, f.ValAccuracy, f.MACs, f.Params}
		picks = append(picks, pick{&c, "FermiNet " + f.Name + " of the run"})
	}
	if st.Config.Performance == synth.AccuracyScore {
		// The run maximized accuracy within its limits: its most accurate
		// networks and its own FermiNets come before the best NetScore.
		picks = append(picks[1:], picks[0])
	}
	for _, p := range picks {
		if p.c == nil {
			sel.Notes = append(sel.Notes, "no network: "+p.reason)
			continue
		}
		if i := indexArch(sel.Networks, p.c.arch); i >= 0 {
			sel.Networks[i].Reason += "; " + p.reason
			continue
		}
		if len(sel.Networks) == max {
			sel.Notes = append(sel.Notes, fmt.Sprintf("dropped by --max %d: %s (%s, %s)", max, p.c.source, p.c.arch, p.reason))
			continue
		}
		k := len(sel.Networks) + 1
		sel.Networks = append(sel.Networks, Choice{K: k, File: fmt.Sprintf("ferminet-%d.onnx", k), Source: p.c.source,
			Arch: p.c.arch, Reason: p.reason, ValAcc: p.c.acc, MACs: p.c.macs, Params: p.c.params, NetScore: netscore(*p.c)})
	}
	return sel
}

func indexArch(cs []Choice, arch string) int {
	for i, c := range cs {
		if c.Arch == arch {
			return i
		}
	}
	return -1
}

// readState reads RUNDIR/state.json.
func readState(run string) (*synth.State, error) {
	data, err := os.ReadFile(filepath.Join(run, synth.StateFile))
	if err != nil {
		return nil, fmt.Errorf("fashionbench: %w", err)
	}
	st := &synth.State{}
	if err := json.Unmarshal(data, st); err != nil {
		return nil, fmt.Errorf("fashionbench: %s: %w", filepath.Join(run, synth.StateFile), err)
	}
	return st, nil
}

// loadOrSelect returns OUTDIR/final-selection.json if it exists (a resumed
// benchmark trains the same networks), else makes the selection and writes it.
func loadOrSelect(o options) (Selection, bool, error) {
	path := filepath.Join(o.out, selectionFile)
	var sel Selection
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(data, &sel); err != nil {
			return sel, false, fmt.Errorf("fashionbench: %s: %w", path, err)
		}
		return sel, true, nil
	case !errors.Is(err, os.ErrNotExist):
		return sel, false, fmt.Errorf("fashionbench: %w", err)
	}
	st, err := readState(o.run)
	if err != nil {
		return sel, false, err
	}
	if st.Cycle < st.Config.Cycles {
		return sel, false, fmt.Errorf("fashionbench: run %s has finished %d of %d cycles: let it finish (fsynth resume) first", o.run, st.Cycle, st.Config.Cycles)
	}
	sel = selectFermiNets(st, o.run, o.max)
	if len(sel.Networks) == 0 {
		return sel, false, fmt.Errorf("fashionbench: run %s has no satisfying network to train (%s)", o.run, strings.Join(sel.Notes, "; "))
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return sel, false, fmt.Errorf("fashionbench: %w", err)
	}
	data, err = json.MarshalIndent(sel, "", "  ")
	if err != nil {
		return sel, false, fmt.Errorf("fashionbench: %w", err)
	}
	// Two invocations (final --only K) may select at once: the first to
	// create the file wins and the other trains from it.
	if err := atomicfile.CreateBytes(path, append(data, '\n')); errors.Is(err, fs.ErrExist) {
		return loadOrSelect(o)
	} else if err != nil {
		return sel, false, err
	}
	return sel, false, nil
}

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ferminets/fermi/synth"
)

// trainReport is the part of `fsynth train --report-json` the benchmark reads.
type trainReport struct {
	TestAccuracy      *float64 `json:"test_accuracy"`
	Epochs            int      `json:"epochs"`
	TrainImages       int      `json:"train_images"`
	TrainSeconds      float64  `json:"train_seconds"`
	ResumedAfterEpoch int      `json:"resumed_after_epoch"`
	Seed              uint64   `json:"seed"`
	Command           string   `json:"command"`
	Settings          struct {
		TrainLimit           int
		Teacher              string
		Distill, DistillTemp float64
	} `json:"settings"`
	Curve []struct {
		Epoch   int     `json:"epoch"`
		Seconds float64 `json:"seconds"`
	} `json:"curve"` // the epochs of the last session
}

// readTrainReport reads a -train.json; it returns nil, nil when the file
// does not exist.
func readTrainReport(path string) (*trainReport, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fashionbench: %w", err)
	}
	var r trainReport
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("fashionbench: %s: %w", path, err)
	}
	if r.TestAccuracy == nil || r.Epochs < 1 {
		return nil, fmt.Errorf("fashionbench: %s: no test_accuracy or epochs: not written by a finished fsynth train", path)
	}
	return &r, nil
}

// job is one `fsynth train` run of the benchmark.
type job struct {
	name  string   // for messages: "ferminet-1", "lenet5"
	what  []string // --model FILE or --arch NAME
	model string   // output model, OUTDIR/…onnx
	json  string   // output report, OUTDIR/…-train.json
	// teacher, when set, is distilled from (fsynth train --teacher).
	teacher string
}

// ledgerPath is where the epochs of every training session of j are kept.
func (j job) ledgerPath() string { return strings.TrimSuffix(j.json, "-train.json") + "-epochs.jsonl" }

// complete reports whether j finished with the wanted epochs and image
// limit; a finished run with other settings is an error (remove its files
// to retrain).
func (j job) complete(o options) (bool, error) {
	r, err := readTrainReport(j.json)
	if err != nil || r == nil {
		return false, err
	}
	if r.Epochs != o.epochs || r.Settings.TrainLimit != o.trainLimit {
		return false, fmt.Errorf("fashionbench: %s: trained %d epochs with train limit %d, want %d and %d (remove %s and %s to retrain)",
			j.json, r.Epochs, r.Settings.TrainLimit, o.epochs, o.trainLimit, j.json, j.model)
	}
	if _, err := os.Stat(j.model); err != nil {
		return false, fmt.Errorf("fashionbench: %s is complete but %w", j.json, err)
	}
	return true, nil
}

// train runs j with fsynth train (the reference recipe is its default),
// resuming from the model's checkpoint when one exists, and streams its
// output through. It does nothing when j is already complete.
func (j job) train(ctx context.Context, o options, dataset, dataDir string) error {
	if done, err := j.complete(o); err != nil || done {
		if done {
			fmt.Fprintf(o.stdout, "fashionbench: %s: complete (%s), skipped\n", j.name, j.json)
		}
		return err
	}
	args := append([]string{"train"}, j.what...)
	args = append(args, "--dataset", dataset, "--epochs", strconv.Itoa(o.epochs), "-o", j.model, "--report-json", j.json)
	if dataDir != "" {
		args = append(args, "--data-dir", dataDir)
	}
	if o.trainLimit > 0 {
		args = append(args, "--train-limit", strconv.Itoa(o.trainLimit))
	}
	if o.threads > 0 {
		args = append(args, "--threads", strconv.Itoa(o.threads))
	}
	if j.teacher != "" {
		args = append(args, "--teacher", j.teacher, "--distill", strconv.FormatFloat(o.distill, 'g', -1, 64))
	}
	ckpt := j.model + ".ckpt" // fsynth train's checkpoint name
	if _, err := os.Stat(ckpt); err == nil {
		args = append(args, "--resume")
	} else if err := os.Remove(j.ledgerPath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("fashionbench: %w", err) // a fresh start: forget earlier sessions
	}
	fmt.Fprintf(o.stdout, "fashionbench: %s: %s %s\n", j.name, o.fsynth, strings.Join(args, " "))
	ledger, err := os.OpenFile(j.ledgerPath(), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("fashionbench: %w", err)
	}
	defer ledger.Close()
	lw := &ledgerWriter{w: ledger, session: time.Now().UTC().Format(time.RFC3339)}
	cmd := exec.CommandContext(ctx, o.fsynth, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	cmd.Stdout = io.MultiWriter(o.stdout, lw)
	cmd.Stderr = o.stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("fashionbench: %s: %s train: %w", j.name, o.fsynth, err)
	}
	if lw.err != nil {
		return fmt.Errorf("fashionbench: %s: %w", j.ledgerPath(), lw.err)
	}
	if done, err := j.complete(o); err != nil || !done {
		return errors.Join(err, fmt.Errorf("fashionbench: %s: fsynth train ended without writing %s", j.name, j.json))
	}
	return nil
}

// epochLine matches fsynth train's per-epoch line.
var epochLine = regexp.MustCompile(`^epoch (\d+)/(\d+): .* ([0-9.eE+]+) img/s +([0-9.eE+]+) s$`)

// epochRecord is one line of a -epochs.jsonl ledger.
type epochRecord struct {
	Epoch     int     `json:"epoch"`
	Epochs    int     `json:"epochs"`
	Seconds   float64 `json:"seconds"`
	ImgPerSec float64 `json:"img_per_s"`
	Session   string  `json:"session"` // start of the fashionbench run that trained it
}

// ledgerWriter picks the epoch lines out of fsynth's output and appends
// them to the ledger.
type ledgerWriter struct {
	w       io.Writer
	session string
	partial []byte
	err     error
}

func (l *ledgerWriter) Write(p []byte) (int, error) {
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSpace(string(l.partial[:i]))
		l.partial = l.partial[i+1:]
		if r, ok := parseEpochLine(line); ok && l.err == nil {
			r.Session = l.session
			data, _ := json.Marshal(r)
			_, l.err = l.w.Write(append(data, '\n'))
		}
	}
	return len(p), nil // never fail fsynth's output stream
}

func parseEpochLine(line string) (epochRecord, bool) {
	m := epochLine.FindStringSubmatch(line)
	if m == nil {
		return epochRecord{}, false
	}
	e, _ := strconv.Atoi(m[1])
	n, _ := strconv.Atoi(m[2])
	ips, err1 := strconv.ParseFloat(m[3], 64)
	s, err2 := strconv.ParseFloat(m[4], 64)
	if err1 != nil || err2 != nil {
		return epochRecord{}, false
	}
	return epochRecord{Epoch: e, Epochs: n, Seconds: s, ImgPerSec: ips}, true
}

// readLedger returns the last record of every epoch in the ledger at path
// (none when it does not exist).
func readLedger(path string) (map[int]epochRecord, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("fashionbench: %w", err)
	}
	defer f.Close()
	out := map[int]epochRecord{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r epochRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, fmt.Errorf("fashionbench: %s: %w", path, err)
		}
		out[r.Epoch] = r
	}
	return out, sc.Err()
}

// trainTime returns the wall time of a training that may have been resumed:
// the last session's train_seconds plus, from the ledger, the epochs done
// before it resumed (complete is false when the ledger lacks some of them),
// and the training throughput: images per second of the epochs' own time
// (without the per-epoch validation), over the epochs whose time is known.
func trainTime(r *trainReport, ledger map[int]epochRecord) (seconds, imgPerSec float64, complete bool) {
	seconds, complete = r.TrainSeconds, true
	epochs, epochSeconds := 0, 0.0
	for e := 1; e <= r.ResumedAfterEpoch; e++ {
		rec, ok := ledger[e]
		if !ok {
			complete = false
			continue
		}
		seconds += rec.Seconds
		epochs, epochSeconds = epochs+1, epochSeconds+rec.Seconds
	}
	for _, c := range r.Curve {
		epochs, epochSeconds = epochs+1, epochSeconds+c.Seconds
	}
	if epochSeconds > 0 {
		imgPerSec = float64(r.TrainImages) * float64(epochs) / epochSeconds
	}
	return seconds, imgPerSec, complete
}

// finalStage selects the FermiNets (or reloads the selection) and trains
// each with the reference recipe (plus distillation with --teacher).
func finalStage(ctx context.Context, o options) error {
	sel, reused, err := loadOrSelect(o)
	if err != nil {
		return err
	}
	if reused {
		fmt.Fprintf(o.stdout, "fashionbench: training the networks of %s (delete it to select again)\n", filepath.Join(o.out, selectionFile))
	}
	st, err := readState(o.run)
	if err != nil {
		return err
	}
	for _, c := range sel.Networks {
		fmt.Fprintf(o.stdout, "fashionbench: ferminet-%d: %s (%s): %s\n", c.K, c.Source, c.Arch, c.Reason)
	}
	for _, c := range sel.Networks {
		if len(o.only) > 0 && !slices.Contains(o.only, c.K) {
			continue
		}
		src := filepath.Join(o.run, c.Source)
		if _, err := os.Stat(src); err != nil {
			return fmt.Errorf("fashionbench: ferminet-%d: %w", c.K, err)
		}
		base := strings.TrimSuffix(c.File, ".onnx")
		j := job{name: base, what: []string{"--model", src}, teacher: o.teacher,
			model: filepath.Join(o.out, c.File), json: filepath.Join(o.out, base+"-train.json")}
		if err := j.train(ctx, o, st.Config.Dataset, st.Config.DataDir); err != nil {
			return err
		}
	}
	return nil
}

// refArchs are the reference networks refs can train (BENCHMARK.md E) with
// the names of their PyTorch figures in synth.References.
var refArchs = map[string]string{"lenet5": "LeNet-5", "simplecnn": "SimpleCNN", "resnet20": "ResNet-20"}

// refsStage trains the reference networks with the reference recipe.
func refsStage(ctx context.Context, o options) error {
	st, err := readState(o.run)
	if err != nil {
		return err
	}
	for _, a := range o.archs {
		if _, ok := refArchs[a]; !ok {
			return usageError{fmt.Sprintf("--arch %q: want lenet5, simplecnn or resnet20", a)}
		}
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return fmt.Errorf("fashionbench: %w", err)
	}
	for _, a := range o.archs {
		j := job{name: a, what: []string{"--arch", a},
			model: filepath.Join(o.out, a+"-ours.onnx"), json: filepath.Join(o.out, a+"-train.json")}
		if err := j.train(ctx, o, st.Config.Dataset, st.Config.DataDir); err != nil {
			return err
		}
	}
	return nil
}

// stateSeconds is the synthesis wall time recorded in state.json.
func stateSeconds(st *synth.State) float64 { return st.SearchSeconds + st.FinalSeconds }

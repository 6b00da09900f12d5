package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeFsynth is a stand-in for `fsynth train`: it logs its arguments, prints
// one epoch line per epoch (3 s each, 1000 img/s), writes a checkpoint
// after each epoch and at the end the model and the report JSON. With
// FAKE_STOP_AFTER=k it exits with status 1 after epoch k; with --resume it
// continues after the epochs the checkpoint holds.
const fakeFsynth = `#!/bin/bash
echo "$*" >> "$FAKE_LOG"
epochs=30; limit=0; start=0; resume=0
while [ $# -gt 0 ]; do
	case $1 in
	--epochs) epochs=$2; shift ;;
	--train-limit) limit=$2; shift ;;
	-o) out=$2; shift ;;
	--report-json) rep=$2; shift ;;
	--resume) resume=1 ;;
	esac
	shift
done
if [ $resume = 1 ]; then start=$(cat "$out.ckpt"); echo "resuming after epoch $start (step 0)"; fi
curve=""
for ((e = start + 1; e <= epochs; e++)); do
	echo "epoch $e/$epochs: loss 0.5000  train 50.00 %  val 50.00 %  lr 0.00100  1000 img/s  3.0 s"
	echo $e > "$out.ckpt"
	curve="$curve${curve:+,}{\"epoch\":$e,\"seconds\":3.0}"
	if [ "$e" = "$FAKE_STOP_AFTER" ]; then exit 1; fi
done
echo model > "$out"
n=$((epochs - start))
cat > "$rep" <<EOF
{"test_accuracy": 0.5, "epochs": $epochs, "train_images": 3000, "train_seconds": $((n * 4)),
 "resumed_after_epoch": $start, "seed": 0, "command": "fsynth train", "settings": {"TrainLimit": $limit}, "curve": [$curve]}
EOF
`

// fakeTrainer writes the fake fsynth into a temp dir and returns its path
// and the file it logs its arguments to.
func fakeTrainer(t *testing.T) (string, string) {
	t.Helper()
	dir := t.TempDir()
	bin, log := filepath.Join(dir, "fsynth"), filepath.Join(dir, "args.log")
	if err := os.WriteFile(bin, []byte(fakeFsynth), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAKE_LOG", log)
	return bin, log
}

func logLines(t *testing.T, log string) []string {
	t.Helper()
	data, err := os.ReadFile(log)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// TestTrainResume goes through a benchmark training's life: interrupted,
// resumed, complete (skipped), and refused with other settings.
func TestTrainResume(t *testing.T) {
	bin, log := fakeTrainer(t)
	out := t.TempDir()
	var stdout bytes.Buffer
	o := options{out: out, fsynth: bin, epochs: 3, trainLimit: 500, stdout: &stdout, stderr: io.Discard}
	j := job{name: "ferminet-1", what: []string{"--model", "pool/x.onnx"},
		model: filepath.Join(out, "ferminet-1.onnx"), json: filepath.Join(out, "ferminet-1-train.json")}
	ctx := context.Background()

	steps := []struct {
		name       string
		stopAfter  string
		opts       func(o options) options
		wantErr    string
		wantCall   bool
		wantResume bool
	}{
		{name: "interrupted after epoch 1", stopAfter: "1", wantErr: "exit status 1", wantCall: true},
		{name: "resumed to the end", wantCall: true, wantResume: true},
		{name: "complete: skipped", wantCall: false},
		{name: "other epochs: refused", opts: func(o options) options { o.epochs = 4; return o }, wantErr: "trained 3 epochs"},
	}
	calls := 0
	for _, s := range steps {
		t.Setenv("FAKE_STOP_AFTER", s.stopAfter)
		oo := o
		if s.opts != nil {
			oo = s.opts(o)
		}
		err := j.train(ctx, oo, "fashion-mnist", "")
		if s.wantErr == "" && err != nil || s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)) {
			t.Fatalf("%s: error %v, want %q", s.name, err, s.wantErr)
		}
		lines := logLines(t, log)
		if called := len(lines) > calls; called != s.wantCall {
			t.Fatalf("%s: fsynth called %v, want %v", s.name, called, s.wantCall)
		}
		if s.wantCall {
			args := lines[len(lines)-1]
			for _, a := range []string{"train --model pool/x.onnx", "--dataset fashion-mnist", "--epochs 3", "-o " + j.model, "--report-json " + j.json, "--train-limit 500"} {
				if !strings.Contains(args, a) {
					t.Errorf("%s: fsynth %q lacks %q", s.name, args, a)
				}
			}
			if strings.Contains(args, "--resume") != s.wantResume {
				t.Errorf("%s: fsynth %q: --resume %v, want %v", s.name, args, !s.wantResume, s.wantResume)
			}
		}
		calls = len(lines)
	}
	if !strings.Contains(stdout.String(), "epoch 3/3") {
		t.Errorf("fsynth's output was not streamed through: %q", stdout.String())
	}
	// Epoch 1 (first session) and epochs 2–3 (second) are in the ledger;
	// the time adds the first session's epoch to the second's 2 × 4 s.
	tr, err := training(out, "ferminet-1")
	if err != nil || tr == nil {
		t.Fatalf("training: %+v, %v", tr, err)
	}
	if want := 3.0 + 2*4; math.Abs(tr.TrainSeconds-want) > 1e-9 || !tr.TrainSecondsComplete {
		t.Errorf("train seconds %v (complete %v), want %v", tr.TrainSeconds, tr.TrainSecondsComplete, want)
	}
	// 3,000 images × 3 epochs over 3 × 3 s of epoch time.
	if want := 3000.0 * 3 / 9; math.Abs(tr.ImgPerSec-want) > 1e-9 {
		t.Errorf("img/s %v, want %v", tr.ImgPerSec, want)
	}
}

// TestFinalStage selects from a run and trains every chosen network from
// its pool file into OUTDIR/ferminet-K.onnx.
func TestFinalStage(t *testing.T) {
	bin, log := fakeTrainer(t)
	run, out := t.TempDir(), t.TempDir()
	writeJSON(t, filepath.Join(run, "state.json"), stateJSON(2, 2, []map[string]any{poolA, poolB}, nil))
	for _, f := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(run, "pool"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(run, "pool", f+".onnx"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	err := run1(t, "final", "--run", run, "--out", out, "--fsynth", bin, "--epochs", "2")
	if err != nil {
		t.Fatal(err)
	}
	lines := logLines(t, log)
	if len(lines) != 2 {
		t.Fatalf("fsynth ran %d times (%q), want 2", len(lines), lines)
	}
	for i, src := range []string{"a", "b"} {
		want := "--model " + filepath.Join(run, "pool", src+".onnx")
		if !strings.Contains(lines[i], want) || !strings.Contains(lines[i], filepath.Join(out, "ferminet-"+string(rune('1'+i))+".onnx")) {
			t.Errorf("call %d: %q, want %q to ferminet-%d.onnx", i, lines[i], want, i+1)
		}
	}
	if err := run1(t, "final", "--run", run, "--out", run); err == nil {
		t.Error("--out equal to --run accepted")
	}

	// With --teacher the same selection trains with distillation.
	kd := t.TempDir()
	if err := run1(t, "final", "--run", run, "--out", kd, "--fsynth", bin, "--epochs", "2", "--only", "2", "--teacher", "t.onnx", "--distill", "0.7"); err != nil {
		t.Fatal(err)
	}
	lines = logLines(t, log)
	if len(lines) != 3 || !strings.Contains(lines[2], "--teacher t.onnx --distill 0.7") || !strings.Contains(lines[2], filepath.Join(kd, "ferminet-2.onnx")) {
		t.Errorf("distilled training: calls %q, want a third to ferminet-2.onnx with --teacher t.onnx --distill 0.7", lines)
	}
}

// TestTrainingRecipe: the recipe a report names comes from the settings
// fsynth train recorded.
func TestTrainingRecipe(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		epochs         int
		settings, want string
	}{
		{30, `{"TrainLimit": 0}`, "reference"},
		{30, `{"TrainLimit": 0, "Teacher": "models/fashion-resnet20.onnx", "Distill": 0.5, "DistillTemp": 4}`, "reference + distillation from models/fashion-resnet20.onnx (α 0.5, T 4)"},
		{60, `{"TrainLimit": 0}`, "reference, 60 epochs"},
		{60, `{"TrainLimit": 0, "Teacher": "t.onnx", "Distill": 0.5, "DistillTemp": 4}`, "reference, 60 epochs + distillation from t.onnx (α 0.5, T 4)"},
	} {
		data := fmt.Sprintf(`{"test_accuracy": 0.9, "epochs": %d, "train_images": 60000, "command": "fsynth train", "settings": %s}`, c.epochs, c.settings)
		if err := os.WriteFile(filepath.Join(dir, "n-train.json"), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		tr, err := training(dir, "n")
		if err != nil || tr == nil || tr.Recipe != c.want {
			t.Errorf("settings %s: training %+v, %v; want recipe %q", c.settings, tr, err, c.want)
		}
	}
}

// run1 runs the command line in-process.
func run1(t *testing.T, args ...string) error {
	t.Helper()
	return run(context.Background(), args, io.Discard, io.Discard)
}

func TestParseEpochLine(t *testing.T) {
	cases := []struct {
		line string
		want epochRecord
		ok   bool
	}{
		{"epoch 3/30: loss 0.4665  train 82.78 %  val 85.42 %  lr 0.03799  2034 img/s  29.5 s", epochRecord{Epoch: 3, Epochs: 30, Seconds: 29.5, ImgPerSec: 2034}, true},
		{"epoch 30/30: loss 0.1  train 1.00 %  val 1.00 %  lr 0.00000  980 img/s  2.0 s", epochRecord{Epoch: 30, Epochs: 30, Seconds: 2, ImgPerSec: 980}, true},
		{"epoch: 128/2000 (6%) 0s", epochRecord{}, false},
		{"test accuracy 60.55 % (6055/10000), training time 4s", epochRecord{}, false},
	}
	for _, c := range cases {
		got, ok := parseEpochLine(c.line)
		if ok != c.ok || got != c.want {
			t.Errorf("parseEpochLine(%q) = %+v, %v; want %+v, %v", c.line, got, ok, c.want, c.ok)
		}
	}
}

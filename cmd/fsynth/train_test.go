package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferminets/fermi/onnxio"
)

func TestTrainUsageErrors(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--dataset", "mnist", "-o", "x.onnx"}, "exactly one of --arch and --model"},
		{[]string{"train", "--arch", "lenet5", "--model", "m.onnx", "--dataset", "mnist", "-o", "x.onnx"}, "exactly one of --arch and --model"},
		{[]string{"train", "--arch", "lenet5", "-o", "x.onnx"}, "--dataset is required"},
		{[]string{"train", "--arch", "lenet5", "--dataset", "mnist"}, "-o is required"},
		{[]string{"train", "--arch", "lenet5", "--dataset", "mnist", "-o", "x.txt"}, "unknown model format"},
		{[]string{"train", "--arch", "lenet5", "--dataset", "mnist", "-o", "x.onnx", "--schedule", "step"}, "--schedule \"step\""},
		{[]string{"train", "--arch", "lenet5", "--dataset", "mnist", "-o", "x.onnx", "--optimizer", "adam"}, "--optimizer \"adam\""},
		{[]string{"train", "--arch", "lenet5", "--dataset", "mnist", "-o", "x.onnx", "--augment", "rotate"}, "--augment \"rotate\""},
		{[]string{"train", "--arch", "lenet5", "--dataset", "mnist", "-o", "x.onnx", "--train-split", "val"}, "--train-split \"val\""},
		{[]string{"train", "--arch", "lenet5", "--dataset", "mnist", "-o", "x.onnx", "--finetune"}, "--finetune needs --model"},
		{[]string{"train", "--arch", "lenet5", "--dataset", "mnist", "-o", "x.onnx", "--epochs", "0"}, "must be positive"},
		{[]string{"train", "--bogus"}, "unknown flag"},
	} {
		var out, errb bytes.Buffer
		if code := mainErr(c.args, &out, &errb); code != 2 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.args, code, errb.String(), c.want)
		}
	}
}

func TestTrainFailures(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--arch", "nonet", "--dataset", "mnist", "-o", filepath.Join(dir, "a.onnx")}, "unknown network"},
		{[]string{"train", "--arch", "lenet5", "--dataset", filepath.Join(dir, "missing"), "-o", filepath.Join(dir, "a.onnx")}, "missing"},
		{[]string{"train", "--model", filepath.Join(dir, "missing.onnx"), "--dataset", "mnist", "-o", filepath.Join(dir, "a.onnx")}, "missing.onnx"},
		{[]string{"train", "--arch", "lenet5", "--dataset", "mnist", "--train-limit", "64", "-o", filepath.Join(dir, "a.onnx"), "--resume"}, "a.onnx.ckpt"},
	} {
		var out, errb bytes.Buffer
		if code := mainErr(c.args, &out, &errb); code != 1 || !strings.Contains(errb.String(), c.want) {
			t.Errorf("%q: exit %d, stderr %q; want 1 and %q", c.args, code, errb.String(), c.want)
		}
	}
}

// TestTrainRun trains LeNet-5 for one epoch on 256 MNIST images, checks the
// progress lines, the exported model's preprocessing metadata and the
// checkpoint, resumes from the checkpoint (nothing left to do: the same
// model comes out), and refuses to resume with other settings.
func TestTrainRun(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "l.onnx")
	args := []string{"train", "--arch", "lenet5", "--dataset", "mnist", "--epochs", "1", "--train-limit", "256", "--batch", "64", "-o", out,
		"--report-json", filepath.Join(dir, "r.json")}
	var stdout, stderr bytes.Buffer
	if code := mainErr(args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	for _, want := range []string{"epoch 1/1: loss", "img/s", "test accuracy"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	g, err := onnxio.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	meta := map[string]string{}
	for _, m := range g.Metadata {
		meta[m.Key] = m.Value
	}
	for k, v := range map[string]string{"dataset": "mnist", "preprocess.mean": "0.1307", "preprocess.std": "0.3081", "preprocess.scale": "0.00392156862745098"} {
		if meta[k] != v {
			t.Errorf("metadata %s = %q, want %q", k, meta[k], v)
		}
	}
	first, _ := os.ReadFile(out)
	if _, err := os.Stat(out + ".ckpt"); err != nil {
		t.Fatal(err)
	}
	if code := mainErr(append(args, "--resume"), &stdout, &stderr); code != 0 {
		t.Fatalf("resume: exit %d: %s", code, stderr.String())
	}
	if again, _ := os.ReadFile(out); !bytes.Equal(first, again) {
		t.Error("resuming a finished run changed the model")
	}
	stderr.Reset()
	if code := mainErr(append(args, "--resume", "--lr", "0.1"), &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "other settings") {
		t.Errorf("resume with another lr: exit %d, %s", code, stderr.String())
	}
	if data, err := os.ReadFile(filepath.Join(dir, "r.json")); err != nil || !strings.Contains(string(data), `"test_accuracy"`) {
		t.Errorf("report: %v %s", err, data)
	}
}

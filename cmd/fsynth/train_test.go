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
		{[]string{"train", "--arch", "lenet5", "--dataset", "mnist", "-o", "x.onnx", "--distill", "0.3"}, "need --teacher"},
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

// TestTrainDistill trains a LeNet-5 teacher briefly, distills a LeNet-5
// student from it, checks that the distillation settings reach the report
// (so --resume refuses another teacher weight), and that a teacher trained
// on other preprocessing is refused with its file named.
func TestTrainDistill(t *testing.T) {
	dir := t.TempDir()
	teacher := filepath.Join(dir, "teacher.onnx")
	base := []string{"--dataset", "mnist", "--epochs", "1", "--train-limit", "256", "--batch", "64"}
	var stdout, stderr bytes.Buffer
	if code := mainErr(append([]string{"train", "--arch", "lenet5", "-o", teacher}, base...), &stdout, &stderr); code != 0 {
		t.Fatalf("teacher: exit %d: %s", code, stderr.String())
	}
	student := filepath.Join(dir, "s.onnx")
	args := append([]string{"train", "--arch", "lenet5", "--seed", "3", "-o", student, "--teacher", teacher, "--distill", "0.7",
		"--report-json", filepath.Join(dir, "s.json")}, base...)
	if code := mainErr(args, &stdout, &stderr); code != 0 {
		t.Fatalf("student: exit %d: %s", code, stderr.String())
	}
	data, err := os.ReadFile(filepath.Join(dir, "s.json"))
	if err != nil || !strings.Contains(string(data), `"Teacher": "`+teacher+`"`) || !strings.Contains(string(data), `"Distill": 0.7`) {
		t.Errorf("report lacks the teacher settings: %v\n%s", err, data)
	}
	stderr.Reset()
	if code := mainErr(append(args, "--resume", "--distill", "0.6"), &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "other settings") {
		t.Errorf("resume with another distillation weight: exit %d, %s", code, stderr.String())
	}

	// A teacher whose recorded preprocessing is Fashion-MNIST's.
	g, err := onnxio.ReadFile(teacher)
	if err != nil {
		t.Fatal(err)
	}
	for i := range g.Metadata {
		if g.Metadata[i].Key == "preprocess.mean" {
			g.Metadata[i].Value = "0.286"
		}
	}
	other := filepath.Join(dir, "other.onnx")
	if err := onnxio.WriteFile(g, other, onnxio.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	bad := append([]string{"train", "--arch", "lenet5", "-o", filepath.Join(dir, "b.onnx"), "--teacher", other}, base...)
	if code := mainErr(bad, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "other.onnx: metadata preprocess.mean is \"0.286\"") {
		t.Errorf("mismatched teacher: exit %d, %s", code, stderr.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "b.onnx")); !os.IsNotExist(err) {
		t.Errorf("a refused run left an output file: %v", err)
	}
	stderr.Reset()
	if code := mainErr(append(bad, "--distill", "0"), &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "--distill 0") {
		t.Errorf("--distill 0: exit %d, %s", code, stderr.String())
	}
}

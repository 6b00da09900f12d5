package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// wallTimes matches the wall-clock fields of generator.json and cycles.jsonl,
// the only bytes allowed to differ between runs.
var wallTimes = regexp.MustCompile(`"seconds":[0-9.e+-]+`)

// TestKillAndResume runs a small synthesis twice with the fsynth binary:
// once to the end, once killed with SIGKILL (no chance to save) after its
// first checkpoint and then continued with `fsynth resume`. The resumed run
// must end exactly where the uninterrupted one did: the same generator, the
// same per-cycle log (wall times aside) and byte-identical FermiNet ONNX.
func TestKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("trains networks")
	}
	bin := filepath.Join(t.TempDir(), "fsynth")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	args := func(dir string) []string {
		return []string{"run", "--dataset", "mnist", "--prototype", "lenet5", "--target", "cortex-a76",
			"--min-accuracy", "50%", "--max-macs", "250k", "--max-params", "10k",
			"--cycles", "4", "--per-cycle", "6", "--steps", "24", "--batch", "16", "--train-images", "2000",
			"--val-images", "300", "--final", "1", "--final-steps", "10", "--seed", "7", "-o", dir}
	}
	whole := filepath.Join(t.TempDir(), "whole")
	if out, err := exec.Command(bin, args(whole)...).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}

	cut := filepath.Join(t.TempDir(), "cut")
	cmd := exec.Command(bin, args(cut)...)
	var log bytes.Buffer
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cycles := filepath.Join(cut, "cycles.jsonl")
	deadline := time.Now().Add(5 * time.Minute)
	for {
		if b, err := os.ReadFile(cycles); err == nil && bytes.Count(b, []byte("\n")) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no checkpoint after 5 minutes\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	b, _ := os.ReadFile(cycles)
	if n := bytes.Count(b, []byte("\n")); n >= 4 {
		t.Fatalf("the run finished all %d cycles before the kill; the test proves nothing", n)
	}
	t.Logf("killed after %d of 4 cycles", bytes.Count(b, []byte("\n")))
	if _, err := os.Stat(filepath.Join(cut, "report.json")); err == nil {
		t.Fatal("killed run already wrote its report")
	}
	if out, err := exec.Command(bin, "resume", cut).CombinedOutput(); err != nil {
		t.Fatalf("resume after SIGKILL: %v\n%s", err, out)
	}
	for _, f := range []string{"generator.json", "cycles.jsonl", "ferminet-1.onnx"} {
		a, err := os.ReadFile(filepath.Join(whole, f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(cut, f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(wallTimes.ReplaceAll(a, nil), wallTimes.ReplaceAll(b, nil)) {
			t.Errorf("%s differs between the killed-and-resumed run and the uninterrupted one", f)
		}
	}
}

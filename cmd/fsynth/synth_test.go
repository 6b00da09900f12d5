package main

import (
	"bytes"
	"errors"
	"github.com/ferminets/fermi/internal/cli"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSynthUsageErrors(t *testing.T) {
	tests := []struct {
		run  func([]string, *bytes.Buffer) error
		args []string
		want string
	}{
		{runSynthBuf, []string{"--out", "x"}, "--dataset is required"},
		{runSynthBuf, []string{"--dataset", "mnist"}, "--out is required"},
		{runSynthBuf, []string{"--dataset", "mnist", "-o", "x", "--max-macs", "1.2X"}, "--max-macs: synth: count \"1.2X\": unknown suffix"},
		{runSynthBuf, []string{"--dataset", "mnist", "-o", "x", "--min-accuracy", "90"}, "--min-accuracy"},
		{runSynthBuf, []string{"--dataset", "mnist", "-o", "x", "--performance", "speed"}, "unknown performance function"},
		{runSynthBuf, []string{"--dataset", "mnist", "-o", "x", "extra"}, "unexpected arguments"},
		{runGenerateBuf, []string{"--count", "2"}, "--generator and --out are required"},
		{runGenerateBuf, []string{"--generator", "g.json", "-o", "x", "--count", "0"}, "--count must be positive"},
		{runResumeBuf, nil, "want one run directory"},
		{runDemoBuf, []string{"extra"}, "unexpected arguments"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		err := tt.run(tt.args, &out)
		var ue cli.UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want a usage error containing %q", tt.args, err, tt.want)
		}
	}
}

func runSynthBuf(a []string, b *bytes.Buffer) error    { return runSynth(a, b, b) }
func runGenerateBuf(a []string, b *bytes.Buffer) error { return runGenerate(a, b, b) }
func runResumeBuf(a []string, b *bytes.Buffer) error   { return runResume(a, b, b) }
func runDemoBuf(a []string, b *bytes.Buffer) error     { return runDemo(a, b, b) }

// TestRunGenerateResume runs a tiny synthesis through the commands, then
// generates networks from its generator and resumes the finished run.
func TestRunGenerateResume(t *testing.T) {
	if testing.Short() {
		t.Skip("trains networks")
	}
	dir := filepath.Join(t.TempDir(), "run")
	var out bytes.Buffer
	err := runSynth([]string{"--dataset", "mnist", "--prototype", "lenet5", "--target", "cortex-a76",
		"--min-accuracy", "50%", "--max-macs", "250k", "--max-params", "10k", "--max-latency", "1ms",
		"--cycles", "4", "--per-cycle", "8", "--steps", "24", "--batch", "16", "--train-images", "2000",
		"--val-images", "300", "--final", "1", "--final-steps", "10", "--seed", "3", "-o", dir}, &out, &out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, f := range []string{"generator.json", "cycles.jsonl", "report.json", "report.md", "accuracy-vs-macs.svg", "ferminet-1.onnx", "ferminet-1.fir"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	gen := filepath.Join(t.TempDir(), "gen")
	out.Reset()
	if err := runGenerate([]string{"--generator", filepath.Join(dir, "generator.json"), "--count", "2", "--seed", "5", "-o", gen}, &out, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	for _, f := range []string{"generated.json", "generated-1.onnx", "generated-2.onnx"} {
		if _, err := os.Stat(filepath.Join(gen, f)); err != nil {
			t.Error(err)
		}
	}
	out.Reset()
	if err := runResume([]string{dir}, &out, &out); err != nil {
		t.Fatalf("resuming a finished run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "1 FermiNets") {
		t.Errorf("resume of a finished run printed %q", out.String())
	}
}

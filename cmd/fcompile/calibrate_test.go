package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ferminets/fermi/internal/cli"
)

// TestCalibrateUsage checks that bad command lines are usage errors (exit
// status 2) that name the problem, and write nothing. None of them reaches
// ONNX Runtime.
func TestCalibrateUsage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "host.json")
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{}, "-o FILE"},
		{[]string{"-o", out, "extra"}, `unexpected argument "extra"`},
		{[]string{"-o", out, "--runs", "19"}, "--runs 19"},
		{[]string{"-o", out, "--warmup", "0"}, "--warmup 0"},
		{[]string{"-o", out, "--rounds", "0"}, "--rounds 0"},
		{[]string{"-o", out, "--clock", "sundial"}, `--clock "sundial"`},
		{[]string{"-o", out, "--target", "host", "--target-file", "x.json"}, "not both"},
		{[]string{"-o", out, "--target", "no-such-target"}, "unknown target"},
		{[]string{"-o", out, "--no-such-flag"}, "unknown flag"},
	}
	for _, tc := range tests {
		err := runCalibrate(tc.args, io.Discard, io.Discard)
		var ue cli.UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("calibrate %v: error %v; want a usage error containing %q", tc.args, err, tc.msg)
		}
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a rejected command line left %s behind", out)
	}
}

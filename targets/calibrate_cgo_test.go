//go:build cgo

package targets

import (
	"context"
	"strings"
	"testing"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio"
	"github.com/ferminets/fermi/ortrun"
)

// TestCalibrateOptions checks the option errors, which come before any
// measurement.
func TestCalibrateOptions(t *testing.T) {
	host, err := Lookup("host")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		base *Target
		opts CalibrateOptions
		msg  string
	}{
		{nil, CalibrateOptions{Runs: 20}, "base target is nil"},
		{host, CalibrateOptions{Runs: 19}, "19 runs"},
		{host, CalibrateOptions{Runs: 20, Warmup: -1}, "negative warm-up"},
		{host, CalibrateOptions{Runs: 20, Rounds: -2}, "negative rounds"},
		{host, CalibrateOptions{Runs: 20, Clock: "sundial"}, `unknown clock "sundial"`},
	}
	for _, tc := range tests {
		_, _, err := Calibrate(context.Background(), tc.base, tc.opts)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("Calibrate(%+v): error %v, want one containing %q", tc.opts, err, tc.msg)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := Calibrate(ctx, host, CalibrateOptions{Runs: 20}); ortrun.Available() == nil && err == nil {
		t.Error("Calibrate with a cancelled context succeeded")
	}
}

// TestMeasureModel times a small and a 50× larger convolution and checks
// that both clocks see the difference.
func TestMeasureModel(t *testing.T) {
	ortrun.Require(t)
	measure := func(c convSpec) Measurement {
		c.Groups = 1
		g, err := buildConv(c)
		if err != nil {
			t.Fatal(err)
		}
		model, err := onnxio.Encode(g, onnxio.WriteOptions{})
		if err != nil {
			t.Fatal(err)
		}
		m, err := MeasureModel(model, 20, 3)
		if err != nil {
			t.Fatal(err)
		}
		if m.Runs != 20 || m.WallMs <= 0 || m.CPUMs <= 0 {
			t.Errorf("%s: %+v", g.Name, m)
		}
		return m
	}
	small := measure(convSpec{Cin: 16, Cout: 16, H: 32, K: 3, S: 1}) // 4.7 MFLOP
	large := measure(convSpec{Cin: 64, Cout: 64, H: 56, K: 3, S: 1}) // 232 MFLOP
	if large.CPUMs < 5*small.CPUMs || large.WallMs < 5*small.WallMs {
		t.Errorf("a 49× larger convolution measured %+v vs %+v", large, small)
	}
}

// TestMeasureModelInputs checks that a model with a non-float input is
// rejected by name, and that bad arguments are errors.
func TestMeasureModelInputs(t *testing.T) {
	ortrun.Require(t)
	b := ir.NewBuilder("cast")
	x := b.Input("ids", ir.Int64, ir.Static(1, 4))
	b.Output(b.Node(ir.OpCast, "cast", []*ir.Value{x}, ir.IntAttr("to", 1)))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	model, err := onnxio.Encode(g, onnxio.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := MeasureModel(model, 20, 3); err == nil || !strings.Contains(err.Error(), `input "ids"`) {
		t.Errorf("int64 input: error %v", err)
	}
	if _, err := MeasureModel(model, 0, 3); err == nil {
		t.Error("0 runs: no error")
	}
	if _, err := MeasureModel([]byte("not onnx"), 20, 3); err == nil {
		t.Error("garbage model: no error")
	}
}

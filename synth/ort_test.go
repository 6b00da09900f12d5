package synth

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/ferminets/fermi/dataset"
	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/modelfile"
	"github.com/ferminets/fermi/ortrun"
)

// checkONNXRuntime runs the exported model at path in ONNX Runtime on the
// first n test images, preprocessed only from the model's metadata, and
// checks that it predicts what the engine predicts and that its accuracy
// is the reported one.
func checkONNXRuntime(t *testing.T, path string, test *dataset.Set, n int, wantAcc float64) {
	t.Helper()
	ortrun.Require(t)
	g, err := modelfile.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	meta := map[string]string{}
	for _, m := range g.Metadata {
		meta[m.Key] = m.Value
	}
	num := func(k string) float32 {
		v, err := strconv.ParseFloat(meta[k], 32)
		if err != nil {
			t.Fatalf("metadata %s = %q: %v", k, meta[k], err)
		}
		return float32(v)
	}
	if meta["dataset"] != test.Name {
		t.Errorf("metadata dataset %q, want %q", meta["dataset"], test.Name)
	}
	scale, mean, std := num("preprocess.scale"), num("preprocess.mean"), num("preprocess.std")
	n = min(n, test.N)
	x := make([]float32, n*test.ImageSize())
	for i := range x {
		x[i] = (float32(test.Pixels[i])*scale - mean) / std
	}
	feed := map[string]*ir.Tensor{"input": ir.NewFloat32([]int64{int64(n), int64(test.C), int64(test.H), int64(test.W)}, x)}
	model, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	outs, err := ortrun.Run(model, feed, ortrun.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(g)
	if err != nil {
		t.Fatal(err)
	}
	mine, err := e.Run(feed)
	if err != nil {
		t.Fatal(err)
	}
	ort := outs["logits"]
	if ort == nil {
		t.Fatalf("ONNX Runtime outputs %v, no logits", outs)
	}
	argmax := func(row []float32) int {
		b := 0
		for i, v := range row {
			if v > row[b] {
				b = i
			}
		}
		return b
	}
	k := int(ort.Dims[1])
	correct, differ := 0, 0
	for i := range n {
		p := argmax(ort.F32[i*k : (i+1)*k])
		if p == int(test.Labels[i]) {
			correct++
		}
		if p != argmax(mine[0].F32[i*k:(i+1)*k]) {
			differ++
		}
	}
	if differ > 0 {
		t.Errorf("ONNX Runtime and the engine disagree on %d of %d images", differ, n)
	}
	if acc := float64(correct) / float64(n); wantAcc >= 0 && (acc-wantAcc > 0.0005 || wantAcc-acc > 0.0005) {
		t.Errorf("ONNX Runtime accuracy %.4f, reported %.4f", acc, wantAcc)
	}
	if !strings.HasPrefix(g.Inputs[0].Shape.String(), "[N,") {
		t.Errorf("input shape %v has no dynamic batch N", g.Inputs[0].Shape)
	}
}

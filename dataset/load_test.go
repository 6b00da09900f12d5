package dataset

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const fashionDir = "/usr/share/datasets/fashion-mnist"

// needFashion skips the test if Fashion-MNIST is not installed, except on CI
// (CI=true), where its absence is a failure.
func needFashion(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(fashionDir, "train-images-idx3-ubyte.gz")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Fashion-MNIST missing on CI (apt-get install dataset-fashion-mnist): %v", err)
		}
		t.Skipf("Fashion-MNIST not installed: %v", err)
	}
}

// rawLabels reads the first n labels of a gzipped IDX label file with
// compress/gzip alone, skipping the 8-byte header.
func rawLabels(t *testing.T, path string, n int) []uint8 {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 8+n)
	if _, err := io.ReadFull(zr, b); err != nil {
		t.Fatal(err)
	}
	return b[8:]
}

// pixelStats returns the mean and standard deviation of all pixels / 255.
func pixelStats(pix []uint8) (mean, std float64) {
	var sum, sq float64
	for _, p := range pix {
		v := float64(p) / 255
		sum += v
		sq += v * v
	}
	n := float64(len(pix))
	mean = sum / n
	return mean, math.Sqrt(sq/n - mean*mean)
}

func TestLoadBuiltin(t *testing.T) {
	tests := []struct {
		name, split string
		needs       func(*testing.T)
		n           int
		firstLabels []uint8
		labelFile   string // read independently for the first labels, if set
		mean, std   float64
		class0Names string
	}{
		{name: "fashion-mnist", split: "train", needs: needFashion, n: 60000,
			firstLabels: []uint8{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}, labelFile: fashionDir + "/train-labels-idx1-ubyte.gz",
			mean: 0.2860, std: 0.3530, class0Names: "T-shirt/top"},
		{name: "fashion-mnist", split: "test", needs: needFashion, n: 10000,
			firstLabels: []uint8{9, 2, 1, 1, 6, 1, 4, 6, 5, 7}, labelFile: fashionDir + "/t10k-labels-idx1-ubyte.gz",
			class0Names: "T-shirt/top"},
		{name: "mnist", split: "train", n: 60000, firstLabels: []uint8{5, 0, 4, 1, 9, 2, 1, 3, 1, 4},
			labelFile: "mnist/train-labels-idx1-ubyte.gz", mean: 0.1307, std: 0.3081, class0Names: "0"},
		{name: "mnist", split: "test", n: 10000, firstLabels: []uint8{7, 2, 1, 0, 4, 1, 4, 9, 5, 9},
			labelFile: "mnist/t10k-labels-idx1-ubyte.gz", class0Names: "0"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.split, func(t *testing.T) {
			if tt.needs != nil {
				tt.needs(t)
			}
			s, err := Load(tt.name, tt.split, Options{ValSize: -1})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.Check(); err != nil {
				t.Fatal(err)
			}
			if s.Name != tt.name || s.N != tt.n || s.C != 1 || s.H != 28 || s.W != 28 || s.Classes != 10 {
				t.Errorf("got %q %d×%d×%d×%d, %d classes; want %q %d×1×28×28, 10 classes",
					s.Name, s.N, s.C, s.H, s.W, s.Classes, tt.name, tt.n)
			}
			if s.ClassNames[0] != tt.class0Names {
				t.Errorf("class 0 is %q, want %q", s.ClassNames[0], tt.class0Names)
			}
			if got := s.Labels[:10]; !slices.Equal(got, tt.firstLabels) {
				t.Errorf("first labels %v, want %v", got, tt.firstLabels)
			}
			if raw := rawLabels(t, tt.labelFile, 10); !slices.Equal(raw, s.Labels[:10]) {
				t.Errorf("first labels %v, read directly %v", s.Labels[:10], raw)
			}
			if tt.mean != 0 {
				mean, std := pixelStats(s.Pixels)
				if math.Abs(mean-tt.mean) > 1e-4 || math.Abs(std-tt.std) > 1e-4 {
					t.Errorf("pixel mean %.5f std %.5f, want %.4f %.4f", mean, std, tt.mean, tt.std)
				}
				norm, def := ComputeNormalization(s), DefaultNormalization(tt.name)
				if math.Abs(float64(norm.Mean[0]-def.Mean[0])) > 1e-4 || math.Abs(float64(norm.Std[0]-def.Std[0])) > 1e-4 {
					t.Errorf("ComputeNormalization = %v, DefaultNormalization = %v", norm, def)
				}
			}
		})
	}
}

// TestEmbeddedFiles checks the embedded MNIST files against the sizes of the
// files published by Yann LeCun.
func TestEmbeddedFiles(t *testing.T) {
	sizes := map[string]int{
		"train-images-idx3-ubyte.gz": 9912422, "train-labels-idx1-ubyte.gz": 28881,
		"t10k-images-idx3-ubyte.gz": 1648877, "t10k-labels-idx1-ubyte.gz": 4542,
	}
	for name, size := range sizes {
		b, err := mnistFiles.ReadFile("mnist/" + name)
		if err != nil || len(b) != size {
			t.Errorf("embedded %s: %d bytes (%v), want %d", name, len(b), err, size)
		}
	}
}

func TestSplit(t *testing.T) {
	full, err := Load("mnist", "train", Options{ValSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		valSize      int
		nTrain, nVal int
	}{
		{0, 55000, 5000},
		{1000, 59000, 1000},
		{59999, 1, 59999},
	}
	for _, tt := range tests {
		train, err := Load("mnist", "train", Options{ValSize: tt.valSize})
		if err != nil {
			t.Fatal(err)
		}
		val, err := Load("mnist", "val", Options{ValSize: tt.valSize})
		if err != nil {
			t.Fatal(err)
		}
		if train.N != tt.nTrain || val.N != tt.nVal || train.Check() != nil || val.Check() != nil {
			t.Fatalf("ValSize %d: train %d val %d, want %d %d", tt.valSize, train.N, val.N, tt.nTrain, tt.nVal)
		}
		// train then val is the training file, in order.
		if !bytes.Equal(append(slices.Clone(train.Pixels), val.Pixels...), full.Pixels) ||
			!bytes.Equal(append(slices.Clone(train.Labels), val.Labels...), full.Labels) {
			t.Errorf("ValSize %d: train+val differ from the training file", tt.valSize)
		}
	}
	again, err := Load("mnist", "val", Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Pixels, full.Pixels[55000*784:]) {
		t.Error("default val split is not the last 5000 images")
	}
	for _, opts := range []Options{{ValSize: 60000}, {ValSize: 70000}} {
		if _, err := Load("mnist", "train", opts); err == nil || !strings.Contains(err.Error(), "leaves no training images") {
			t.Errorf("ValSize %d: error %v", opts.ValSize, err)
		}
	}
	if _, err := Load("mnist", "val", Options{ValSize: -1}); err == nil || !strings.Contains(err.Error(), "no validation split") {
		t.Errorf("ValSize -1, val: error %v", err)
	}
}

func TestLoadErrors(t *testing.T) {
	empty := t.TempDir()
	idxDir := t.TempDir()
	writeFile(t, filepath.Join(idxDir, "train-images-idx3-ubyte"), idxBytes(0x803, []uint32{4, 2, 2}, seq(16)))
	writeFile(t, filepath.Join(idxDir, "train-labels-idx1-ubyte"), idxBytes(0x801, []uint32{4}, []byte{0, 1, 2, 12}))
	tests := []struct {
		name, split string
		opts        Options
		kind        error
		msg         string
	}{
		{"mnist", "training", Options{}, nil, `dataset: split "training", want train, val or test`},
		{"no-such-set", "train", Options{}, nil, `dataset: "no-such-set" is neither mnist, fashion-mnist, cifar10 nor a directory`},
		{"fashion-mnist", "train", Options{DataDir: empty}, nil, "dataset: fashion-mnist: no data files found in " + empty},
		{"cifar10", "train", Options{DataDir: empty}, nil, "dataset: cifar10: no data files found in " + empty},
		{empty, "train", Options{}, ErrFormat, "dataset: " + empty + ": no class subdirectories"},
		{idxDir, "train", Options{ValSize: -1}, ErrLabel,
			"dataset: " + idxDir + "/train-labels-idx1-ubyte: label 12 of example 3 is out of range for 10 classes"},
		{idxDir, "test", Options{}, nil, "dataset: " + idxDir + ": no t10k-images-idx3 file"},
	}
	for _, tt := range tests {
		t.Run(tt.name+"/"+tt.split, func(t *testing.T) {
			_, err := Load(tt.name, tt.split, tt.opts)
			if err == nil || !strings.HasPrefix(err.Error(), tt.msg) || (tt.kind != nil && !errors.Is(err, tt.kind)) {
				t.Errorf("error %v, want %q (%v)", err, tt.msg, tt.kind)
			}
		})
	}
	// With enough classes the same directory loads.
	s, err := Load(idxDir, "train", Options{ValSize: 1, Classes: 13})
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 3 || s.Classes != 13 || s.Name != idxDir || !slices.Equal(s.Labels, []uint8{0, 1, 2}) {
		t.Errorf("got %q N=%d classes=%d labels %v", s.Name, s.N, s.Classes, s.Labels)
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

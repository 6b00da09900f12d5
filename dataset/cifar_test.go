package dataset

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cifarPixel is the synthetic value of pixel (c, y, x) of record r of batch b.
func cifarPixel(b, r, c, y, x int) byte { return byte(b*31 + r*17 + c*101 + y*7 + x*3) }

// cifarBatch builds a CIFAR-10 batch file of the given labels, writing each
// record as label, then red, green and blue planes of 32 rows of 32 bytes.
func cifarBatch(b int, labels []byte) []byte {
	var out []byte
	for r, l := range labels {
		out = append(out, l)
		for c := range 3 {
			for y := range 32 {
				for x := range 32 {
					out = append(out, cifarPixel(b, r, c, y, x))
				}
			}
		}
	}
	return out
}

func TestCIFAR(t *testing.T) {
	dir := t.TempDir()
	batches := [][]byte{{3, 1, 4}, {1, 5}, {9, 2, 6, 5}}
	for b, labels := range batches {
		writeFile(t, filepath.Join(dir, "data_batch_"+string(rune('1'+b))+".bin"), cifarBatch(b, labels))
	}
	writeFile(t, filepath.Join(dir, "test_batch.bin"), gz(cifarBatch(7, []byte{0, 8}))) // gzip is accepted too

	full, err := Load(dir, "train", Options{ValSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := full.Check(); err != nil {
		t.Fatal(err)
	}
	if full.N != 9 || full.C != 3 || full.H != 32 || full.W != 32 || full.Classes != 10 || full.ClassNames[9] != "truck" {
		t.Fatalf("got %d×%d×%d×%d, %d classes %v", full.N, full.C, full.H, full.W, full.Classes, full.ClassNames)
	}
	if want := []uint8{3, 1, 4, 1, 5, 9, 2, 6, 5}; !slices.Equal(full.Labels, want) {
		t.Errorf("labels %v, want %v", full.Labels, want)
	}
	// Image 4 is record 1 of batch 2 (index 1): check a few CHW positions.
	img := full.Image(4)
	for _, p := range [][3]int{{0, 0, 0}, {1, 5, 31}, {2, 31, 7}} {
		c, y, x := p[0], p[1], p[2]
		if got, want := img[c*1024+y*32+x], cifarPixel(1, 1, c, y, x); got != want {
			t.Errorf("image 4 (c=%d y=%d x=%d) = %d, want %d", c, y, x, got, want)
		}
	}

	val, err := Load(dir, "val", Options{ValSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(val.Labels, []uint8{6, 5}) || !bytes.Equal(val.Pixels, full.Pixels[7*3072:]) {
		t.Errorf("val labels %v, want the last two images", val.Labels)
	}
	test, err := Load("cifar10", "test", Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if test.Name != "cifar10" || test.N != 2 || !slices.Equal(test.Labels, []uint8{0, 8}) || test.Image(1)[1] != cifarPixel(7, 1, 0, 0, 1) {
		t.Errorf("test set %q N=%d labels %v", test.Name, test.N, test.Labels)
	}
}

func TestCIFARErrors(t *testing.T) {
	good := cifarBatch(0, []byte{1, 2})
	bad := slices.Clone(good)
	bad[3073] = 10
	tests := []struct {
		name string
		file []byte
		kind error
		msg  string
	}{
		{"empty", nil, ErrTruncated, "dataset: b.bin: empty file"},
		{"partial record", good[:3073+100], ErrTruncated,
			"dataset: b.bin: file holds 3173 bytes, not a whole number of 3073-byte records"},
		{"label 10", bad, ErrLabel, "dataset: b.bin: record 1 has label 10, want 0..9"},
		{"gzip truncated", gz(good)[:50], ErrTruncated, "dataset: b.bin: data ends early"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadCIFAR("b.bin", bytes.NewReader(tt.file))
			if !errors.Is(err, tt.kind) || err == nil || !strings.HasPrefix(err.Error(), tt.msg) {
				t.Errorf("error %v, want %q (%v)", err, tt.msg, tt.kind)
			}
		})
	}

	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "data_batch_1.bin"), good)
	writeFile(t, filepath.Join(dir, "data_batch_3.bin"), good)
	if _, err := Load(dir, "train", Options{ValSize: -1}); err == nil ||
		err.Error() != "dataset: "+dir+": training batches [1 3] are not numbered 1..2" {
		t.Errorf("gap in batches: error %v", err)
	}
	os.Remove(filepath.Join(dir, "data_batch_3.bin"))
	if _, err := Load(dir, "test", Options{}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing test_batch.bin: error %v", err)
	}
}

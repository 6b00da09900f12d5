package dataset

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestDefaultNormalization(t *testing.T) {
	tests := []struct {
		name      string
		mean, std []float32
	}{
		{"mnist", []float32{0.1307}, []float32{0.3081}},
		{"fashion-mnist", []float32{0.2860}, []float32{0.3530}},
		{"cifar10", []float32{0.4914, 0.4822, 0.4465}, []float32{0.2470, 0.2435, 0.2616}},
		{"/some/folder", nil, nil},
	}
	for _, tt := range tests {
		n := DefaultNormalization(tt.name)
		if n.Scale != float32(1.0/255) || !slices.Equal(n.Mean, tt.mean) || !slices.Equal(n.Std, tt.std) {
			t.Errorf("%s: %+v, want scale 1/255 mean %v std %v", tt.name, n, tt.mean, tt.std)
		}
	}
}

// tiny returns a set of two 2-channel 1×3 images with the given pixels.
func tiny(pix ...uint8) *Set {
	return &Set{Name: "tiny", N: 2, C: 2, H: 1, W: 3, Classes: 2, Pixels: pix, Labels: []uint8{0, 1}}
}

func TestBatch(t *testing.T) {
	s := tiny(0, 128, 255, 10, 20, 30, 1, 2, 3, 4, 5, 6)
	tests := []struct {
		name      string
		norm      Normalization
		scale     float64
		mean, std [2]float64
	}{
		{"zero value is /255", Normalization{}, 1.0 / 255, [2]float64{0, 0}, [2]float64{1, 1}},
		{"one mean for all channels", Normalization{Scale: 1.0 / 255, Mean: []float32{0.5}, Std: []float32{0.25}},
			1.0 / 255, [2]float64{0.5, 0.5}, [2]float64{0.25, 0.25}},
		{"per channel", Normalization{Scale: 1, Mean: []float32{10, 20}, Std: []float32{2, 4}},
			1, [2]float64{10, 20}, [2]float64{2, 4}},
		{"mnist", DefaultNormalization("mnist"), 1.0 / 255, [2]float64{0.1307, 0.1307}, [2]float64{0.3081, 0.3081}},
	}
	for _, tt := range tests {
		idx := []int{1, 0, 1}
		dst := make([]float32, len(idx)*6)
		s.Batch(idx, tt.norm, dst)
		for k, i := range idx {
			for j := range 6 {
				c := j / 3
				p := float64(s.Pixels[i*6+j])
				want := (p*tt.scale - float64(float32(tt.mean[c]))) / float64(float32(tt.std[c]))
				if got := float64(dst[k*6+j]); math.Abs(got-want) > 1e-6*max(1, math.Abs(want)) {
					t.Errorf("%s: batch[%d][%d] = %g, want %g", tt.name, k, j, got, want)
				}
			}
		}
	}
}

func TestBatchMisuse(t *testing.T) {
	s := tiny(make([]uint8, 12)...)
	tests := []struct {
		name string
		f    func()
		msg  string
	}{
		{"short dst", func() { s.Batch([]int{0, 1}, Normalization{}, make([]float32, 11)) }, "needs 12 floats, dst has 11"},
		{"index", func() { s.Batch([]int{2}, Normalization{}, make([]float32, 6)) }, "image index 2 out of range [0, 2)"},
		{"three means", func() { s.Batch([]int{0}, Normalization{Mean: []float32{1, 2, 3}}, make([]float32, 6)) },
			"normalization has 3 mean values for 2 channels"},
		{"zero std", func() { s.Batch([]int{0}, Normalization{Std: []float32{1, 0}}, make([]float32, 6)) },
			"std 0 for channel 1"},
		{"nil rng", func() { s.BatchAugmented([]int{0}, Normalization{}, Augment{FlipH: true}, nil, make([]float32, 6)) },
			"rng nil: true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if msg, _ := r.(string); !strings.HasPrefix(msg, "dataset: ") || !strings.Contains(msg, tt.msg) {
					t.Errorf("panic %v, want one containing %q", r, tt.msg)
				}
			}()
			tt.f()
		})
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Set)
		msg  string
	}{
		{"ok", func(*Set) {}, ""},
		{"short pixels", func(s *Set) { s.Pixels = s.Pixels[:11] }, `dataset: set "tiny": 11 pixel bytes, want 2×2×1×3`},
		{"labels", func(s *Set) { s.Labels = s.Labels[:1] }, `dataset: set "tiny": 1 labels for 2 images`},
		{"label range", func(s *Set) { s.Labels[1] = 2 }, `dataset: set "tiny": label 2 of image 1 is out of range for 2 classes`},
		{"class names", func(s *Set) { s.ClassNames = []string{"a"} }, `dataset: set "tiny": 1 class names for 2 classes`},
		{"zero channels", func(s *Set) { s.C = 0 }, `dataset: set "tiny": bad shape 2×0×1×3`},
	}
	for _, tt := range tests {
		s := tiny(make([]uint8, 12)...)
		tt.edit(s)
		err := s.Check()
		if (err == nil) != (tt.msg == "") || (err != nil && err.Error() != tt.msg) {
			t.Errorf("%s: error %v, want %q", tt.name, err, tt.msg)
		}
	}
}

func TestComputeNormalization(t *testing.T) {
	s := tiny(0, 255, 0, 51, 51, 51, 255, 0, 255, 102, 102, 102)
	n := ComputeNormalization(s)
	// Channel 0 holds three 0s and three 255s; channel 1 three 51s and three 102s.
	want := [][2]float64{{0.5, 0.5}, {0.3, 0.1}}
	for c, w := range want {
		if math.Abs(float64(n.Mean[c])-w[0]) > 1e-6 || math.Abs(float64(n.Std[c])-w[1]) > 1e-6 {
			t.Errorf("channel %d: mean %g std %g, want %g %g", c, n.Mean[c], n.Std[c], w[0], w[1])
		}
	}
}

func TestAugmentFlip(t *testing.T) {
	s := &Set{Name: "img", N: 1, C: 1, H: 2, W: 3, Classes: 1, Pixels: []uint8{1, 2, 3, 4, 5, 6}, Labels: []uint8{0}}
	norm := Normalization{Scale: 1}
	orig, flipped := []float32{1, 2, 3, 4, 5, 6}, []float32{3, 2, 1, 6, 5, 4}
	rng := rand.New(rand.NewPCG(1, 1))
	seen := map[string]int{}
	idx := make([]int, 200)
	dst := make([]float32, len(idx)*6)
	s.BatchAugmented(idx, norm, Augment{FlipH: true}, rng, dst)
	for k := range idx {
		switch img := dst[k*6 : (k+1)*6]; {
		case slices.Equal(img, orig):
			seen["orig"]++
		case slices.Equal(img, flipped):
			seen["flipped"]++
		default:
			t.Fatalf("image %d is %v, neither %v nor %v", k, img, orig, flipped)
		}
	}
	if seen["orig"] < 70 || seen["flipped"] < 70 {
		t.Errorf("flip counts %v, want about 100 each", seen)
	}
}

// shift is out(y, x) = img(y+dy, x+dx), 0 outside, for one h×w plane.
func shift(img []float32, h, w, dy, dx int) []float32 {
	out := make([]float32, h*w)
	for y := range h {
		for x := range w {
			if sy, sx := y+dy, x+dx; sy >= 0 && sy < h && sx >= 0 && sx < w {
				out[y*w+x] = img[sy*w+sx]
			}
		}
	}
	return out
}

func TestAugmentCrop(t *testing.T) {
	s := &Set{Name: "img", N: 1, C: 1, H: 3, W: 3, Classes: 1, Pixels: []uint8{1, 2, 3, 4, 5, 6, 7, 8, 9}, Labels: []uint8{0}}
	orig := []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}
	// A shift down by one (dy = 1) shows rows 2 and 3, then padding.
	if got := shift(orig, 3, 3, 1, 0); !slices.Equal(got, []float32{4, 5, 6, 7, 8, 9, 0, 0, 0}) {
		t.Fatalf("test helper shift is wrong: %v", got)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	idx := make([]int, 400)
	dst := make([]float32, len(idx)*9)
	s.BatchAugmented(idx, Normalization{Scale: 1}, Augment{Pad: 1}, rng, dst)
	seen := map[[2]int]int{}
	for k := range idx {
		img := dst[k*9 : (k+1)*9]
		found := false
		for dy := -1; dy <= 1 && !found; dy++ {
			for dx := -1; dx <= 1 && !found; dx++ {
				if slices.Equal(img, shift(orig, 3, 3, dy, dx)) {
					seen[[2]int{dy, dx}]++
					found = true
				}
			}
		}
		if !found {
			t.Fatalf("image %d is %v, not a shift by at most 1 of %v", k, img, orig)
		}
	}
	if len(seen) != 9 {
		t.Errorf("saw %d of the 9 shifts: %v", len(seen), seen)
	}
	// Padding is a pixel of value 0, so it normalizes like black.
	dst = dst[:9]
	norm := Normalization{Scale: 1, Mean: []float32{1}, Std: []float32{2}}
	for range 50 {
		s.BatchAugmented([]int{0}, norm, Augment{Pad: 1}, rng, dst)
		for _, v := range dst {
			if v != -0.5 && (v < 0 || v > 4) {
				t.Fatalf("value %g is neither padding (-0.5) nor a normalized pixel", v)
			}
		}
	}
}

func TestAugmentDeterminism(t *testing.T) {
	s := tiny(0, 128, 255, 10, 20, 30, 1, 2, 3, 4, 5, 6)
	idx := []int{0, 1, 1, 0, 1, 0, 0, 1}
	aug := Augment{Pad: 2, FlipH: true}
	run := func(seed uint64) []float32 {
		dst := make([]float32, len(idx)*6)
		s.BatchAugmented(idx, DefaultNormalization("mnist"), aug, rand.New(rand.NewPCG(seed, 0)), dst)
		return dst
	}
	if a, b := run(7), run(7); !slices.Equal(a, b) {
		t.Error("same seed, different batches")
	}
	if a, b := run(7), run(8); slices.Equal(a, b) {
		t.Error("different seeds, same batch")
	}
	// The zero Augment is Batch, and draws nothing.
	rng := rand.New(rand.NewPCG(3, 3))
	a, b := make([]float32, len(idx)*6), make([]float32, len(idx)*6)
	s.BatchAugmented(idx, Normalization{}, Augment{}, rng, a)
	s.Batch(idx, Normalization{}, b)
	if !slices.Equal(a, b) || rng.Uint64() != rand.New(rand.NewPCG(3, 3)).Uint64() {
		t.Error("zero Augment differs from Batch or consumed randomness")
	}
}

func TestHead(t *testing.T) {
	s := &Set{N: 3, C: 1, H: 1, W: 2, Classes: 2, Pixels: []uint8{1, 2, 3, 4, 5, 6}, Labels: []uint8{0, 1, 0}}
	for _, tc := range []struct {
		n, wantN int
		same     bool
	}{{0, 3, true}, {-1, 3, true}, {3, 3, true}, {7, 3, true}, {2, 2, false}, {1, 1, false}} {
		h := s.Head(tc.n)
		if h.N != tc.wantN || len(h.Labels) != tc.wantN || len(h.Pixels) != tc.wantN*2 || (h == s) != tc.same {
			t.Errorf("Head(%d): N %d, %d labels, %d pixels, same set %v; want N %d, same %v", tc.n, h.N, len(h.Labels), len(h.Pixels), h == s, tc.wantN, tc.same)
		}
		if err := h.Check(); err != nil {
			t.Errorf("Head(%d): %v", tc.n, err)
		}
	}
	if s.N != 3 || len(s.Labels) != 3 {
		t.Errorf("Head changed its receiver: N %d", s.N)
	}
}

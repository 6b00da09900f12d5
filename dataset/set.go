package dataset

import (
	"fmt"
	"math"
)

// Set is a labelled image data set held in memory as bytes.
type Set struct {
	Name       string   // "mnist", "fashion-mnist", "cifar10" or the directory loaded
	N, C, H, W int      // images, channels (1 or 3), rows, cols
	Classes    int      // labels are in [0, Classes)
	ClassNames []string // Classes names, or nil if unknown
	Pixels     []uint8  // N*C*H*W bytes; image i is Pixels[i*C*H*W:], channel-major (CHW)
	Labels     []uint8  // N labels
}

// ImageSize returns the number of bytes of one image, C*H*W.
func (s *Set) ImageSize() int { return s.C * s.H * s.W }

// Image returns the CHW bytes of image i (aliasing s.Pixels).
func (s *Set) Image(i int) []uint8 {
	n := s.ImageSize()
	return s.Pixels[i*n : (i+1)*n : (i+1)*n]
}

// Check reports whether s is consistent: positive sizes, slice lengths that
// match them, and every label below Classes.
func (s *Set) Check() error {
	switch {
	case s.N < 0 || s.C < 1 || s.H < 1 || s.W < 1:
		return fmt.Errorf("dataset: set %q: bad shape %d×%d×%d×%d", s.Name, s.N, s.C, s.H, s.W)
	case s.Classes < 1 || s.Classes > 256:
		return fmt.Errorf("dataset: set %q: %d classes, want 1..256", s.Name, s.Classes)
	case len(s.Pixels) != s.N*s.ImageSize():
		return fmt.Errorf("dataset: set %q: %d pixel bytes, want %d×%d×%d×%d", s.Name, len(s.Pixels), s.N, s.C, s.H, s.W)
	case len(s.Labels) != s.N:
		return fmt.Errorf("dataset: set %q: %d labels for %d images", s.Name, len(s.Labels), s.N)
	case s.ClassNames != nil && len(s.ClassNames) != s.Classes:
		return fmt.Errorf("dataset: set %q: %d class names for %d classes", s.Name, len(s.ClassNames), s.Classes)
	}
	for i, l := range s.Labels {
		if int(l) >= s.Classes {
			return fmt.Errorf("dataset: set %q: label %d of image %d is out of range for %d classes", s.Name, l, i, s.Classes)
		}
	}
	return nil
}

// Head returns the first n images of s, sharing its pixels and labels, or
// s itself when n is not positive or covers the whole set.
func (s *Set) Head(n int) *Set {
	if n <= 0 || n >= s.N {
		return s
	}
	t := *s
	t.N = n
	t.Pixels = s.Pixels[:n*s.ImageSize()]
	t.Labels = s.Labels[:n]
	return &t
}

// slice returns the images [lo, hi) of s as a new set. The pixels and labels
// are copied, so the result does not keep the rest of s alive.
func (s *Set) slice(lo, hi int) *Set {
	t := *s
	t.N = hi - lo
	n := s.ImageSize()
	t.Pixels = append([]uint8(nil), s.Pixels[lo*n:hi*n]...)
	t.Labels = append([]uint8(nil), s.Labels[lo:hi]...)
	return &t
}

// Normalization maps a pixel byte p of channel c to (p*Scale − Mean[c]) / Std[c].
// The zero value maps pixels to [0, 1]: a zero Scale means 1/255, and empty
// Mean and Std mean 0 and 1. A Mean or Std of length 1 applies to every
// channel; otherwise its length must equal the set's channel count.
type Normalization struct {
	Scale     float32
	Mean, Std []float32
}

// DefaultNormalization returns the customary normalization for a named data
// set: the per-channel mean and standard deviation of its training images
// scaled to [0, 1]. For any other name it returns the zero value (pixels/255).
func DefaultNormalization(name string) Normalization {
	switch name {
	case "mnist":
		return Normalization{Scale: 1.0 / 255, Mean: []float32{0.1307}, Std: []float32{0.3081}}
	case "fashion-mnist":
		return Normalization{Scale: 1.0 / 255, Mean: []float32{0.2860}, Std: []float32{0.3530}}
	case "cifar10":
		// Population statistics of the 50,000 training images (the often quoted
		// 0.2023, 0.1994, 0.2010 are means of per-image standard deviations).
		return Normalization{Scale: 1.0 / 255,
			Mean: []float32{0.4914, 0.4822, 0.4465}, Std: []float32{0.2470, 0.2435, 0.2616}}
	}
	return Normalization{Scale: 1.0 / 255}
}

// ComputeNormalization returns the per-channel mean and standard deviation of
// the pixels of s, scaled by 1/255.
func ComputeNormalization(s *Set) Normalization {
	sum := make([]float64, s.C)
	sq := make([]float64, s.C)
	hw := s.H * s.W
	for i := 0; i < s.N; i++ {
		img := s.Image(i)
		for c := range s.C {
			for _, p := range img[c*hw : (c+1)*hw] {
				v := float64(p) / 255
				sum[c] += v
				sq[c] += v * v
			}
		}
	}
	norm := Normalization{Scale: 1.0 / 255, Mean: make([]float32, s.C), Std: make([]float32, s.C)}
	cnt := float64(s.N * hw)
	for c := range s.C {
		m := sum[c] / cnt
		norm.Mean[c] = float32(m)
		norm.Std[c] = float32(math.Sqrt(max(sq[c]/cnt-m*m, 0)))
	}
	return norm
}

// table returns, per channel, the normalized value of each of the 256 pixel
// bytes, computed in float64. It panics if Mean or Std fits neither 1 nor
// channels values, or a Std is not positive.
func (n Normalization) table(channels int) [][256]float32 {
	scale := float64(n.Scale)
	if scale == 0 {
		scale = 1.0 / 255
	}
	pick := func(v []float32, def float32, what string, c int) float64 {
		switch len(v) {
		case 0:
			return float64(def)
		case 1:
			return float64(v[0])
		case channels:
			return float64(v[c])
		}
		panic(fmt.Sprintf("dataset: normalization has %d %s values for %d channels", len(v), what, channels))
	}
	lut := make([][256]float32, channels)
	for c := range channels {
		mean, std := pick(n.Mean, 0, "mean", c), pick(n.Std, 1, "std", c)
		if !(std > 0) {
			panic(fmt.Sprintf("dataset: normalization std %g for channel %d, want > 0", std, c))
		}
		for p := range 256 {
			lut[c][p] = float32((float64(p)*scale - mean) / std)
		}
	}
	return lut
}

// Batch fills dst, of length len(idx)*C*H*W, with the images s.Image(idx[k])
// normalized by norm, in NCHW order: x = (pixel*Scale − Mean[c]) / Std[c].
// Misuse (a short dst, an index out of range, a normalization that does not
// fit the channels) panics, like an index out of range.
func (s *Set) Batch(idx []int, norm Normalization, dst []float32) {
	s.BatchAugmented(idx, norm, Augment{}, nil, dst)
}

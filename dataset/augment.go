package dataset

import (
	"fmt"
	"math/rand/v2"
)

// Augment is a random training-time transformation applied per image while a
// batch is filled. The zero value does nothing. The usual setting for 28×28
// and 32×32 images is Augment{Pad: 2, FlipH: true}.
type Augment struct {
	// Pad > 0 enables a random crop: the image is padded by Pad pixels of value
	// 0 on every side (so the padding normalizes like a black pixel) and an
	// H×W window is cut at an offset drawn uniformly from [0, 2·Pad]², that is,
	// the image is shifted by up to Pad pixels in each direction.
	Pad int
	// FlipH mirrors the image left to right with probability 1/2 (after the crop).
	FlipH bool
}

// BatchAugmented is Batch with aug applied to every image. The random draws
// come from rng, image by image in idx order (the crop's row then column
// offset if Pad > 0, then the flip if FlipH), so the same rng state, indices
// and aug always give the same batch. rng may be nil only if aug is the zero
// value. Misuse panics as in Batch.
func (s *Set) BatchAugmented(idx []int, norm Normalization, aug Augment, rng *rand.Rand, dst []float32) {
	size := s.ImageSize()
	if len(dst) != len(idx)*size {
		panic(fmt.Sprintf("dataset: batch of %d images of %d×%d×%d needs %d floats, dst has %d",
			len(idx), s.C, s.H, s.W, len(idx)*size, len(dst)))
	}
	if aug.Pad < 0 || (aug != Augment{} && rng == nil) {
		panic(fmt.Sprintf("dataset: bad augmentation %+v (rng nil: %t)", aug, rng == nil))
	}
	lut := norm.table(s.C)
	for k, i := range idx {
		if i < 0 || i >= s.N {
			panic(fmt.Sprintf("dataset: image index %d out of range [0, %d) in set %q", i, s.N, s.Name))
		}
		dy, dx, flip := 0, 0, false
		if aug.Pad > 0 {
			dy = rng.IntN(2*aug.Pad+1) - aug.Pad
			dx = rng.IntN(2*aug.Pad+1) - aug.Pad
		}
		if aug.FlipH {
			flip = rng.IntN(2) == 1
		}
		s.fill(dst[k*size:(k+1)*size], s.Image(i), lut, dy, dx, flip)
	}
}

// fill writes into out the normalized image img shifted so that out(y, x) =
// img(y+dy, x'+dx) with x' = W−1−x if flip else x, and pixel value 0 outside
// the image.
func (s *Set) fill(out []float32, img []uint8, lut [][256]float32, dy, dx int, flip bool) {
	h, w := s.H, s.W
	for c := range s.C {
		t := &lut[c]
		plane, src := out[c*h*w:(c+1)*h*w], img[c*h*w:(c+1)*h*w]
		if dy == 0 && dx == 0 && !flip {
			for j, p := range src {
				plane[j] = t[p]
			}
			continue
		}
		for y := range h {
			row := plane[y*w : (y+1)*w]
			sy := y + dy
			if sy < 0 || sy >= h {
				for x := range row {
					row[x] = t[0]
				}
				continue
			}
			srow := src[sy*w : (sy+1)*w]
			for x := range row {
				xx := x
				if flip {
					xx = w - 1 - x
				}
				if sx := xx + dx; sx >= 0 && sx < w {
					row[x] = t[srow[sx]]
				} else {
					row[x] = t[0]
				}
			}
		}
	}
}

package dataset

import (
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // decoder for .jpg and .jpeg files
	_ "image/png"  // decoder for .png files
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// FolderOptions control ReadFolder.
type FolderOptions struct {
	H, W      int  // size every image is resized to; 0, 0 = the size of the first image
	Grayscale bool // decode to one luminance channel instead of three RGB channels
}

// ReadFolder reads an image folder laid out as root/<class>/<image>, where the
// images are .png, .jpg or .jpeg files (any letter case); other files and
// names starting with "." are ignored. Classes are the subdirectory names in
// sorted order (label i is the i-th name). Each image is decoded, composited
// over black if it has transparency, converted to RGB or to luminance
// (Grayscale), and resized to H×W bilinearly.
//
// Images are ordered round-robin over the classes, each class in file name
// order: the first image of every class, then the second of every class, and
// so on. So any contiguous range, in particular the last images that form the
// validation split, mixes all classes.
func ReadFolder(root string, opts FolderOptions) (*Set, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	var classes []string
	var files [][]string
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		dir := filepath.Join(root, e.Name())
		imgs, err := imageFiles(dir)
		if err != nil {
			return nil, err
		}
		classes = append(classes, e.Name())
		files = append(files, imgs)
	}
	switch {
	case len(classes) == 0:
		return nil, fileErr(root, ErrFormat, "no class subdirectories")
	case len(classes) > 256:
		return nil, fileErr(root, ErrDims, "%d classes, at most 256 fit a byte label", len(classes))
	}
	if opts.H < 0 || opts.W < 0 || opts.H > MaxIDXSide || opts.W > MaxIDXSide || (opts.H == 0) != (opts.W == 0) {
		return nil, fmt.Errorf("dataset: %s: bad image size %d×%d, want both 1..%d or both 0", root, opts.H, opts.W, MaxIDXSide)
	}
	var order []string
	var labels []uint8
	for k := 0; len(order) < countAll(files); k++ {
		for c, fs := range files {
			if k < len(fs) {
				order = append(order, fs[k])
				labels = append(labels, uint8(c))
			}
		}
	}
	s := &Set{Name: root, N: len(order), C: 3, H: opts.H, W: opts.W, Classes: len(classes), ClassNames: classes, Labels: labels}
	if opts.Grayscale {
		s.C = 1
	}
	for i, f := range order {
		img, err := decodeImage(f)
		if err != nil {
			return nil, err
		}
		if i == 0 && s.H == 0 {
			b := img.Bounds()
			s.H, s.W = b.Dy(), b.Dx()
			if s.H > MaxIDXSide || s.W > MaxIDXSide {
				return nil, fileErr(f, ErrDims, "image is %d×%d, give a size of at most %d", s.H, s.W, MaxIDXSide)
			}
		}
		if s.Pixels == nil {
			s.Pixels = make([]uint8, 0, s.N*s.ImageSize())
		}
		s.Pixels = appendResized(s.Pixels, img, s.C, s.H, s.W)
	}
	return s, nil
}

// imageFiles lists the image files of one class directory in name order.
func imageFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	var out []string
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") || (ext != ".png" && ext != ".jpg" && ext != ".jpeg") {
			continue
		}
		out = append(out, filepath.Join(dir, e.Name()))
	}
	if len(out) == 0 {
		return nil, fileErr(dir, ErrFormat, "class directory holds no .png, .jpg or .jpeg images")
	}
	slices.Sort(out)
	return out, nil
}

func countAll(files [][]string) int {
	n := 0
	for _, fs := range files {
		n += len(fs)
	}
	return n
}

// maxDecodeSide bounds the width and height of a source image, checked from
// its header before it is decoded.
const maxDecodeSide = 1 << 14

// decodeImage decodes one PNG or JPEG file.
func decodeImage(path string) (image.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("dataset: %w", err)
	}
	defer f.Close()
	cfg, _, err := image.DecodeConfig(f)
	if err == nil && (cfg.Width > maxDecodeSide || cfg.Height > maxDecodeSide) {
		return nil, fileErr(path, ErrDims, "image is %d×%d, limit is %d per side", cfg.Width, cfg.Height, maxDecodeSide)
	}
	var img image.Image
	if err == nil {
		if _, err = f.Seek(0, io.SeekStart); err == nil {
			img, _, err = image.Decode(f)
		}
	}
	if err != nil {
		e := fileErr(path, ErrCorrupt, "cannot decode image: %v", err)
		e.Cause = err
		return nil, e
	}
	if b := img.Bounds(); b.Empty() {
		return nil, fileErr(path, ErrDims, "image is empty")
	}
	return img, nil
}

// appendResized appends img, converted to c channels (1 = luminance, 3 = RGB)
// and resized to h×w, to dst in CHW order. Resizing is bilinear with pixel
// centres aligned (the half-pixel convention of ONNX Resize and PyTorch's
// align_corners=False), clamping at the borders; an image already h×w is
// copied exactly.
func appendResized(dst []uint8, img image.Image, c, h, w int) []uint8 {
	b := img.Bounds()
	sh, sw := b.Dy(), b.Dx()
	src := make([]float32, c*sh*sw)
	for y := range sh {
		for x := range sw {
			col := img.At(b.Min.X+x, b.Min.Y+y)
			if c == 1 {
				g := color.GrayModel.Convert(col).(color.Gray)
				src[y*sw+x] = float32(g.Y)
				continue
			}
			r, g, bl, _ := col.RGBA() // premultiplied: transparency composites over black
			src[y*sw+x] = float32(r >> 8)
			src[sh*sw+y*sw+x] = float32(g >> 8)
			src[2*sh*sw+y*sw+x] = float32(bl >> 8)
		}
	}
	ys, xs := axis(sh, h), axis(sw, w)
	for ch := range c {
		plane := src[ch*sh*sw : (ch+1)*sh*sw]
		for _, ty := range ys {
			for _, tx := range xs {
				top := plane[ty.i0*sw+tx.i0]*(1-tx.f) + plane[ty.i0*sw+tx.i1]*tx.f
				bot := plane[ty.i1*sw+tx.i0]*(1-tx.f) + plane[ty.i1*sw+tx.i1]*tx.f
				v := top*(1-ty.f) + bot*ty.f
				dst = append(dst, uint8(min(max(math.Round(float64(v)), 0), 255)))
			}
		}
	}
	return dst
}

// tap is one output coordinate's two source neighbours and the weight of the second.
type tap struct {
	i0, i1 int
	f      float32
}

// axis maps n output coordinates onto a source axis of length src.
func axis(src, n int) []tap {
	taps := make([]tap, n)
	scale := float64(src) / float64(n)
	for i := range taps {
		p := (float64(i)+0.5)*scale - 0.5
		p = min(max(p, 0), float64(src-1))
		i0 := int(p)
		taps[i] = tap{i0: i0, i1: min(i0+1, src-1), f: float32(p - float64(i0))}
	}
	return taps
}

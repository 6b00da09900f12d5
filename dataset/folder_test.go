package dataset

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func pngBytes(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func solid(w, h int, c color.Color) image.Image {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, c)
		}
	}
	return img
}

// grayRows returns a w×h gray image whose every row is row.
func grayRows(h int, row ...uint8) image.Image {
	img := image.NewGray(image.Rect(0, 0, len(row), h))
	for y := range h {
		copy(img.Pix[y*img.Stride:], row)
	}
	return img
}

var (
	red   = color.NRGBA{255, 0, 0, 255}
	green = color.NRGBA{0, 255, 0, 255}
	blue  = color.NRGBA{10, 20, 230, 255}
)

// makeFolder writes root/<class>/<name> PNG files.
func makeFolder(t *testing.T, root string, files map[string]image.Image) {
	t.Helper()
	for name, img := range files {
		writeFile(t, filepath.Join(root, name), pngBytes(t, img))
	}
}

func TestFolder(t *testing.T) {
	root := t.TempDir()
	makeFolder(t, root, map[string]image.Image{
		"dog/a.png": solid(4, 4, red), "dog/b.PNG": solid(4, 4, red), "dog/c.png": solid(4, 4, red),
		"cat/x.png": solid(4, 4, green), "cat/y.png": solid(4, 4, green),
		"bird/1.png": solid(8, 2, blue), // resized to 4×4
	})
	writeFile(t, filepath.Join(root, "dog", "notes.txt"), []byte("ignored"))
	writeFile(t, filepath.Join(root, ".cache", "z.png"), []byte("ignored"))

	s, err := Load(root, "train", Options{ValSize: -1, FolderOptions: FolderOptions{H: 4, W: 4}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(s.ClassNames, []string{"bird", "cat", "dog"}) || s.N != 6 || s.C != 3 || s.H != 4 || s.W != 4 {
		t.Fatalf("classes %v, %d×%d×%d×%d", s.ClassNames, s.N, s.C, s.H, s.W)
	}
	// Round-robin over classes: bird/1, cat/x, dog/a, cat/y, dog/b, dog/c.
	if want := []uint8{0, 1, 2, 1, 2, 2}; !slices.Equal(s.Labels, want) {
		t.Errorf("labels %v, want %v", s.Labels, want)
	}
	wantRGB := map[uint8][3]uint8{0: {10, 20, 230}, 1: {0, 255, 0}, 2: {255, 0, 0}}
	for i := range s.N {
		img, want := s.Image(i), wantRGB[s.Labels[i]]
		for c := range 3 {
			for _, p := range img[c*16 : (c+1)*16] {
				if p != want[c] {
					t.Fatalf("image %d channel %d has %d, want %d", i, c, p, want[c])
				}
			}
		}
	}

	gray, err := Load(root, "val", Options{ValSize: 2, FolderOptions: FolderOptions{H: 2, W: 3, Grayscale: true}})
	if err != nil {
		t.Fatal(err)
	}
	// Luminance 0.299 R + 0.587 G + 0.114 B: red 255 → 76.2, green 255 → 149.7.
	if gray.C != 1 || gray.H != 2 || gray.W != 3 || !slices.Equal(gray.Labels, []uint8{2, 2}) ||
		!bytes.Equal(gray.Pixels, bytes.Repeat([]byte{76}, 12)) {
		t.Errorf("gray val: %d×%d×%d labels %v pixels %v", gray.C, gray.H, gray.W, gray.Labels, gray.Pixels)
	}
	g, _ := Load(root, "train", Options{ValSize: -1, FolderOptions: FolderOptions{H: 1, W: 1, Grayscale: true}})
	if g == nil || g.Pixels[1] != 150 {
		t.Errorf("gray of green: %v, want 150", g)
	}
}

func TestFolderSplitsAndSize(t *testing.T) {
	root := t.TempDir()
	makeFolder(t, root, map[string]image.Image{
		"train/a/1.png": grayRows(2, 0, 100), "train/b/1.png": grayRows(2, 0, 100),
		"val/a/1.png": grayRows(2, 50, 50), "val/b/1.png": grayRows(2, 60, 60), "val/b/2.png": grayRows(2, 60, 60),
		"test/a/1.png": grayRows(2, 7, 7),
	})
	tests := []struct {
		split string
		n     int
		pix0  []uint8 // first image, 1×2×4 (grayscale; the width is doubled)
	}{
		{"train", 2, []uint8{0, 25, 75, 100, 0, 25, 75, 100}}, // bilinear, half-pixel centres
		{"val", 3, []uint8{50, 50, 50, 50, 50, 50, 50, 50}},
		{"test", 1, []uint8{7, 7, 7, 7, 7, 7, 7, 7}},
	}
	for _, tt := range tests {
		s, err := Load(root, tt.split, Options{FolderOptions: FolderOptions{H: 2, W: 4, Grayscale: true}})
		if err != nil {
			t.Fatal(err)
		}
		if s.N != tt.n || !bytes.Equal(s.Image(0), tt.pix0) {
			t.Errorf("%s: N=%d first image %v, want %d, %v", tt.split, s.N, s.Image(0), tt.n, tt.pix0)
		}
	}
	// Without H, W the first image's size is used.
	s, err := Load(filepath.Join(root, "val"), "train", Options{ValSize: -1})
	if err != nil || s.H != 2 || s.W != 2 {
		t.Errorf("default size: %v %v", s, err)
	}
}

func TestResize(t *testing.T) {
	noise := image.NewRGBA(image.Rect(0, 0, 5, 3))
	for i := range noise.Pix {
		noise.Pix[i] = uint8(i * 37)
		if i%4 == 3 {
			noise.Pix[i] = 255
		}
	}
	tests := []struct {
		name string
		img  image.Image
		h, w int
		want []uint8
	}{
		{"upscale row", grayRows(1, 0, 100), 1, 4, []uint8{0, 25, 75, 100}},
		{"downscale row", grayRows(1, 0, 40, 80, 120), 1, 2, []uint8{20, 100}},
		{"downscale 3 to 2", grayRows(1, 0, 30, 90), 1, 2, []uint8{8, 75}}, // at 0.25 and 1.75: 7.5 → 8, 7.5+67.5
		{"constant", grayRows(3, 9, 9, 9), 5, 7, bytes.Repeat([]byte{9}, 35)},
		{"columns", image.Image(func() *image.Gray {
			g := image.NewGray(image.Rect(0, 0, 1, 2))
			g.Pix[0], g.Pix[1] = 200, 0
			return g
		}()), 4, 1, []uint8{200, 150, 50, 0}},
	}
	for _, tt := range tests {
		if got := appendResized(nil, tt.img, 1, tt.h, tt.w); !bytes.Equal(got, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
	// Same size: an exact copy, in CHW order.
	got := appendResized(nil, noise, 3, 3, 5)
	for c := range 3 {
		for y := range 3 {
			for x := range 5 {
				if got[c*15+y*5+x] != noise.Pix[y*noise.Stride+4*x+c] {
					t.Fatalf("identity resize differs at c=%d y=%d x=%d", c, y, x)
				}
			}
		}
	}
}

func TestFolderErrors(t *testing.T) {
	corrupt := t.TempDir()
	makeFolder(t, corrupt, map[string]image.Image{"a/1.png": solid(2, 2, red)})
	writeFile(t, filepath.Join(corrupt, "a", "2.png"), []byte("\x89PNG\r\n\x1a\nnot really"))
	noImages := t.TempDir()
	makeFolder(t, noImages, map[string]image.Image{"a/1.png": solid(2, 2, red)})
	writeFile(t, filepath.Join(noImages, "b", "readme.txt"), []byte("x"))
	tests := []struct {
		name string
		root string
		opts FolderOptions
		kind error
		msg  string
	}{
		{"corrupt png", corrupt, FolderOptions{}, ErrCorrupt, "dataset: " + filepath.Join(corrupt, "a", "2.png") + ": cannot decode image"},
		{"empty class", noImages, FolderOptions{}, ErrFormat, "dataset: " + filepath.Join(noImages, "b") + ": class directory holds no"},
		{"bad size", corrupt, FolderOptions{H: 4}, nil, "dataset: " + corrupt + ": bad image size 4×0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ReadFolder(tt.root, tt.opts)
			if err == nil || !strings.HasPrefix(err.Error(), tt.msg) || (tt.kind != nil && !errors.Is(err, tt.kind)) {
				t.Errorf("error %v, want %q (%v)", err, tt.msg, tt.kind)
			}
		})
	}
	if _, err := Load(corrupt, "test", Options{}); err == nil || !strings.Contains(err.Error(), "image folder has no test split") {
		t.Errorf("test split of a flat folder: error %v", err)
	}
}

func TestFolderJPEG(t *testing.T) {
	root := t.TempDir()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, solid(8, 8, color.NRGBA{200, 100, 50, 255}), &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "only", "a.jpg"), buf.Bytes())
	s, err := ReadFolder(root, FolderOptions{H: 4, W: 4})
	if err != nil {
		t.Fatal(err)
	}
	for c, want := range []int{200, 100, 50} {
		for _, p := range s.Image(0)[c*16 : (c+1)*16] {
			if d := int(p) - want; d < -4 || d > 4 {
				t.Fatalf("channel %d: %d, want %d ± 4 (JPEG is lossy)", c, p, want)
			}
		}
	}
}

package dataset

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// idxBytes builds an IDX file: the magic, the dims, then data.
func idxBytes(magic uint32, dims []uint32, data []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, magic)
	for _, d := range dims {
		b = binary.BigEndian.AppendUint32(b, d)
	}
	return append(b, data...)
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func seq(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}

func TestReadIDX(t *testing.T) {
	img := seq(2 * 3 * 4)
	lab := []byte{1, 0}
	tests := []struct {
		name string
		file []byte
		dims []int
		data []byte
	}{
		{"images raw", idxBytes(0x803, []uint32{2, 3, 4}, img), []int{2, 3, 4}, img},
		{"images gzip", gz(idxBytes(0x803, []uint32{2, 3, 4}, img)), []int{2, 3, 4}, img},
		{"labels raw", idxBytes(0x801, []uint32{2}, lab), []int{2}, lab},
		{"labels gzip", gz(idxBytes(0x801, []uint32{2}, lab)), []int{2}, lab},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x, err := ReadIDX("f", bytes.NewReader(tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(x.Dims, tt.dims) || !bytes.Equal(x.Data, tt.data) || x.File != "f" {
				t.Errorf("got %q dims %v data %v, want dims %v data %v", x.File, x.Dims, x.Data, tt.dims, tt.data)
			}
		})
	}
}

// TestReadIDXErrors feeds malformed files and checks each error's kind, its
// message, and that parsing allocated little memory whatever the header says.
func TestReadIDXErrors(t *testing.T) {
	const name = "train-images-idx3-ubyte.gz"
	good := idxBytes(0x803, []uint32{2, 3, 4}, seq(24))
	goodGz := gz(good)
	noise := make([]byte, 10000)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise {
		noise[i] = byte(rng.Uint32())
	}
	bigGz := gz(idxBytes(0x803, []uint32{100, 10, 10}, noise))
	corruptGz := slices.Clone(goodGz)
	corruptGz[len(corruptGz)-6] ^= 0xff // inside the CRC-32 trailer
	garbledGz := slices.Clone(goodGz)
	for i := 10; i < len(garbledGz)-8; i++ { // the deflate stream itself
		garbledGz[i] = 0xff
	}
	tests := []struct {
		name string
		file []byte
		kind error
		msg  string
	}{
		{"empty file", nil, ErrTruncated, "dataset: " + name + ": empty file"},
		{"empty gzip", gz(nil), ErrTruncated, "empty file"},
		{"bad magic", idxBytes(0x0803_0000, []uint32{2, 3, 4}, seq(24)), ErrFormat, "magic 0x08030000 is not an IDX u8 file"},
		{"float IDX", idxBytes(0x0d03, []uint32{2, 3, 4}, seq(24)), ErrFormat, "magic 0x00000d03"},
		{"text file", []byte("hello, world\n"), ErrFormat, "magic 0x68656c6c"},
		{"truncated magic", []byte{0, 0, 8}, ErrTruncated, "header truncated: 3 of 4 magic bytes"},
		{"truncated header", good[:10], ErrTruncated, "header truncated: 10 of 16 bytes"},
		{"truncated label header", []byte{0, 0, 8, 1, 0, 0}, ErrTruncated, "header truncated: 6 of 8 bytes"},
		{"truncated data", idxBytes(0x803, []uint32{60000, 28, 28}, seq(1234)), ErrTruncated,
			"dataset: " + name + ": header says 60000 images of 28×28, file holds 1234 bytes of pixels"},
		{"truncated data gzip", gz(idxBytes(0x803, []uint32{60000, 28, 28}, seq(1234))), ErrTruncated,
			"header says 60000 images of 28×28, file holds 1234 bytes of pixels"},
		{"truncated labels", idxBytes(0x801, []uint32{60000}, seq(10)), ErrTruncated,
			"header says 60000 labels, file holds 10 bytes of labels"},
		{"truncated gzip stream", bigGz[:len(bigGz)/2], ErrTruncated, "header says 100 images of 10×10, file holds "},
		{"gzip without trailer", goodGz[:len(goodGz)-8], ErrTruncated, "gzip stream ends right after the data"},
		{"trailing data", append(slices.Clone(good), 0), ErrTrailing, "header says 2 images of 3×4, file holds more bytes"},
		{"huge count 2^31", idxBytes(0x803, []uint32{1 << 31, 28, 28}, seq(100)), ErrDims,
			"header says 2147483648 images, want 1..10000000"},
		{"huge labels 2^32-1", idxBytes(0x801, []uint32{1<<32 - 1}, nil), ErrDims, "header says 4294967295 labels"},
		{"huge rows 2^31", idxBytes(0x803, []uint32{1, 1 << 31, 1 << 31}, seq(100)), ErrDims,
			"header says images of 2147483648×2147483648, each side must be 1..4096"},
		{"zero cols", idxBytes(0x803, []uint32{1, 28, 0}, nil), ErrDims, "images of 28×0"},
		{"zero count", idxBytes(0x801, []uint32{0}, nil), ErrDims, "header says 0 labels"},
		{"over 4 GiB", idxBytes(0x803, []uint32{10_000_000, 4096, 4096}, seq(100)), ErrDims,
			"header says 10000000 images of 4096×4096 is 167772160000000 bytes, limit is 4294967296"},
		{"gzip bad checksum", corruptGz, ErrCorrupt, "unreadable at byte 40: gzip: invalid checksum"},
		{"gzip garbled", garbledGz, ErrCorrupt, "unreadable at byte"},
		{"gzip bad header", []byte{0x1f, 0x8b, 0, 0, 0, 0, 0, 0, 0, 0, 0}, ErrCorrupt, "gzip: invalid header"},
		{"gzip header truncated", []byte{0x1f, 0x8b, 8}, ErrTruncated, "gzip header truncated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			x, err := ReadIDX(name, bytes.NewReader(tt.file))
			runtime.ReadMemStats(&after)
			if err == nil {
				t.Fatalf("no error, got dims %v", x.Dims)
			}
			if !errors.Is(err, tt.kind) {
				t.Errorf("error %q is not %v", err, tt.kind)
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.File != name {
				t.Errorf("error %q is not a *FileError naming %q", err, name)
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "dataset: "+name+": ") {
				t.Errorf("error %q, want it to contain %q", err, tt.msg)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
				t.Errorf("allocated %d bytes for a %d-byte file", alloc, len(tt.file))
			}
		})
	}
}

// TestReadIDXGrowth checks that a header declaring far more data than a gzip
// stream delivers allocates in proportion to the delivered data.
func TestReadIDXGrowth(t *testing.T) {
	file := gz(idxBytes(0x803, []uint32{1_000_000, 64, 64}, make([]byte, 3<<20))) // declares 4 GB, holds 3 MB
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := ReadIDX("big", bytes.NewReader(file))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "file holds 3145728 bytes of pixels") {
		t.Fatalf("error %v, want truncation at 3145728 bytes", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("allocated %d bytes to read 3 MB", alloc)
	}
}

func TestFromIDX(t *testing.T) {
	images := &IDX{File: "img", Dims: []int{3, 2, 2}, Data: seq(12)}
	labels := &IDX{File: "lab", Dims: []int{3}, Data: []byte{0, 9, 4}}
	tests := []struct {
		name           string
		images, labels *IDX
		classes        int
		kind           error
		msg            string
	}{
		{"count mismatch", images, &IDX{File: "lab", Dims: []int{2}, Data: []byte{0, 1}}, 10, ErrMismatch,
			"dataset: lab: holds 2 labels, but img holds 3 images"},
		{"label out of range", images, labels, 9, ErrLabel, "dataset: lab: label 9 of example 1 is out of range for 9 classes"},
		{"labels as images", labels, labels, 10, ErrFormat, "dataset: lab: is a label file (magic 0x00000801), want images (0x00000803)"},
		{"images as labels", images, images, 10, ErrFormat, "dataset: img: is an image file (magic 0x00000803), want labels (0x00000801)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromIDX(tt.images, tt.labels, tt.classes)
			if !errors.Is(err, tt.kind) || err.Error() != tt.msg {
				t.Errorf("error %v, want %q (%v)", err, tt.msg, tt.kind)
			}
		})
	}
	s, err := FromIDX(images, labels, 10)
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 3 || s.C != 1 || s.H != 2 || s.W != 2 || s.Classes != 10 || s.Check() != nil {
		t.Errorf("got set %d×%d×%d×%d of %d classes (check: %v)", s.N, s.C, s.H, s.W, s.Classes, s.Check())
	}
}

func FuzzReadIDX(f *testing.F) {
	f.Add(idxBytes(0x803, []uint32{2, 3, 4}, seq(24)))
	f.Add(gz(idxBytes(0x803, []uint32{1, 2, 2}, seq(4))))
	f.Add(idxBytes(0x801, []uint32{3}, []byte{1, 2, 3}))
	f.Add(gz(idxBytes(0x801, []uint32{1}, []byte{7})))
	f.Add(idxBytes(0x803, []uint32{60000, 28, 28}, seq(50)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, file []byte) {
		x, err := ReadIDX("fuzz", bytes.NewReader(file))
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || !strings.HasPrefix(err.Error(), "dataset: fuzz: ") {
				t.Fatalf("error %q is not a *FileError naming the file", err)
			}
			return
		}
		size := 1
		for _, d := range x.Dims {
			if d < 1 {
				t.Fatalf("accepted dims %v", x.Dims)
			}
			size *= d
		}
		if len(x.Data) != size || (len(x.Dims) != 1 && len(x.Dims) != 3) {
			t.Fatalf("dims %v with %d data bytes", x.Dims, len(x.Data))
		}
		if len(file) > 0 && file[0] == 0 { // raw: the file is exactly header + data
			magic := uint32(0x801)
			if x.IsImages() {
				magic = 0x803
			}
			var dims []uint32
			for _, d := range x.Dims {
				dims = append(dims, uint32(d))
			}
			if !bytes.Equal(idxBytes(magic, dims, x.Data), file) {
				t.Fatalf("re-encoding differs from the input")
			}
		}
	})
}

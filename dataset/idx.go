package dataset

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// IDX magic numbers: two zero bytes, the element type (0x08 = unsigned byte)
// and the number of dimensions.
const (
	MagicIDXImages = 0x00000803 // u8 [n, rows, cols]
	MagicIDXLabels = 0x00000801 // u8 [n]
)

// Limits on IDX headers, checked before anything is allocated.
const (
	MaxIDXCount = 10_000_000 // images or labels in one file
	MaxIDXSide  = 4096       // rows and cols of an image
	MaxIDXBytes = 1 << 32    // pixel bytes of one file (4 GiB)
)

// IDX is the content of one IDX file of unsigned bytes: an image file
// (Dims = [n, rows, cols]) or a label file (Dims = [n]).
type IDX struct {
	File string  // the name the file was read under, for error messages
	Dims []int   // [n, rows, cols] or [n]
	Data []uint8 // product(Dims) bytes, row-major
}

// IsImages reports whether x is an image file (three dimensions).
func (x *IDX) IsImages() bool { return len(x.Dims) == 3 }

// Count returns the number of images or labels in x.
func (x *IDX) Count() int { return x.Dims[0] }

// ReadIDX reads an IDX image file (magic 0x00000803) or label file (magic
// 0x00000801) from r, raw or gzip-compressed (told apart by the gzip magic
// bytes 1f 8b). The header is validated before any data buffer is allocated,
// and the data is read incrementally, so a header that promises more than the
// file holds fails after allocating at most about twice what is present.
// Bytes after the declared data are an error. name appears in errors.
func ReadIDX(name string, r io.Reader) (*IDX, error) {
	r, err := maybeGunzip(name, r)
	if err != nil {
		return nil, err
	}
	var head [16]byte
	got, err := io.ReadFull(r, head[:4])
	switch {
	case got == 0 && err == io.EOF:
		return nil, fileErr(name, ErrTruncated, "empty file")
	case err != nil:
		return nil, readErr(name, err, int64(got), "header truncated: %d of 4 magic bytes", got)
	}
	magic := binary.BigEndian.Uint32(head[:4])
	var ndim int
	switch magic {
	case MagicIDXImages:
		ndim = 3
	case MagicIDXLabels:
		ndim = 1
	default:
		return nil, fileErr(name, ErrFormat, "magic 0x%08x is not an IDX u8 file (want 0x%08x images or 0x%08x labels)",
			magic, MagicIDXImages, MagicIDXLabels)
	}
	if got, err := io.ReadFull(r, head[4:4+4*ndim]); err != nil {
		return nil, readErr(name, err, int64(4+got), "header truncated: %d of %d bytes", 4+got, 4+4*ndim)
	}
	dims := make([]int, ndim)
	for i := range dims {
		dims[i] = int(binary.BigEndian.Uint32(head[4+4*i:]))
	}
	x := &IDX{File: name, Dims: dims}
	if err := x.checkDims(); err != nil {
		return nil, err
	}
	size := int64(1)
	for _, d := range dims {
		size *= int64(d)
	}
	data, err := readExact(r, size)
	if err != nil {
		return nil, readErr(name, err, int64(4+4*ndim+len(data)), "%s, file holds %d bytes of %s", x.declared(), len(data), x.what())
	}
	var one [1]byte
	switch n, err := io.ReadFull(r, one[:]); {
	case n > 0:
		return nil, fileErr(name, ErrTrailing, "%s, file holds more bytes after them", x.declared())
	case err != io.EOF:
		return nil, readErr(name, err, int64(4+4*ndim)+size, "gzip stream ends right after the data")
	}
	x.Data = data
	return x, nil
}

// checkDims validates x.Dims against the limits.
func (x *IDX) checkDims() error {
	n := x.Dims[0]
	if n < 1 || n > MaxIDXCount {
		noun := "labels"
		if x.IsImages() {
			noun = "images"
		}
		return fileErr(x.File, ErrDims, "header says %d %s, want 1..%d", n, noun, MaxIDXCount)
	}
	if !x.IsImages() {
		return nil
	}
	rows, cols := x.Dims[1], x.Dims[2]
	if rows < 1 || rows > MaxIDXSide || cols < 1 || cols > MaxIDXSide {
		return fileErr(x.File, ErrDims, "header says images of %d×%d, each side must be 1..%d", rows, cols, MaxIDXSide)
	}
	if b := int64(n) * int64(rows) * int64(cols); b > MaxIDXBytes {
		return fileErr(x.File, ErrDims, "%s is %d bytes, limit is %d", x.declared(), b, int64(MaxIDXBytes))
	}
	return nil
}

// what names the data bytes of x: "pixels" or "labels".
func (x *IDX) what() string {
	if x.IsImages() {
		return "pixels"
	}
	return "labels"
}

// declared describes the header: "header says 60000 images of 28×28".
func (x *IDX) declared() string {
	if x.IsImages() {
		return fmt.Sprintf("header says %d images of %d×%d", x.Dims[0], x.Dims[1], x.Dims[2])
	}
	return fmt.Sprintf("header says %d labels", x.Dims[0])
}

// maybeGunzip returns a reader of the decompressed stream if r starts with the
// gzip magic bytes, else a buffered reader of r itself.
func maybeGunzip(name string, r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	if magic, _ := br.Peek(2); len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return br, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, readErr(name, err, 0, "gzip header truncated")
	}
	return zr, nil
}

// readExact reads n bytes from r, growing its buffer as data arrives, so that
// memory use is bounded by what r delivers rather than by n. It returns io.EOF
// if r ends cleanly before n bytes, or the reader's error.
func readExact(r io.Reader, n int64) ([]byte, error) {
	buf := make([]byte, 0, min(n, 1<<16))
	for int64(len(buf)) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(n, 2*int64(cap(buf))))
			copy(grown, buf)
			buf = grown
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err != nil && int64(len(buf)) < n {
			return buf, err
		}
	}
	return buf, nil
}

// readErr classifies a read error: a clean or unexpected end of data is
// ErrTruncated with the given message; anything else (a broken gzip stream) is
// ErrCorrupt, reported with the offset in the (decompressed) stream.
func readErr(name string, err error, offset int64, format string, args ...any) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return fileErr(name, ErrTruncated, format, args...)
	}
	e := fileErr(name, ErrCorrupt, "unreadable at byte %d: %v", offset, err)
	e.Cause = err
	return e
}

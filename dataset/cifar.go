package dataset

import (
	"io"
)

// CIFAR-10 binary layout: each record is one label byte followed by a 32×32
// RGB image stored channel by channel (1024 red, 1024 green, 1024 blue bytes).
const (
	cifarSide    = 32
	cifarImage   = 3 * cifarSide * cifarSide
	cifarRecord  = 1 + cifarImage
	cifarClasses = 10
)

// MaxCIFARRecords is the most records ReadCIFAR accepts in one batch file.
const MaxCIFARRecords = 1_000_000

// cifarClassNames are the CIFAR-10 classes in label order.
var cifarClassNames = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

// ReadCIFAR reads one CIFAR-10 binary batch file (such as data_batch_1.bin),
// raw or gzip-compressed, and returns its images as a set of 32×32 RGB images
// with 10 classes. The file must hold a whole number of 3073-byte records, at
// least one and at most MaxCIFARRecords, with labels below 10. name appears in
// errors and as the set's Name.
func ReadCIFAR(name string, r io.Reader) (*Set, error) {
	r, err := maybeGunzip(name, r)
	if err != nil {
		return nil, err
	}
	limit := int64(MaxCIFARRecords) * cifarRecord
	data, err := readExact(r, limit+1)
	switch {
	case err == nil:
		return nil, fileErr(name, ErrDims, "more than %d records of %d bytes", MaxCIFARRecords, cifarRecord)
	case err != io.EOF:
		return nil, readErr(name, err, int64(len(data)), "data ends early after %d bytes", len(data))
	case len(data) == 0:
		return nil, fileErr(name, ErrTruncated, "empty file")
	case len(data)%cifarRecord != 0:
		return nil, fileErr(name, ErrTruncated, "file holds %d bytes, not a whole number of %d-byte records (label + 3×32×32 pixels)",
			len(data), cifarRecord)
	}
	n := len(data) / cifarRecord
	s := &Set{Name: name, N: n, C: 3, H: cifarSide, W: cifarSide, Classes: cifarClasses, ClassNames: cifarClassNames,
		Pixels: make([]uint8, n*cifarImage), Labels: make([]uint8, n)}
	for i := range n {
		rec := data[i*cifarRecord : (i+1)*cifarRecord]
		if rec[0] >= cifarClasses {
			return nil, fileErr(name, ErrLabel, "record %d has label %d, want 0..%d", i, rec[0], cifarClasses-1)
		}
		s.Labels[i] = rec[0]
		copy(s.Pixels[i*cifarImage:], rec[1:])
	}
	return s, nil
}

// concat joins sets of equal image shape and classes into one named name.
// The caller guarantees at least one set.
func concat(name string, sets []*Set) *Set {
	out := *sets[0]
	out.Name = name
	out.N = 0
	for _, s := range sets {
		out.N += s.N
	}
	out.Pixels = make([]uint8, 0, out.N*out.ImageSize())
	out.Labels = make([]uint8, 0, out.N)
	for _, s := range sets {
		out.Pixels = append(out.Pixels, s.Pixels...)
		out.Labels = append(out.Labels, s.Labels...)
	}
	return &out
}

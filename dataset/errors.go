package dataset

import (
	"errors"
	"fmt"
)

// Kinds of file errors. A *FileError unwraps to exactly one of them, so callers
// can tell a truncated download from a wrong file with errors.Is.
var (
	// ErrFormat reports a file that is not of the expected format: a bad IDX
	// magic number, an image file where labels were expected, an unknown layout.
	ErrFormat = errors.New("dataset: bad format")
	// ErrTruncated reports a file shorter than its header says (including an
	// empty file or a short header).
	ErrTruncated = errors.New("dataset: truncated")
	// ErrTrailing reports bytes after the data a header declares.
	ErrTrailing = errors.New("dataset: trailing data")
	// ErrDims reports dimensions outside the accepted limits.
	ErrDims = errors.New("dataset: bad dimensions")
	// ErrMismatch reports an image file and a label file that disagree on the
	// number of examples.
	ErrMismatch = errors.New("dataset: count mismatch")
	// ErrLabel reports a label outside [0, classes).
	ErrLabel = errors.New("dataset: label out of range")
	// ErrCorrupt reports undecodable content: a broken gzip stream or image.
	ErrCorrupt = errors.New("dataset: corrupt data")
)

// FileError is an error about one file of a data set. Its message names the
// file: `dataset: train-images-idx3-ubyte.gz: header says 60000 images of
// 28×28, file holds 1234 bytes of pixels`.
type FileError struct {
	File  string // the file's name as given to the reader (often a path)
	Kind  error  // one of the Err* kinds above
	Msg   string // what is wrong, without the file name
	Cause error  // an underlying error (from gzip or an image decoder), or nil
}

// Error returns "dataset: FILE: MSG".
func (e *FileError) Error() string { return "dataset: " + e.File + ": " + e.Msg }

// Unwrap returns the error's kind and, if any, its cause.
func (e *FileError) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Kind}
}

func fileErr(file string, kind error, format string, args ...any) *FileError {
	return &FileError{File: file, Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

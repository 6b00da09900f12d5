package modelfile

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ferminets/fermi/atomicfile"
	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/onnxio"
)

// Format is a model file format.
type Format int

// Model file formats.
const (
	ONNX Format = iota + 1
	FIR
)

// FormatOf returns the format path's extension names.
func FormatOf(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".onnx":
		return ONNX, nil
	case ".fir":
		return FIR, nil
	}
	return 0, fmt.Errorf("%s: unknown model format (want .onnx or .fir)", path)
}

// Load reads the model at path and verifies it (ir.Verify). Errors are
// prefixed with the path.
func Load(path string) (*ir.Graph, error) { return LoadWith(path, LoadOptions{}) }

// LoadOptions controls LoadWith.
type LoadOptions struct {
	// MaxBytes limits what a model brings in from disk: the file and, for
	// ONNX, its external data. Larger models are rejected before their data
	// is read. 0: no limit.
	MaxBytes int64
}

// LoadWith is Load with options.
func LoadWith(path string, opts LoadOptions) (*ir.Graph, error) {
	f, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	var g *ir.Graph
	switch f {
	case ONNX:
		g, err = onnxio.ReadFileWith(path, onnxio.ReadOptions{MaxBytes: opts.MaxBytes})
	case FIR:
		// The text form may describe any graph; verify it as the ONNX
		// importer does, so that no command works on an invalid one.
		if err = checkSize(path, opts.MaxBytes); err == nil {
			g, err = ir.ParseFile(path)
		}
		if err == nil {
			err = ir.Verify(g)
		}
	}
	if err != nil {
		return nil, prefix(path, err)
	}
	return g, nil
}

// checkSize rejects a file larger than max bytes (0: no limit).
func checkSize(path string, max int64) error {
	if max <= 0 {
		return nil
	}
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.Size() > max {
		return fmt.Errorf("model has %d bytes, more than the limit of %d", st.Size(), max)
	}
	return nil
}

// SaveOptions controls Save.
type SaveOptions struct {
	Opset int64 // ONNX opset to write (0: onnxio's default)
}

// Save writes g to path in the format its extension names. A .fir file keeps
// tensors of more than ir.DefaultInlineLimit elements in the sidecar path+".bin".
func Save(g *ir.Graph, path string, opts SaveOptions) error {
	f, err := FormatOf(path)
	if err != nil {
		return err
	}
	switch f {
	case ONNX:
		err = onnxio.WriteFile(g, path, onnxio.WriteOptions{Opset: opts.Opset})
	case FIR:
		err = saveFIR(g, path)
	}
	if err != nil {
		return prefix(path, err)
	}
	return nil
}

func saveFIR(g *ir.Graph, path string) error {
	var side, text bytes.Buffer
	opts := ir.PrintOptions{Sidecar: &side, SidecarName: filepath.Base(path) + ".bin"}
	if err := ir.Fprint(&text, g, opts); err != nil {
		return err
	}
	if side.Len() > 0 {
		if err := atomicfile.WriteBytes(path+".bin", side.Bytes()); err != nil {
			return err
		}
	}
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(text.Bytes())
		return err
	})
}

// prefix puts path in front of err unless the message already names it.
func prefix(path string, err error) error {
	if strings.HasPrefix(err.Error(), path) {
		return err
	}
	return fmt.Errorf("%s: %w", path, err)
}

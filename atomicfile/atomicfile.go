package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Write creates path with the content fill writes. On any error the
// destination is left untouched and the temporary file removed.
func Write(path string, fill func(w io.Writer) error) error {
	return write(path, fill, os.Rename)
}

// CreateBytes creates path holding data, atomically, only if path does not
// exist yet: when it does (or another writer creates it first), path is
// left as it is and the error wraps fs.ErrExist. Of several concurrent
// callers exactly one succeeds.
func CreateBytes(path string, data []byte) error {
	return write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}, func(tmp, path string) error {
		// A hard link fails when path exists; the temporary name goes either way.
		err := os.Link(tmp, path)
		os.Remove(tmp)
		return err
	})
}

// write fills a temporary file beside path and publishes it as path.
func write(path string, fill func(w io.Writer) error, publish func(tmp, path string) error) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = fill(f); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	if err = os.Chmod(tmp, 0o644); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	if err = publish(tmp, path); err != nil {
		return fmt.Errorf("atomicfile: %w", err)
	}
	return nil
}

// WriteBytes creates path holding data, atomically.
func WriteBytes(path string, data []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

package crosscheck

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Python is the interpreter that has Debian's python3-onnx (not a pyenv or
// virtualenv python3 that may come first on PATH).
const Python = "/usr/bin/python3"

// ErrUnavailable is wrapped by errors meaning the Python checker cannot run.
var ErrUnavailable = errors.New("crosscheck: python onnx checker unavailable")

// ErrOpsetTooNew is wrapped by Check's error for a model whose default-domain
// opset is newer than the installed checker knows.
var ErrOpsetTooNew = errors.New("crosscheck: opset newer than the onnx checker supports")

var (
	checkerOnce    sync.Once
	checkerVersion string
	checkerOpset   int64
	checkerErr     error
)

// CheckerInfo returns the version of the Python onnx package and the newest
// default-domain opset it knows, or why it cannot run.
func CheckerInfo() (version string, maxOpset int64, err error) {
	checkerOnce.Do(func() {
		out, err := exec.Command(Python, "-c", "import onnx, onnx.defs; print(onnx.__version__, onnx.defs.onnx_opset_version())").Output()
		if err != nil {
			checkerErr = fmt.Errorf("%w: %s -c 'import onnx': %v%s", ErrUnavailable, Python, err, stderrOf(err))
			return
		}
		f := strings.Fields(string(out))
		if len(f) != 2 {
			checkerErr = fmt.Errorf("%w: unexpected version output %q", ErrUnavailable, out)
			return
		}
		checkerVersion = f[0]
		checkerOpset, checkerErr = strconv.ParseInt(f[1], 10, 64)
		if checkerErr != nil {
			checkerErr = fmt.Errorf("%w: unexpected opset %q", ErrUnavailable, f[1])
		}
	})
	return checkerVersion, checkerOpset, checkerErr
}

func stderrOf(err error) string {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return ": " + lastLine(ee.Stderr)
	}
	return ""
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// RequireChecker skips the test when the Python checker is unavailable, or
// fails it when the environment variable CI is "true".
func RequireChecker(t testing.TB) {
	t.Helper()
	if _, _, err := CheckerInfo(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %v", err)
		}
		t.Skip(err)
	}
}

// checkScript runs the checker on argv[1] and prints its complaint as one line.
const checkScript = `import sys, onnx
try:
    onnx.checker.check_model(sys.argv[1], full_check=True)
except Exception as e:
    print(type(e).__name__ + ": " + " ".join(str(e).split()), file=sys.stderr)
    sys.exit(1)
`

// Check runs onnx.checker.check_model(full_check=True) on model.
func Check(model []byte) error {
	dir, err := os.MkdirTemp("", "crosscheck")
	if err != nil {
		return fmt.Errorf("crosscheck: %v", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.onnx")
	if err := os.WriteFile(path, model, 0o644); err != nil {
		return fmt.Errorf("crosscheck: %v", err)
	}
	return CheckFile(path)
}

// CheckFile runs onnx.checker.check_model(path, full_check=True).
func CheckFile(path string) error {
	version, maxOpset, err := CheckerInfo()
	if err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("crosscheck: %v", err)
	}
	m, err := Scan(data)
	if err != nil {
		return fmt.Errorf("crosscheck: %s: %w", path, err)
	}
	if op := m.Opset(""); op > maxOpset {
		return fmt.Errorf("%w: %s imports opset %d, onnx %s checks up to %d", ErrOpsetTooNew, path, op, version, maxOpset)
	}
	cmd := exec.Command(Python, "-c", checkScript, path)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := lastLine(stderr.Bytes())
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("crosscheck: onnx.checker: %s: %s", path, msg)
	}
	return nil
}

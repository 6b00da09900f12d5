package sharedmodels

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvVar names the environment variable that overrides the search.
const EnvVar = "FERMI_SHARED_MODELS"

// Dir returns the models directory: $FERMI_SHARED_MODELS, else shared/models
// beside the module root (the checkout layout of the project), else
// /work/shared/models. ok is false when none exists.
func Dir() (dir string, ok bool) {
	candidates := []string{os.Getenv(EnvVar)}
	if root := moduleRoot(); root != "" {
		candidates = append(candidates, filepath.Join(root, "..", "shared", "models"))
	}
	candidates = append(candidates, "/work/shared/models")
	for _, c := range candidates {
		if c == "" {
			continue
		}
		if st, err := os.Stat(c); err == nil && st.IsDir() {
			return c, true
		}
	}
	return "", false
}

// moduleRoot returns the nearest directory above the working directory that
// holds a go.mod, or "".
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Require returns the models directory, or skips t when there is none.
func Require(t testing.TB) string {
	t.Helper()
	dir, ok := Dir()
	if !ok {
		t.Skipf("shared models not found (set %s to the directory holding fashion-lenet5.onnx ...)", EnvVar)
	}
	return dir
}

// Path returns the path of the shared model file, or skips t when it is missing.
func Path(t testing.TB, file string) string {
	t.Helper()
	p := filepath.Join(Require(t), file)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared model %s missing: %v", file, err)
	}
	return p
}

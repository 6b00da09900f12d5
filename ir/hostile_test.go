package ir_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ferminets/fermi/ir"
)

// TestVerifyManyAttributes checks that the verifier's attribute checks are
// linear in the number of attributes: a node with 10^5 of them (unknown and
// repeated) is reported promptly, with a capped message.
func TestVerifyManyAttributes(t *testing.T) {
	b := ir.NewBuilder("g")
	x := b.Input("x", ir.Float32, ir.Static(1, 4))
	b.Output(b.Node(ir.OpRelu, "relu", []*ir.Value{x}))
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	n := g.Nodes[0]
	for i := 0; i < 100000; i++ {
		n.Attrs = append(n.Attrs, ir.Attr{Name: fmt.Sprintf("a%d", i%50000), Kind: ir.AttrInt})
	}
	start := time.Now()
	err = ir.Verify(g)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Verify took %v", d)
	}
	var ve *ir.VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("got %v, want a *VerifyError", err)
	}
	unknown, repeated := 0, 0
	for _, p := range ve.Problems {
		s := p.String()
		switch {
		case strings.Contains(s, "unknown attribute"):
			unknown++
		case strings.Contains(s, "appears more than once"):
			repeated++
		}
	}
	if unknown != 50000 || repeated != 50000 {
		t.Errorf("%d unknown and %d repeated attributes reported, want 50000 each", unknown, repeated)
	}
	if !strings.Contains(err.Error(), "more problems") {
		t.Errorf("the message lists every problem")
	}
	if len(err.Error()) > 8<<10 {
		t.Errorf("error has %d bytes", len(err.Error()))
	}
}

// TestSidecarStaysInDirectory checks that a .fir file reads sidecars only
// from its own directory: no absolute paths, no "..", no symbolic links
// leading out, no devices.
func TestSidecarStaysInDirectory(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "m")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 16)
	for _, p := range []string{filepath.Join(root, "outside.bin"), filepath.Join(dir, "w.bin")} {
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(filepath.Join(root, "outside.bin"), filepath.Join(dir, "link.bin")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(os.DevNull, filepath.Join(dir, "null.bin")); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ file, want string }{
		{"w.bin", ""},
		{"../outside.bin", "is not a file in the .fir file's directory"},
		{filepath.Join(root, "outside.bin"), "is not a file in the .fir file's directory"},
		{"link.bin", "links outside the .fir file's directory"},
		{"null.bin", "is not a regular file"},
	}
	for _, tt := range tests {
		src := fmt.Sprintf("graph @g(%%x: f32[1,4]) {\n  %%w = param f32[1,4] sidecar(%q, 0, 16)\n  %%y = Add(%%x, %%w) : f32[1,4]\n  return %%y\n}\n", tt.file)
		path := filepath.Join(dir, "m.fir")
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := ir.ParseFile(path)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: %v", tt.file, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: got %v, want %q", tt.file, err, tt.want)
		}
	}
}

package progress

import (
	"bytes"
	"strings"
	"testing"
)

func TestPlainLines(t *testing.T) {
	var b bytes.Buffer
	m := New(&b, "eval", 100)
	for i := 1; i <= 100; i++ {
		m.Update(i)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 11 { // the first update, then one per tenth
		t.Fatalf("%d lines, want 11:\n%s", len(lines), b.String())
	}
	if !strings.HasPrefix(lines[10], "eval: 100/100 (100%)") {
		t.Errorf("last line %q", lines[10])
	}
	if strings.Contains(b.String(), "\r") {
		t.Error("plain mode drew a bar")
	}
}

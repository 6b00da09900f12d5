package ir_test

import (
	"errors"
	"fmt"
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

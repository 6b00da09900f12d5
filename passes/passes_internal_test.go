package passes

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/ferminets/fermi/ir"
)

// TestPassOrder checks every passOrder pair against the table order and
// DefaultPipeline, and that each names real passes and gives a reason.
func TestPassOrder(t *testing.T) {
	index := func(name string) int {
		for i := range passes {
			if passes[i].name == name {
				return i
			}
		}
		return -1
	}
	for _, o := range passOrder {
		ia, ib := index(o.a), index(o.b)
		if ia < 0 || ib < 0 {
			t.Errorf("passOrder %s before %s: unknown pass", o.a, o.b)
			continue
		}
		if o.why == "" {
			t.Errorf("passOrder %s before %s: no reason", o.a, o.b)
		}
		if ia >= ib {
			t.Errorf("pass table lists %s after %s, but %s", o.a, o.b, o.why)
		}
		// In DefaultPipeline, the first a must come before the last b.
		var as, bs []int
		for i, n := range DefaultPipeline {
			if n == o.a {
				as = append(as, i)
			}
			if n == o.b {
				bs = append(bs, i)
			}
		}
		if len(as) > 0 && len(bs) > 0 && as[0] > bs[len(bs)-1] {
			t.Errorf("DefaultPipeline runs %s only after %s, but %s", o.a, o.b, o.why)
		}
	}
}

// TestTable checks each pass has a kebab-case name, a doc line, and a
// function, and names are unique.
func TestTable(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range passes {
		if p.fn == nil || p.doc == "" || seen[p.name] || strings.ToLower(p.name) != p.name || strings.ContainsAny(p.name, "_ ") {
			t.Errorf("bad table row %q", p.name)
		}
		seen[p.name] = true
	}
	if _, err := FromNames(DefaultPipeline); err != nil {
		t.Errorf("DefaultPipeline: %v", err)
	}
	if !Default().PreservesSemantics() {
		t.Error("DefaultPipeline does not preserve semantics")
	}
}

func tinyGraph(t *testing.T) *ir.Graph {
	t.Helper()
	b := ir.NewBuilder("tiny")
	x := b.Input("x", ir.Float32, ir.Shape{ir.Sym("N"), ir.D(4)})
	y := b.Node(ir.OpIdentity, "id", []*ir.Value{x})
	z := b.Node(ir.OpRelu, "r", []*ir.Value{y})
	b.Output(z)
	g, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestRunVerifyEach checks that a pass leaving an invalid graph is caught
// by VerifyEach and named, and that errors and panics are wrapped.
func TestRunVerifyEach(t *testing.T) {
	breaks := &pass{name: "breaks", fn: func(c *ctx) error {
		c.g.Nodes[1].Inputs[0] = &ir.Value{Name: "dangling", DType: ir.Float32, Shape: ir.Static(1, 4)}
		return nil
	}}
	fails := &pass{name: "fails", fn: func(c *ctx) error { return errors.New("no luck") }}
	panics := &pass{name: "panics", fn: func(c *ctx) error { panic("oops") }}
	tests := []struct {
		p      *pass
		verify bool
		err    string
	}{
		{breaks, true, "pass breaks: ir:"},
		{breaks, false, ""},
		{fails, false, "pass fails: no luck"},
		{panics, false, "pass panics: internal error: oops"},
	}
	for _, tt := range tests {
		g := tinyGraph(t)
		_, err := Run(g, Pipeline{{Name: tt.p.name, p: tt.p}}, Options{VerifyEach: tt.verify})
		if tt.err == "" && err != nil {
			t.Errorf("%s (verify %v): %v", tt.p.name, tt.verify, err)
		}
		if tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("%s (verify %v): error %v, want %q", tt.p.name, tt.verify, err, tt.err)
		}
	}
}

func TestRunStatsAndPrint(t *testing.T) {
	g := tinyGraph(t)
	p, err := Parse("canonicalize,dce")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	st, err := Run(g, p, Options{VerifyEach: true, PrintIRAfter: []string{"canonicalize"}, PrintTo: &buf})
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Passes) != 2 || st.Passes[0].Before.Nodes != 2 || st.Passes[0].After.Nodes != 1 || !st.Passes[0].Changed || st.Passes[1].Changed {
		t.Errorf("stats = %+v", st.Passes)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "// IR after canonicalize\n") || strings.Contains(out, "after dce") || strings.Contains(out, "Identity") {
		t.Errorf("printed IR:\n%s", out)
	}
	var tab bytes.Buffer
	st.Fprint(&tab)
	if !strings.Contains(tab.String(), "canonicalize") || !strings.Contains(tab.String(), "total") {
		t.Errorf("stats table:\n%s", tab.String())
	}
	buf.Reset()
	if _, err := Run(tinyGraph(t), p, Options{PrintIRAfter: []string{"all"}, PrintTo: &buf}); err != nil {
		t.Fatal(err)
	}
	if strings.Count(buf.String(), "// IR after") != 2 {
		t.Errorf("print all:\n%s", buf.String())
	}
	if _, err := Run(tinyGraph(t), p, Options{PrintIRAfter: []string{"fold-bnn"}, PrintTo: &buf}); err == nil || !strings.Contains(err.Error(), `"fold-bnn": no such pass`) {
		t.Errorf("unknown print-after pass: %v", err)
	}
}

func TestSimplifyFixedPoint(t *testing.T) {
	// Identity chains need several canonicalize rounds only if rewrites
	// expose each other; simplify must leave nothing for another run.
	g := tinyGraph(t)
	if _, err := Run(g, Default(), Options{VerifyEach: true}); err != nil {
		t.Fatal(err)
	}
	st, err := Run(g, Pipeline{{Name: "simplify", p: lookup("simplify")}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if st.Passes[0].Changed {
		t.Error("simplify changed a graph it had already simplified")
	}
	if slices.ContainsFunc(g.Nodes, func(n *ir.Node) bool { return n.Op == ir.OpIdentity }) {
		t.Error("Identity survived")
	}
}

package passes_test

import (
	"strings"
	"testing"

	"github.com/ferminets/fermi/passes"
)

// FuzzParsePipeline checks that Parse never panics, that its errors carry
// the package prefix, and that an accepted pipeline prints (String) to text
// Parse reads back to the same pipeline.
func FuzzParsePipeline(f *testing.F) {
	for _, name := range passes.Names() {
		f.Add(name)
	}
	for _, s := range []string{"", "none", " none ", "none,dce", "dce,,dce", ",", "{", "}", "dce{", "dce{}",
		"dce{x=1}", "freeze-shapes{input=1,3,224,224},simplify", "freeze-shapes{a=1,2,b=3},dce",
		"freeze-shapes{input=1,x,3}", "freeze-shapes{=1}", "freeze-shapes{input=1}x",
		"freeze-shapes{input=-1,9223372036854775807}", "prune{macs=0.5,criterion=l1}",
		"prune{ratio=0.25,criterion=l2}", "prune{macs=NaN}", "prune{ratio=1e309}",
		"quantize{calib=random,samples=8,method=percentile}", "canonicalize,fold-bn,dce{}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := passes.Parse(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "passes: ") {
				t.Fatalf("Parse(%q): error %q lacks the package prefix", s, err)
			}
			return
		}
		text := p.String()
		q, err := passes.Parse(text)
		if err != nil {
			t.Fatalf("Parse(%q) = %q, which does not parse: %v", s, text, err)
		}
		if q.String() != text {
			t.Fatalf("Parse(%q) prints %q, which reparses as %q", s, text, q.String())
		}
	})
}

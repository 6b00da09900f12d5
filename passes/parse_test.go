package passes_test

import (
	"strings"
	"testing"

	"github.com/ferminets/fermi/passes"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in, want, err string
	}{
		{"none", "none", ""},
		{"", "none", ""},
		{"  none ", "none", ""},
		{"canonicalize,fold-bn,dce", "canonicalize,fold-bn,dce", ""},
		{"dce", "dce", ""},
		{"freeze-shapes{input=1,3,224,224},simplify", "freeze-shapes{input=1,3,224,224},simplify", ""},
		{"freeze-shapes{a=1,2,b=3},dce", "freeze-shapes{a=1,2,b=3},dce", ""},
		{"dce{}", "dce", ""},
		{"fold-bnn", "", `unknown pass "fold-bnn"`},
		{"canonicalize,,dce", "", "empty pass name"},
		{"dce{x=1}", "", `pass "dce": unknown option "x"`},
		{"freeze-shapes{input=1,x,3}", "", `"x" is not an integer`},
		{"freeze-shapes{input=1,0}", "", "not positive"},
		{"freeze-shapes", "", "want at least one"},
		{"freeze-shapes{input=1", "", "unclosed '{'"},
		{"freeze-shapes{input=1}x", "", "want ','"},
		{"freeze-shapes{=1}", "", "empty key"},
		{"freeze-shapes{a=1,a=2}", "", `"a" given twice`},
		{"dce,none", "", "must stand alone"},
		{"prune{macs=0.5}", "prune{macs=0.5,criterion=l1}", ""},
		{"canonicalize,prune{macs=0.5,criterion=bn},dce", "canonicalize,prune{macs=0.5,criterion=bn},dce", ""},
		{"prune{ratio=0.25,criterion=l2}", "prune{ratio=0.25,criterion=l2}", ""},
		{"prune{criterion=l1}", "", "exactly one budget"},
		{"prune{macs=0.5,ratio=0.3}", "", "exactly one budget"},
		{"prune{macs=2}", "", "want a fraction in (0, 1)"},
		{"prune{macs=0.5,criterion=foo}", "", `unknown criterion "foo"`},
		{"prune{macs=0.5,criterion=activation}", "", "criterion=activation and calib= go together"},
		{"prune{macs=0.5,calib=mnist}", "", "criterion=activation and calib= go together"},
		{"prune{macs=0.5,criterion=activation,calib=fashion-mnist,samples=32,round=8}", "prune{macs=0.5,criterion=activation,round=8,calib=fashion-mnist,samples=32}", ""},
		{"prune{macs=0.5,round=0}", "", "want a positive integer"},
		{"prune{latency=0.5}", "prune{latency=0.5,target=host,criterion=l1}", ""},
		{"prune{latency=0.5,target=cortex-m7}", "prune{latency=0.5,target=cortex-m7,criterion=l1}", ""},
		{"prune{macs=0.5,target=cortex-m7}", "", "target= goes with latency="},
		{"prune{macs=0.5,samples=8}", "", "samples= needs calib="},
		{"prune{macs=0.5,bits=8}", "", `unknown option "bits"`},
		{"quantize{calib=fashion-mnist}", "quantize{calib=fashion-mnist,samples=256,method=minmax}", ""},
		{"quantize{calib=random,samples=8,method=percentile}", "quantize{calib=random,samples=8,method=percentile}", ""},
		{"quantize", "", "want calib="},
		{"quantize{calib=x,samples=0}", "", "want a positive integer"},
		{"quantize{calib=x,method=entropy}", "", `unknown method "entropy"`},
		{"quantize{calib=x,bits=4}", "", `unknown option "bits"`},
	}
	for _, tt := range tests {
		p, err := passes.Parse(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Parse(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := p.String(); got != tt.want {
			t.Errorf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestFromNames(t *testing.T) {
	p, err := passes.FromNames([]string{"canonicalize", "const-fold", "fold-bn", "fuse", "dce"})
	if err != nil || p.String() != "canonicalize,const-fold,fold-bn,fuse,dce" {
		t.Errorf("FromNames = %v, %v", p, err)
	}
	if _, err := passes.FromNames([]string{"dce", "quantize"}); err == nil || !strings.Contains(err.Error(), `"quantize"`) {
		t.Errorf("FromNames with quantize: %v", err)
	}
	if _, err := passes.FromNames([]string{"dce,cse"}); err == nil {
		t.Error("FromNames accepted two passes in one name")
	}
}

func TestInputShape(t *testing.T) {
	s, err := passes.ParseInputShape("input:1,3,224,224")
	if err != nil || s.Name != "input" || len(s.Dims) != 4 || s.Dims[3] != 224 {
		t.Errorf("ParseInputShape = %+v, %v", s, err)
	}
	for _, bad := range []string{"input", ":1,2", "x:1,a"} {
		if _, err := passes.ParseInputShape(bad); err == nil {
			t.Errorf("ParseInputShape(%q) succeeded", bad)
		}
	}
	st, err := passes.FreezeStep(s)
	if err != nil || (passes.Pipeline{st}).String() != "freeze-shapes{input=1,3,224,224}" {
		t.Errorf("FreezeStep = %v, %v", st, err)
	}
	if _, err := passes.FreezeStep(passes.InputShape{Name: "x", Dims: []int64{0}}); err == nil {
		t.Error("FreezeStep accepted a zero dim")
	}
}

func TestWithInputShapes(t *testing.T) {
	s := passes.InputShape{Name: "input", Dims: []int64{1, 3, 224, 224}}
	for _, tt := range []struct{ in, want string }{
		{"none", "freeze-shapes{input=1,3,224,224},simplify"},
		{"fold-bn", "freeze-shapes{input=1,3,224,224},fold-bn,simplify"},
		{"simplify,fold-bn", "freeze-shapes{input=1,3,224,224},simplify,fold-bn"},
	} {
		p, err := passes.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		q, err := passes.WithInputShapes(p, s)
		if err != nil || q.String() != tt.want {
			t.Errorf("WithInputShapes(%q) = %q, %v; want %q", tt.in, q, err, tt.want)
		}
	}
	if q, err := passes.WithInputShapes(passes.Default()); err != nil || q.String() != passes.Default().String() {
		t.Errorf("no shapes: %q, %v", q, err)
	}
}

package firtest

import (
	"errors"
	"strings"
	"testing"
)

func checks(lines ...string) []Directive {
	var ds []Directive
	for i, l := range lines {
		k, p, _ := strings.Cut(l, ":")
		kind := map[string]Kind{"CHECK": Check, "CHECK-NEXT": CheckNext, "CHECK-NOT": CheckNot, "CHECK-LABEL": CheckLabel}[k]
		ds = append(ds, Directive{Kind: kind, Pattern: strings.TrimSpace(p), Line: i + 1})
	}
	return ds
}

const out = `graph @g(%x: f32[1,4]) {
  %w = param f32[4,4] [1]
  %y = Gemm(%x, %w) : f32[1,4]
  %z = Relu(%y) : f32[1,4]
  return %z
}
graph @h(%x: f32[2]) {
  %a = Relu(%x) : f32[2]
  return %a
}`

func TestMatch(t *testing.T) {
	tests := []struct {
		name   string
		checks []Directive
		err    string // "" for success; else a substring of the error
	}{
		{"literal", checks("CHECK: Gemm(%x"), ""},
		{"in order", checks("CHECK: Gemm", "CHECK: Relu", "CHECK: return %z"), ""},
		{"out of order", checks("CHECK: Relu(%y)", "CHECK: Gemm"), `"Gemm" not found`},
		{"missing", checks("CHECK: Conv"), `"Conv" not found`},
		{"next ok", checks("CHECK: Gemm", "CHECK-NEXT: Relu"), ""},
		{"next fails", checks("CHECK: param", "CHECK-NEXT: Relu"), "CHECK-NEXT"},
		{"next first", checks("CHECK-NEXT: graph"), "without a previous match"},
		{"not ok", checks("CHECK: Gemm", "CHECK-NOT: Conv", "CHECK: return"), ""},
		{"not fails between", checks("CHECK: param", "CHECK-NOT: Relu", "CHECK: return"), `CHECK-NOT: "Relu" matched output line 4`},
		{"not after last", checks("CHECK: return %z", "CHECK-NOT: Relu"), "CHECK-NOT"},
		{"not before first", checks("CHECK-NOT: Conv", "CHECK: Gemm"), ""},
		{"regex", checks("CHECK: %{{[a-z]}} = Relu"), ""},
		{"regex miss", checks("CHECK: %{{[0-9]+}} = Relu"), "not found"},
		{"capture and use", checks("CHECK: %[[Y:[a-z]+]] = Gemm", "CHECK: Relu(%[[Y]])"), ""},
		{"capture mismatch", checks("CHECK: %[[Y:[a-z]+]] = Gemm", "CHECK: return %[[Y]]"), "not found"},
		{"use before def", checks("CHECK: %[[Q]]"), "used before it is defined"},
		{"label blocks", checks("CHECK-LABEL: graph @g", "CHECK: Relu", "CHECK-LABEL: graph @h", "CHECK: return %a"), ""},
		{"label order", checks("CHECK-LABEL: graph @h", "CHECK-LABEL: graph @g"), "not found"},
		{"not inside label block", checks("CHECK-LABEL: graph @g", "CHECK-NOT: Relu(%x)", "CHECK-LABEL: graph @h"), ""},
		{"not crosses into next label", checks("CHECK-LABEL: graph @g", "CHECK-NOT: %a = Relu", "CHECK-LABEL: graph @h"), ""},
		{"check stays in its block", checks("CHECK-LABEL: graph @g", "CHECK: %a = Relu", "CHECK-LABEL: graph @h"), "not found in output lines 2 to 6"},
		{"not in last block", checks("CHECK-LABEL: graph @h", "CHECK-NOT: return %a"), "CHECK-NOT"},
		{"missing label", checks("CHECK-LABEL: graph @q"), "CHECK-LABEL"},
		{"check before first label", checks("CHECK: %w = param", "CHECK-LABEL: graph @h", "CHECK: return %a"), ""},
		{"metacharacters are literal", checks("CHECK: f32[1,4]"), ""},
		{"dot is literal", checks("CHECK: Gemm.x"), "not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Match(out, tt.checks)
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("Match: %v", err)
			case tt.err != "" && err == nil:
				t.Errorf("Match succeeded, want error containing %q", tt.err)
			case tt.err != "" && !strings.Contains(err.Error(), tt.err):
				t.Errorf("Match error %q, want it to contain %q", err, tt.err)
			}
		})
	}
}

func TestParse(t *testing.T) {
	src := `// RUN: tool %s --flag 'a b'
// CHECK: x
graph @a() {
  // expect-error@+1 {{bad thing}}
  %y = Foo(%x) : f32[1]
}
// -----
// CHECK-NEXT: y
// expect-remark {{note}}
graph @b() {
}`
	f, err := Parse("t.fir", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Runs) != 1 || strings.Join(f.Runs[0], "|") != "tool|t.fir|--flag|a b" {
		t.Errorf("Runs = %q", f.Runs)
	}
	if len(f.Cases) != 2 {
		t.Fatalf("%d cases, want 2", len(f.Cases))
	}
	c0, c1 := f.Cases[0], f.Cases[1]
	if len(c0.Checks) != 1 || c0.Checks[0].Line != 2 || c0.Checks[0].Kind != Check {
		t.Errorf("case 0 checks = %+v", c0.Checks)
	}
	if len(c0.Expects) != 1 || c0.Expects[0].Target != 5 || c0.Expects[0].Remark || c0.Expects[0].Text != "bad thing" {
		t.Errorf("case 0 expects = %+v", c0.Expects)
	}
	if c1.Line != 8 || len(c1.Checks) != 1 || c1.Checks[0].Kind != CheckNext || c1.Checks[0].Line != 8 {
		t.Errorf("case 1 = line %d, checks %+v", c1.Line, c1.Checks)
	}
	if len(c1.Expects) != 1 || !c1.Expects[0].Remark || c1.Expects[0].Target != 9 {
		t.Errorf("case 1 expects = %+v", c1.Expects)
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, src, err string }{
		{"no run", "// CHECK: x\n", "no RUN line"},
		{"empty run", "// RUN:\n", "empty RUN line"},
		{"unterminated quote", "// RUN: tool 'x\n", "unterminated quote"},
		{"empty check", "// RUN: t\n// CHECK:\n", "empty CHECK pattern"},
		{"bad regexp", "// RUN: t\n// CHECK: {{(}}\n", "bad regexp"},
		{"unclosed", "// RUN: t\n// CHECK: {{x\n", "unclosed {{"},
		{"bad capture", "// RUN: t\n// CHECK: [[1x:a]]\n", "bad capture name"},
		{"use before def", "// RUN: t\n// CHECK: [[X]]\n", "used before it is defined"},
		{"malformed expect", "// RUN: t\n// expect-error@+1 bad\n", "malformed expect directive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.fir", []byte(tt.src))
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("Parse error %v, want %q", err, tt.err)
			}
		})
	}
}

func TestLocate(t *testing.T) {
	c := &Case{Src: []byte("graph @g(%x: f32[1]) {\n  %y, %m = Dropout \"drop\"(%x) : f32[1], bool[1]\n  %\"a b\" = Relu(%y) : f32[1]\n}"), Line: 10}
	tests := []struct {
		msg  string
		line int
		want bool
	}{
		{`node "drop": bad`, 11, true},
		{`value %m is odd`, 11, true},
		{`node "y": x`, 11, true},
		{`node "y": x`, 12, false},
		{`node "a b": x`, 12, true},
		{`input "x": bad`, 10, true},
		{`input "z": bad`, 10, false},
		{`node "x": x`, 11, false},
		{`t.fir:13:2: parse error`, 13, true},
		{`node "yy": x`, 11, false},
		{`anything`, 99, false},
	}
	for _, tt := range tests {
		if got := Locate(c, tt.msg, tt.line); got != tt.want {
			t.Errorf("Locate(%q, %d) = %v, want %v", tt.msg, tt.line, got, tt.want)
		}
	}
}

// TestRunCase checks that failing expectations do fail.
func TestRunCase(t *testing.T) {
	const src = `// RUN: tool %s
graph @a() {
  // expect-error@+1 {{boom}}
  %y = Foo(%x) : f32[1]
}
// -----
// CHECK: hello
graph @b() {
  // expect-remark@+1 {{note}}
  %z = Bar(%x) : f32[1]
}
// -----
// expect-no-remarks
graph @c() {
}`
	f, err := Parse("t.fir", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		tool      Tool
		fail0     string // "" when case 0 must pass
		fail1     string
		wantCalls int
	}{
		{"all good", func(args []string, c *Case) (Result, error) {
			if c.Line == 1 {
				return Result{}, errors.New(`node "y": boom`)
			}
			if c.NoRemarks {
				return Result{}, nil
			}
			return Result{Output: "hello", Remarks: []string{`node "z": note`}}, nil
		}, "", "", 2},
		{"no error, missing output, missing remark", func(args []string, c *Case) (Result, error) {
			return Result{Output: "bye"}, nil
		}, "succeeded, want the error", "no remark", 2},
		{"wrong error text, extra remark", func(args []string, c *Case) (Result, error) {
			if c.Line == 1 {
				return Result{}, errors.New(`node "y": bang`)
			}
			return Result{Output: "hello", Remarks: []string{`node "z": note`, `node "z": other`}}, nil
		}, `"boom" not in error`, "unexpected remark", 2},
		{"error at wrong line, remark at wrong line", func(args []string, c *Case) (Result, error) {
			if c.Line == 1 {
				return Result{}, errors.New(`node "q": boom`)
			}
			return Result{Output: "hello", Remarks: []string{`node "q": note`}}, nil
		}, "not located at line 4", "no remark", 2},
		{"unexpected error", func(args []string, c *Case) (Result, error) {
			return Result{}, errors.New("kaput")
		}, "", "kaput", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i, want := range []string{tt.fail0, tt.fail1} {
				if tt.name == "unexpected error" && i == 0 {
					continue // case 0 expects an error; "kaput" lacks the text
				}
				errs := RunCase(f, f.Cases[i], tt.tool)
				var all []string
				for _, e := range errs {
					all = append(all, e.Error())
				}
				got := strings.Join(all, "\n")
				if want == "" && len(errs) > 0 {
					t.Errorf("case %d: unexpected failures:\n%s", i, got)
				}
				if want != "" && !strings.Contains(got, want) {
					t.Errorf("case %d: failures %q, want one containing %q", i, got, want)
				}
			}
		})
	}
}

func TestNoRemarks(t *testing.T) {
	f, err := Parse("t.fir", []byte("// RUN: t %s\n// expect-no-remarks\ngraph @g() {\n}\n"))
	if err != nil {
		t.Fatal(err)
	}
	quiet := func(args []string, c *Case) (Result, error) { return Result{}, nil }
	noisy := func(args []string, c *Case) (Result, error) { return Result{Remarks: []string{"x"}}, nil }
	if errs := RunCase(f, f.Cases[0], quiet); len(errs) != 0 {
		t.Errorf("quiet tool: %v", errs)
	}
	if errs := RunCase(f, f.Cases[0], noisy); len(errs) != 1 || !strings.Contains(errs[0].Error(), "unexpected remark: x") {
		t.Errorf("noisy tool: %v", errs)
	}
}

func TestRunArgs(t *testing.T) {
	f, err := Parse("dir/t.fir", []byte("// RUN: tool %s --x \"%s.out\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	RunCase(f, f.Cases[0], func(args []string, c *Case) (Result, error) {
		got = args
		return Result{}, nil
	})
	if strings.Join(got, "|") != "tool|dir/t.fir|--x|dir/t.fir.out" {
		t.Errorf("args = %q", got)
	}
}

// Package firtest runs FileCheck-style golden tests on .fir files: a small,
// documented subset of LLVM FileCheck and MLIR's -verify-diagnostics that
// users can run on their own pass tests.
//
// # File format
//
// A test file holds one or more cases separated by lines "// -----" (see
// ir.SplitCases). Directives are comments:
//
//	// RUN: fcompile %s --passes fold-bn,dce --tol 1e-5 --emit ir
//	// CHECK: pattern          a line at or after the previous match matches
//	// CHECK-NEXT: pattern     the line right after the previous match matches
//	// CHECK-NOT: pattern      no line between the surrounding matches matches
//	// CHECK-LABEL: pattern    matched first, in order; splits the output into blocks
//	// expect-error@+1 {{text}}   running the case fails with an error containing text,
//	//                            located at the line 1 below (see Locate)
//	// expect-remark@+1 {{text}}  the run leaves a remark containing text on that line
//
// RUN lines apply to every case of the file; each is split into words
// (single or double quotes group words) and "%s" is replaced by the file's
// path. The Tool interprets them in-process; nothing runs in a shell.
//
// Patterns are literal text, except {{re}} (a Go regular expression),
// [[NAME:re]] (match re and capture it as NAME) and [[NAME]] (the text
// captured earlier in the same case, matched literally). Leading and
// trailing blanks of a pattern are ignored. A pattern matches anywhere in a
// line; each positive directive consumes the line it matched.
//
// expect-error and expect-remark take @+N, @-N or no offset (the
// directive's own line). A case with an expect-error must fail with every
// expected error text in its error; a case without one must succeed. When a
// case has expect-remark lines, every remark of the run must be expected
// (as in -verify-diagnostics); a case without them ignores remarks, unless
// it has a line "// expect-no-remarks", which forbids every remark. CHECK
// directives of a case that expects an error are not matched.
//
// # Locations
//
// An error or remark is at line L when it names the position "file:L:"
// (parse errors), or quotes a node or value defined on line L: `"name"` or
// `%name`, as the IR's errors and remarks ("node \"conv\": ...") do. A
// graph line defines its inputs.
package firtest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/ferminets/fermi/ir"
)

// Kind is a CHECK directive's kind.
type Kind uint8

// Check directive kinds.
const (
	Check Kind = iota + 1
	CheckNext
	CheckNot
	CheckLabel
)

var kindNames = [...]string{Check: "CHECK", CheckNext: "CHECK-NEXT", CheckNot: "CHECK-NOT", CheckLabel: "CHECK-LABEL"}

// String returns the directive's spelling, "CHECK-NEXT".
func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Directive is one CHECK line.
type Directive struct {
	Kind    Kind
	Pattern string
	Line    int // line of the directive in its file
}

// Expect is one expect-error or expect-remark directive.
type Expect struct {
	Remark bool   // expect-remark; otherwise expect-error
	Text   string // text the error or remark must contain
	Target int    // line the diagnostic must be located at
	Line   int    // line of the directive itself
}

// Case is one case of a test file.
type Case struct {
	File    string // path of the file
	Src     []byte // the case's text
	Line    int    // line number of Src's first line in the file
	Checks  []Directive
	Expects []Expect
	// NoRemarks is set by an expect-no-remarks line: the run must leave
	// no remark at all.
	NoRemarks bool
}

// File is a parsed test file.
type File struct {
	Path  string
	Runs  [][]string // RUN lines, split into words, %s replaced by Path
	Cases []*Case
}

// Result is what a Tool produced for one case.
type Result struct {
	Output  string   // text CHECK directives match
	Remarks []string // remarks expect-remark directives match
}

// Tool runs one RUN line (args[0] is the command name) on one case.
type Tool func(args []string, c *Case) (Result, error)

var (
	directiveRE = regexp.MustCompile(`//\s*(RUN|CHECK|CHECK-NEXT|CHECK-NOT|CHECK-LABEL):(.*)$`)
	expectRE    = regexp.MustCompile(`expect-(error|remark)(@[+-]\d+)?\s*\{\{(.*)\}\}`)
	badExpectRE = regexp.MustCompile(`expect-(error|remark)`)
)

// Parse reads a test file's directives.
func Parse(path string, src []byte) (*File, error) {
	f := &File{Path: path}
	for _, cs := range ir.SplitCases(src) {
		c := &Case{File: path, Src: cs.Src, Line: cs.Line}
		vars := make(map[string]string)
		for i, line := range strings.Split(string(cs.Src), "\n") {
			ln := cs.Line + i
			if m := directiveRE.FindStringSubmatch(line); m != nil {
				body := strings.TrimSpace(m[2])
				switch m[1] {
				case "RUN":
					args, err := splitWords(body)
					if err != nil {
						return nil, fmt.Errorf("%s:%d: RUN: %v", path, ln, err)
					}
					if len(args) == 0 {
						return nil, fmt.Errorf("%s:%d: empty RUN line", path, ln)
					}
					for j, a := range args {
						args[j] = strings.ReplaceAll(a, "%s", path)
					}
					f.Runs = append(f.Runs, args)
				default:
					k := map[string]Kind{"CHECK": Check, "CHECK-NEXT": CheckNext, "CHECK-NOT": CheckNot, "CHECK-LABEL": CheckLabel}[m[1]]
					if body == "" {
						return nil, fmt.Errorf("%s:%d: empty %s pattern", path, ln, m[1])
					}
					if _, err := compile(body, vars); err != nil {
						return nil, fmt.Errorf("%s:%d: %s: %v", path, ln, m[1], err)
					}
					c.Checks = append(c.Checks, Directive{Kind: k, Pattern: body, Line: ln})
				}
				continue
			}
			if strings.Contains(line, "// expect-no-remarks") {
				c.NoRemarks = true
				continue
			}
			if m := expectRE.FindStringSubmatch(line); m != nil {
				off := 0
				if m[2] != "" {
					off, _ = strconv.Atoi(m[2][1:])
				}
				c.Expects = append(c.Expects, Expect{Remark: m[1] == "remark", Text: m[3], Target: ln + off, Line: ln})
			} else if badExpectRE.MatchString(line) && strings.Contains(line, "//") {
				return nil, fmt.Errorf("%s:%d: malformed expect directive: want expect-error@+N {{text}}", path, ln)
			}
		}
		f.Cases = append(f.Cases, c)
	}
	if len(f.Runs) == 0 {
		return nil, fmt.Errorf("%s: no RUN line", path)
	}
	return f, nil
}

// splitWords splits s at blanks; quotes group words.
func splitWords(s string) ([]string, error) {
	var out []string
	var cur strings.Builder
	in, quote := false, byte(0)
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case quote != 0:
			if ch == quote {
				quote = 0
			} else {
				cur.WriteByte(ch)
			}
		case ch == '\'' || ch == '"':
			quote, in = ch, true
		case ch == ' ' || ch == '\t':
			if in {
				out = append(out, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteByte(ch)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote")
	}
	if in {
		out = append(out, cur.String())
	}
	return out, nil
}

// compile turns a pattern into a regular expression, defining captures in
// vars as they appear (their values are filled in after a match).
func compile(pat string, vars map[string]string) (*regexp.Regexp, error) {
	var sb strings.Builder
	var names []string
	for len(pat) > 0 {
		i := strings.Index(pat, "{{")
		j := strings.Index(pat, "[[")
		switch {
		case i < 0 && j < 0:
			sb.WriteString(regexp.QuoteMeta(pat))
			pat = ""
		case i >= 0 && (j < 0 || i < j):
			sb.WriteString(regexp.QuoteMeta(pat[:i]))
			end := strings.Index(pat[i+2:], "}}")
			if end < 0 {
				return nil, fmt.Errorf("unclosed {{ in pattern")
			}
			re := pat[i+2 : i+2+end]
			if _, err := regexp.Compile(re); err != nil {
				return nil, fmt.Errorf("bad regexp {{%s}}: %v", re, err)
			}
			sb.WriteString("(?:" + re + ")")
			pat = pat[i+2+end+2:]
		default:
			sb.WriteString(regexp.QuoteMeta(pat[:j]))
			end := strings.Index(pat[j+2:], "]]")
			if end < 0 {
				return nil, fmt.Errorf("unclosed [[ in pattern")
			}
			body := pat[j+2 : j+2+end]
			pat = pat[j+2+end+2:]
			name, re, def := strings.Cut(body, ":")
			if !validName(name) {
				return nil, fmt.Errorf("bad capture name %q", name)
			}
			if def {
				if _, err := regexp.Compile(re); err != nil {
					return nil, fmt.Errorf("bad regexp in [[%s]]: %v", body, err)
				}
				sb.WriteString("(" + "?P<" + name + ">" + re + ")")
				names = append(names, name)
				continue
			}
			v, ok := vars[name]
			if !ok {
				return nil, fmt.Errorf("capture [[%s]] used before it is defined", name)
			}
			sb.WriteString(regexp.QuoteMeta(v))
		}
	}
	re, err := regexp.Compile(sb.String())
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		vars[n] = "" // defined from here on; Parse uses this to validate later uses
	}
	return re, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Match checks output against the directives in order and returns the
// first failure, naming the directive's line. As in FileCheck, the
// CHECK-LABEL lines are matched first and split the output into blocks:
// the other directives between two labels match only inside the block of
// the label before them.
func Match(output string, checks []Directive) error {
	lines := strings.Split(output, "\n")
	vars := make(map[string]string)
	// Blocks: the line each label matches, in order.
	labelAt := make(map[int]int) // directive index → output line
	from := 0
	for k, d := range checks {
		if d.Kind != CheckLabel {
			continue
		}
		re, err := compile(d.Pattern, map[string]string{})
		if err != nil {
			return fmt.Errorf("%d: %s: %v (labels cannot use captures)", d.Line, d.Kind, err)
		}
		found := -1
		for l := from; l < len(lines); l++ {
			if re.MatchString(lines[l]) {
				found = l
				break
			}
		}
		if found < 0 {
			return fmt.Errorf("%d: CHECK-LABEL: %q not found in output after line %d", d.Line, d.Pattern, from)
		}
		labelAt[k] = found
		from = found + 1
	}
	blockEnd := func(k int) int { // first line of the next label's block after directive k
		for j := k + 1; j < len(checks); j++ {
			if l, ok := labelAt[j]; ok {
				return l
			}
		}
		return len(lines)
	}
	pos := 0 // next line a positive directive may match
	end := blockEnd(-1)
	var nots []int // indices of CHECK-NOT directives waiting for the next match
	last := -1     // line of the previous positive match
	checkNots := func(from, to int) error {
		for _, k := range nots {
			d := checks[k]
			re, err := compile(d.Pattern, vars)
			if err != nil {
				return fmt.Errorf("%d: %s: %v", d.Line, d.Kind, err)
			}
			for l := from; l < to && l < len(lines); l++ {
				if re.MatchString(lines[l]) {
					return fmt.Errorf("%d: CHECK-NOT: %q matched output line %d: %s", d.Line, d.Pattern, l+1, lines[l])
				}
			}
		}
		nots = nots[:0]
		return nil
	}
	for k, d := range checks {
		if d.Kind == CheckNot {
			nots = append(nots, k)
			continue
		}
		re, err := compile(d.Pattern, vars)
		if err != nil {
			return fmt.Errorf("%d: %s: %v", d.Line, d.Kind, err)
		}
		found := -1
		switch d.Kind {
		case CheckLabel:
			if err := checkNots(pos, end); err != nil {
				return err
			}
			found = labelAt[k]
			end = blockEnd(k)
		case CheckNext:
			if last < 0 {
				return fmt.Errorf("%d: CHECK-NEXT without a previous match", d.Line)
			}
			if pos < end && re.MatchString(lines[pos]) {
				found = pos
			}
		default:
			for l := pos; l < end; l++ {
				if re.MatchString(lines[l]) {
					found = l
					break
				}
			}
		}
		if found < 0 {
			where := "output"
			if d.Kind == CheckNext {
				where = fmt.Sprintf("output line %d", pos+1)
			} else if pos > 0 {
				where = fmt.Sprintf("output lines %d to %d", pos+1, end)
			}
			return fmt.Errorf("%d: %s: %q not found in %s", d.Line, d.Kind, d.Pattern, where)
		}
		if d.Kind != CheckLabel {
			if err := checkNots(pos, found); err != nil {
				return err
			}
		}
		m := re.FindStringSubmatch(lines[found])
		for i, name := range re.SubexpNames() {
			if name != "" {
				vars[name] = m[i]
			}
		}
		last, pos = found, found+1
	}
	return checkNots(pos, end)
}

// Locate reports whether diagnostic text msg is located at line target of
// case c: it names "FILE:target:" (or ":target:"), or quotes a name defined
// on that line ("name" or %name).
func Locate(c *Case, msg string, target int) bool {
	if strings.Contains(msg, fmt.Sprintf(":%d:", target)) {
		return true
	}
	lines := strings.Split(string(c.Src), "\n")
	i := target - c.Line
	if i < 0 || i >= len(lines) {
		return false
	}
	for _, name := range definedNames(lines[i]) {
		if strings.Contains(msg, strconv.Quote(name)) || containsValue(msg, name) {
			return true
		}
	}
	return false
}

var (
	graphRE    = regexp.MustCompile(`^\s*graph\s+@\S+?\((.*)\)`)
	defRE      = regexp.MustCompile(`^\s*((?:%[\w.]+|%"[^"]*"|_)(?:\s*,\s*(?:%[\w.]+|%"[^"]*"|_))*)\s*=`)
	nodeNameRE = regexp.MustCompile(`=\s*[\w.]+\s+("[^"]*")\s*\(`)
	valueRE    = regexp.MustCompile(`%([\w.]+|"[^"]*")`)
)

// definedNames returns the value and node names a .fir line defines.
func definedNames(line string) []string {
	if i := strings.Index(line, "//"); i >= 0 {
		line = line[:i]
	}
	var out []string
	if m := graphRE.FindStringSubmatch(line); m != nil {
		for _, v := range valueRE.FindAllStringSubmatch(m[1], -1) {
			out = append(out, unquote(v[1]))
		}
	}
	if m := defRE.FindStringSubmatch(line); m != nil {
		for _, v := range valueRE.FindAllStringSubmatch(m[1], -1) {
			out = append(out, unquote(v[1]))
		}
	}
	if m := nodeNameRE.FindStringSubmatch(line); m != nil {
		out = append(out, unquote(m[1]))
	}
	return out
}

func unquote(s string) string {
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return s
}

// containsValue reports whether msg mentions %name as a whole token.
func containsValue(msg, name string) bool {
	for _, m := range valueRE.FindAllStringSubmatch(msg, -1) {
		if unquote(m[1]) == name {
			return true
		}
	}
	return false
}

// RunCase runs every RUN line of f on case c with tool and checks the
// result against the case's directives. It returns every failure.
func RunCase(f *File, c *Case, tool Tool) []error {
	var errs []error
	fail := func(line int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s:%d: %s", f.Path, line, fmt.Sprintf(format, args...)))
	}
	for _, args := range f.Runs {
		res, err := tool(append([]string(nil), args...), c)
		var wantErr, wantRemark []Expect
		for _, e := range c.Expects {
			if e.Remark {
				wantRemark = append(wantRemark, e)
			} else {
				wantErr = append(wantErr, e)
			}
		}
		if len(wantErr) > 0 {
			if err == nil {
				fail(wantErr[0].Line, "RUN %s: succeeded, want the error at line %d: %q", strings.Join(args, " "), wantErr[0].Target, wantErr[0].Text)
				continue
			}
			for _, e := range wantErr {
				if !strings.Contains(err.Error(), e.Text) {
					fail(e.Line, "expect-error: %q not in error: %v", e.Text, err)
				} else if !Locate(c, err.Error(), e.Target) {
					fail(e.Line, "expect-error: error is not located at line %d: %v", e.Target, err)
				}
			}
			continue
		}
		if err != nil {
			fail(c.Line, "RUN %s: %v", strings.Join(args, " "), err)
			continue
		}
		if len(wantRemark) > 0 || c.NoRemarks {
			used := make([]bool, len(res.Remarks))
			for _, e := range wantRemark {
				ok := false
				for i, r := range res.Remarks {
					if !used[i] && strings.Contains(r, e.Text) && Locate(c, r, e.Target) {
						used[i], ok = true, true
						break
					}
				}
				if !ok {
					fail(e.Line, "expect-remark: no remark %q at line %d (remarks: %q)", e.Text, e.Target, res.Remarks)
				}
			}
			for i, r := range res.Remarks {
				if !used[i] {
					fail(c.Line, "unexpected remark: %s", r)
				}
			}
		}
		if err := Match(res.Output, c.Checks); err != nil {
			errs = append(errs, fmt.Errorf("%s:%v\noutput:\n%s", f.Path, err, res.Output))
		}
	}
	return errs
}

// RunFile parses the test file at path and runs every case.
func RunFile(path string, tool Tool) []error {
	src, err := os.ReadFile(path)
	if err != nil {
		return []error{err}
	}
	f, err := Parse(path, src)
	if err != nil {
		return []error{err}
	}
	var errs []error
	for _, c := range f.Cases {
		errs = append(errs, RunCase(f, c, tool)...)
	}
	return errs
}

// Test runs the test files matching the glob pattern as subtests of t,
// one per file and case, reporting every failure.
func Test(t *testing.T, pattern string, tool Tool) {
	t.Helper()
	files, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("firtest: no files match %q", pattern)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse(path, src)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range f.Cases {
				t.Run(fmt.Sprintf("line%d", c.Line), func(t *testing.T) {
					for _, err := range RunCase(f, c, tool) {
						t.Error(err)
					}
				})
			}
		})
	}
}

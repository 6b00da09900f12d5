package cli

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

const doc = `// Tool does things.
//
// Example:
//
//	tool thing
package main
`

func TestMain(t *testing.T) {
	var ran []string
	p := &Program{Name: "tool", Doc: doc, Default: "thing", Commands: []Command{
		{"thing", "do the thing", func(args []string, stdout, stderr io.Writer) error {
			fs := NewFlags("tool", "thing", doc, stdout)
			n := fs.Int("n", 0, "how many")
			if err := Parse(fs, args); err != nil {
				return err
			}
			ran = append(ran, strings.Join(fs.Args(), " "))
			switch *n {
			case 1:
				return errors.New("boom")
			case 2:
				return Usagef("n=2 is not allowed")
			case 3:
				panic("bug")
			}
			return nil
		}},
	}}
	tests := []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{nil, 0, "", ""},
		{[]string{"x.onnx"}, 0, "", ""},
		{[]string{"thing", "y"}, 0, "", ""},
		{[]string{"--n", "1"}, 1, "", "tool: boom"},
		{[]string{"--n", "2"}, 2, "", "tool thing: n=2 is not allowed"},
		{[]string{"--bogus"}, 2, "", "unknown flag"},
		{[]string{"--n", "3"}, 1, "", "tool: internal error: bug"},
		{[]string{"help"}, 0, "Tool does things.", ""},
		{[]string{"--help"}, 0, "Example:", ""},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		code := p.Main(tc.args, &out, &errb)
		if code != tc.code || !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errb.String(), tc.stderr) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want %d, %q, %q", tc.args, code, out.String(), errb.String(), tc.code, tc.stdout, tc.stderr)
		}
	}
	// No args and x.onnx run the default command, "thing y" names it, the
	// three failing runs parse their flags and run; --bogus and --help stop in
	// flag parsing, and help never reaches a command.
	if got := strings.Join(ran, "|"); got != "|x.onnx|y|||" {
		t.Errorf("command ran with %q, want %q", got, "|x.onnx|y|||")
	}
	noDefault := &Program{Name: "tool", Doc: doc, Commands: p.Commands}
	var out, errb bytes.Buffer
	if code := noDefault.Main(nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), "no command") {
		t.Errorf("no default, no args: exit %d, %q", code, errb.String())
	}
	if code := noDefault.Main([]string{"frob"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), `unknown command "frob"`) {
		t.Errorf("unknown command: exit %d, %q", code, errb.String())
	}
}

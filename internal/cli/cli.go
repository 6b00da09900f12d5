package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/ferminets/fermi/atomicfile"
)

// Command is one row of a program's subcommand table.
type Command struct {
	Name  string
	Short string // one line for the command list
	Run   func(args []string, stdout, stderr io.Writer) error
}

// Program is a command with subcommands.
type Program struct {
	Name     string    // "fcompile"
	Doc      string    // source of doc.go; its package comment is the help text
	Commands []Command // "help" is added automatically
	// Default runs when the first argument names no command (fcompile's
	// compile) or there are no arguments (fsynth's demo); "" means a
	// command is required.
	Default string
}

// UsageError marks an error that exits with status 2.
type UsageError struct{ Msg string }

func (e UsageError) Error() string { return e.Msg }

// Usagef returns a UsageError.
func Usagef(format string, args ...any) error { return UsageError{fmt.Sprintf(format, args...)} }

// Main runs the command line args and returns the exit status. A panic in
// a command is reported as an internal error with exit status 1, never as a
// Go trace.
func (p *Program) Main(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "%s: internal error: %v\n", p.Name, r)
			code = 1
		}
	}()
	name, rest := p.Default, args
	if len(args) > 0 {
		if args[0] == "help" {
			p.printHelp(stdout)
			return 0
		}
		if c := p.lookup(args[0]); c != nil {
			name, rest = c.Name, args[1:]
		}
	}
	c := p.lookup(name)
	if c == nil {
		what := "no command"
		if len(args) > 0 {
			what = fmt.Sprintf("unknown command %q", args[0])
		}
		fmt.Fprintf(stderr, "%s: %s\nRun '%s help' for usage.\n", p.Name, what, p.Name)
		return 2
	}
	err := c.Run(rest, stdout, stderr)
	var ue UsageError
	switch {
	case err == nil, errors.Is(err, pflag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "%s %s: %v\nRun '%s help' for usage.\n", p.Name, c.Name, err, p.Name)
		return 2
	}
	fmt.Fprintf(stderr, "%s: %v\n", p.Name, err)
	return 1
}

func (p *Program) lookup(name string) *Command {
	for i := range p.Commands {
		if p.Commands[i].Name == name {
			return &p.Commands[i]
		}
	}
	return nil
}

// HelpText returns the package comment of p.Doc, so docs and --help never drift.
func (p *Program) HelpText() string { return HelpText(p.Doc) }

// HelpText returns the package comment in the source of a doc.go file.
func HelpText(doc string) string {
	var out []string
	for _, line := range strings.Split(doc, "\n") {
		if strings.HasPrefix(line, "package ") {
			break
		}
		out = append(out, strings.TrimPrefix(strings.TrimPrefix(line, "//"), " "))
	}
	return strings.Join(out, "\n")
}

func (p *Program) printHelp(w io.Writer) {
	fmt.Fprintln(w, p.HelpText())
	fmt.Fprintln(w, "Commands:")
	for _, c := range p.Commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.Name, c.Short)
	}
	fmt.Fprintf(w, "  %-10s %s\n", "help", "show this help")
}

// NewFlags returns a flag set for subcommand name of program whose --help
// prints the help text of doc (the program's doc.go source) and the
// subcommand's flags to stdout. It takes the doc, not the Program, so that
// commands in a Program's table can call it without an initialization cycle.
func NewFlags(program, name, doc string, stdout io.Writer) *pflag.FlagSet {
	fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintln(stdout, HelpText(doc))
		fmt.Fprintf(stdout, "Flags of %s %s:\n", program, name)
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses args into fs; a bad flag is a UsageError, --help is pflag.ErrHelp.
func Parse(fs *pflag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		return UsageError{err.Error()}
	}
	return nil
}

// WriteJSON writes v as indented JSON to path, atomically, or to stdout when
// path is "-".
func WriteJSON(path string, stdout io.Writer, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	data = append(data, '\n')
	if path == "-" {
		_, err = stdout.Write(data)
		return err
	}
	return atomicfile.WriteBytes(path, data)
}

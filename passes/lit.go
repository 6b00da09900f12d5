package passes

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ferminets/fermi/ir"
	"github.com/ferminets/fermi/passes/firtest"
)

// LitTool is the firtest.Tool for pass tests. It interprets RUN lines of
// the form
//
//	fcompile %s --passes PIPELINE [--input-shape NAME:DIMS] [--tol T] [--seed S] [--no-equiv | --check-equivalence] [--emit ir]
//
// in-process: it parses the case, verifies it, runs the pipeline with
// verification after every pass, and, for semantics-preserving pipelines
// unless --no-equiv is given (and for any pipeline with
// --check-equivalence, for tests built so that a lossy pass is exact, such
// as pruning all-zero filters), checks numeric equivalence in the engine
// (relative error ≤ --tol, default DefaultTol, on random inputs seeded by
// --seed with symbolic dims bound to 2). --emit ir makes the resulting IR
// (large tensors elided) the output CHECK lines match. The remarks of the
// run are returned for expect-remark.
//
// Use it on your own tests with firtest.Test(t, "testdata/*.fir", passes.LitTool).
func LitTool(args []string, c *firtest.Case) (firtest.Result, error) {
	var res firtest.Result
	if len(args) == 0 || args[0] != "fcompile" {
		return res, fmt.Errorf("passes: RUN line must start with fcompile, got %q", strings.Join(args, " "))
	}
	var (
		pipeline = "none"
		tol      = DefaultTol
		seed     uint64
		equiv    = true
		force    bool
		emit     bool
		shapes   []InputShape
		files    int
	)
	for i := 1; i < len(args); i++ {
		a := args[i]
		val := func() (string, error) {
			if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(k, "--") {
				return v, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("passes: RUN: flag %s needs a value", a)
			}
			i++
			return args[i], nil
		}
		flag, _, _ := strings.Cut(a, "=")
		var v string
		var err error
		switch flag {
		case "--passes", "--tol", "--seed", "--emit", "--input-shape":
			if v, err = val(); err != nil {
				return res, err
			}
		}
		switch flag {
		case "--passes":
			pipeline = v
		case "--tol":
			if tol, err = strconv.ParseFloat(v, 64); err != nil || tol <= 0 {
				return res, fmt.Errorf("passes: RUN: --tol %q: want a positive number", v)
			}
		case "--seed":
			if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
				return res, fmt.Errorf("passes: RUN: --seed %q: %v", v, err)
			}
		case "--emit":
			if v != "ir" {
				return res, fmt.Errorf("passes: RUN: --emit %q: want ir", v)
			}
			emit = true
		case "--input-shape":
			s, err := ParseInputShape(v)
			if err != nil {
				return res, err
			}
			shapes = append(shapes, s)
		case "--no-equiv":
			equiv = false
		case "--check-equivalence":
			force = true
		default:
			if strings.HasPrefix(a, "-") {
				return res, fmt.Errorf("passes: RUN: unknown flag %q", a)
			}
			files++
		}
	}
	if files != 1 {
		return res, fmt.Errorf("passes: RUN: want one input file (%%s), got %d", files)
	}
	p, err := Parse(pipeline)
	if err != nil {
		return res, err
	}
	if len(shapes) > 0 {
		st, err := FreezeStep(shapes...)
		if err != nil {
			return res, err
		}
		p = append(Pipeline{st}, p...)
	}
	g, err := ir.ParseWith(c.File, c.Src, ir.ParseOptions{FirstLine: c.Line})
	if err != nil {
		return res, err
	}
	if err := ir.Verify(g); err != nil {
		return res, err
	}
	before := Clone(g)
	_, err = Run(g, p, Options{VerifyEach: true})
	res.Remarks = g.Remarks
	if err != nil {
		return res, err
	}
	if force && !equiv {
		return res, fmt.Errorf("passes: RUN: --no-equiv and --check-equivalence contradict each other")
	}
	if force || (equiv && p.PreservesSemantics()) {
		if _, err := CheckEquivalence(before, g, EquivOptions{Seed: seed, Tol: tol}); err != nil {
			return res, err
		}
	}
	if emit {
		var sb strings.Builder
		if err := PrintIR(&sb, g); err != nil {
			return res, err
		}
		res.Output = sb.String()
	}
	return res, nil
}

package passes_test

import (
	"testing"

	"github.com/ferminets/fermi/passes"
	"github.com/ferminets/fermi/passes/firtest"
)

// TestGolden runs testdata/passes/*.fir: every RUN line in-process with
// verification after every pass and the numeric equivalence check.
func TestGolden(t *testing.T) {
	firtest.Test(t, "../testdata/passes/*.fir", passes.LitTool)
}

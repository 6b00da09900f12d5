package engine_test

import (
	"os"
	"testing"

	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/engine/enginetest"
	"github.com/ferminets/fermi/engine/simdgemm"
)

func TestGonumConformance(t *testing.T) { enginetest.Conformance(t, engine.Gonum{}) }

// TestBlockedConformance checks the default kernels; where simdgemm's
// assembly cannot run they are Gonum's, which CI (amd64) must not accept.
func TestBlockedConformance(t *testing.T) {
	if !simdgemm.Available() {
		if os.Getenv("CI") == "true" {
			t.Fatal("simdgemm's AVX2/FMA kernel is not available on this CI machine")
		}
		t.Skip("simdgemm's AVX2/FMA kernel is not available here: Blocked is Gonum")
	}
	enginetest.Conformance(t, engine.Blocked{})
}

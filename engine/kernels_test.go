package engine_test

import (
	"os"
	"testing"

	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/engine/enginetest"
	"github.com/ferminets/fermi/engine/simd"
)

func TestGonumConformance(t *testing.T) { enginetest.Conformance(t, engine.Gonum{}) }

// TestBlockedConformance checks the default kernels; where package simd's
// assembly cannot run they are Gonum's, which CI (amd64) must not accept.
func TestBlockedConformance(t *testing.T) {
	if !simd.Available() {
		if os.Getenv("CI") == "true" {
			t.Fatal("simd's AVX2/FMA kernels are not available on this CI machine")
		}
		t.Skip("simd's AVX2/FMA kernels are not available here: Blocked is Gonum")
	}
	enginetest.Conformance(t, engine.Blocked{})
}

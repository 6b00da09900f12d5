package engine_test

import (
	"testing"

	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/engine/enginetest"
)

func TestGonumConformance(t *testing.T) { enginetest.Conformance(t, engine.Gonum{}) }

//go:build openblas && cgo

package engine_test

import (
	"testing"

	"github.com/ferminets/fermi/engine"
	"github.com/ferminets/fermi/engine/enginetest"
)

func TestOpenBLASConformance(t *testing.T) { enginetest.Conformance(t, engine.OpenBLAS{}) }

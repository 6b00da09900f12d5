package onnxio

import "fmt"

// Opset ranges: models of the default ONNX domain are read at opsets
// MinOpset..MaxOpset and written at MinExportOpset..MaxOpset.
const (
	MinOpset       = 7
	MaxOpset       = 21
	MinExportOpset = 13
)

// OpsetError reports an opset outside the supported range: a model's import
// of a domain, or a requested export opset.
type OpsetError struct {
	Domain   string // "" for the default ONNX domain
	Opset    int64
	Min, Max int64 // the supported range
}

// Error formats e as `onnxio: opset 22 not supported (max 21)`.
func (e *OpsetError) Error() string {
	what := "opset"
	if e.Domain != "" && e.Domain != "ai.onnx" {
		what = fmt.Sprintf("opset of domain %q", e.Domain)
	}
	if e.Opset > e.Max {
		return fmt.Sprintf("onnxio: %s %d not supported (max %d)", what, e.Opset, e.Max)
	}
	return fmt.Sprintf("onnxio: %s %d not supported (min %d)", what, e.Opset, e.Min)
}

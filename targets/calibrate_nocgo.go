//go:build !cgo

package targets

import (
	"context"
	"errors"
)

// errNoCgo is returned by everything that needs ONNX Runtime in a build
// without cgo.
var errNoCgo = errors.New("targets: calibration needs ONNX Runtime, which this build does not include (built with CGO_ENABLED=0; rebuild with cgo)")

// Calibrate needs ONNX Runtime; without cgo it returns an error.
func Calibrate(ctx context.Context, base *Target, opts CalibrateOptions) (*Target, *CalibrationReport, error) {
	return nil, nil, errNoCgo
}

// MeasureModel needs ONNX Runtime; without cgo it returns an error.
func MeasureModel(model []byte, runs, warmup int) (Measurement, error) {
	return Measurement{}, errNoCgo
}

// ORTVersion needs ONNX Runtime; without cgo it returns an error.
func ORTVersion() (string, error) { return "", errNoCgo }

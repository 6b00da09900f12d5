//go:build !cgo

package ortrun

import (
	"errors"
	"fmt"
	"time"

	"github.com/ferminets/fermi/ir"
)

// errNoCgo is what every entry point returns in a build without cgo.
var errNoCgo = fmt.Errorf("%w: built without cgo", ErrUnavailable)

func initRuntime() error { return errNoCgo }

func runtimeVersion() string { return "" }

// backend is empty without cgo: NewSession never creates one.
type backend struct{}

func newBackend([]byte, Options) (*backend, []ValueInfo, []ValueInfo, error) {
	return nil, nil, nil, errNoCgo
}

func modelInfo([]byte) ([]ValueInfo, []ValueInfo, error) { return nil, nil, errNoCgo }

func (*backend) run(map[string]*ir.Tensor) (map[string]*ir.Tensor, error) { return nil, errNoCgo }

func (*backend) time(map[string]*ir.Tensor, int) ([]time.Duration, error) { return nil, errNoCgo }

func (*backend) close() error { return errors.New("ortrun: no session") }

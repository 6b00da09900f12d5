package ortrun

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/ferminets/fermi/ir"
)

// ErrUnavailable is wrapped by every error that means ONNX Runtime cannot be
// used at all (library not found, failed to load, or built without cgo).
var ErrUnavailable = errors.New("ortrun: ONNX Runtime unavailable")

// LibEnv is the environment variable naming the ONNX Runtime shared library.
const LibEnv = "FERMI_ORT_LIB"

// libRelPath is where scripts/install-deps.sh puts the library, relative to
// the repository root (and where npm puts it relative to its prefix).
const libRelPath = "node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1"

// fallbackLib is the machine-wide copy used when no repository copy exists.
const fallbackLib = "/tmp/ortnpm/" + libRelPath

// OptLevel is ONNX Runtime's graph optimization level.
type OptLevel int

// Graph optimization levels. The zero value is ONNX Runtime's own default
// (all optimizations).
const (
	OptDefault  OptLevel = iota // ONNX Runtime's default (same as OptAll)
	OptDisabled                 // no graph optimizations
	OptBasic                    // constant folding, redundant node removal
	OptExtended                 // plus complex fusions
	OptAll                      // plus layout optimizations
)

var optLevelNames = [...]string{OptDefault: "default", OptDisabled: "disabled", OptBasic: "basic", OptExtended: "extended", OptAll: "all"}

// String returns the level's name ("basic").
func (l OptLevel) String() string {
	if l >= 0 && int(l) < len(optLevelNames) {
		return optLevelNames[l]
	}
	return fmt.Sprintf("optlevel(%d)", int(l))
}

// Options configure a session. The zero value is ONNX Runtime's defaults.
type Options struct {
	IntraOpThreads     int      // threads for one op; 0 lets ONNX Runtime choose
	OptLevel           OptLevel // graph optimization level
	OptimizedModelPath string   // when set, ONNX Runtime writes its optimized model here
}

// ValueInfo describes one model input or output as ONNX Runtime sees it.
type ValueInfo struct {
	Name  string
	DType ir.DType
	Dims  []int64 // -1 for a symbolic or unknown dim; empty for a scalar or an unknown rank
}

// LibraryPath returns the ONNX Runtime shared library that Available loads:
// $FERMI_ORT_LIB, else .deps/ort/<npm path> in the working directory or its
// nearest parent that has one, else the /tmp/ortnpm copy.
func LibraryPath() (string, error) {
	if p := os.Getenv(LibEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %s=%s: %v", ErrUnavailable, LibEnv, p, err)
		}
		return p, nil
	}
	tried := []string{}
	if dir, err := os.Getwd(); err == nil {
		for {
			p := filepath.Join(dir, ".deps", "ort", libRelPath)
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			tried = append(tried, p)
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	if _, err := os.Stat(fallbackLib); err == nil {
		return fallbackLib, nil
	}
	tried = append(tried, fallbackLib)
	return "", fmt.Errorf("%w: libonnxruntime.so.1 not found (set %s or run scripts/install-deps.sh); tried %v",
		ErrUnavailable, LibEnv, tried)
}

var (
	initOnce sync.Once
	initErr  error
)

// Available loads ONNX Runtime (once per process) and reports why it cannot
// be used, or nil.
func Available() error {
	initOnce.Do(func() { initErr = initRuntime() })
	return initErr
}

// Version returns the version of the loaded ONNX Runtime library ("1.30.0").
func Version() (string, error) {
	if err := Available(); err != nil {
		return "", err
	}
	return runtimeVersion(), nil
}

// Require skips the test when ONNX Runtime is unavailable, or fails it when
// the environment variable CI is "true", so that CI never passes by skipping.
func Require(t testing.TB) {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and %v", err)
		}
		t.Skip(err)
	}
}

// Session is a model loaded into ONNX Runtime, reusable across runs. It is
// safe for concurrent use.
type Session struct {
	mu      sync.Mutex
	b       *backend
	inputs  []ValueInfo
	outputs []ValueInfo
}

// NewSession loads model (ONNX protobuf bytes) into ONNX Runtime.
func NewSession(model []byte, opts Options) (*Session, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	if opts.OptLevel < OptDefault || opts.OptLevel > OptAll {
		return nil, fmt.Errorf("ortrun: invalid optimization level %d", int(opts.OptLevel))
	}
	b, ins, outs, err := newBackend(model, opts)
	if err != nil {
		return nil, err
	}
	return &Session{b: b, inputs: ins, outputs: outs}, nil
}

// Inputs describes the model's inputs (initializers excluded), in model order.
func (s *Session) Inputs() []ValueInfo { return s.inputs }

// Outputs describes the model's outputs, in model order.
func (s *Session) Outputs() []ValueInfo { return s.outputs }

// OutputNames returns the model's output names in model order.
func (s *Session) OutputNames() []string {
	names := make([]string, len(s.outputs))
	for i, o := range s.outputs {
		names[i] = o.Name
	}
	return names
}

// Run runs the model once on inputs (one tensor per model input, by name) and
// returns every output by name.
func (s *Session) Run(inputs map[string]*ir.Tensor) (_ map[string]*ir.Tensor, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer recoverTo(&err)
	if s.b == nil {
		return nil, errors.New("ortrun: session is closed")
	}
	if err := s.checkInputs(inputs); err != nil {
		return nil, err
	}
	return s.b.run(inputs)
}

// Time runs the model n times on inputs after one untimed warm-up run and
// returns the wall time of each timed run (outputs are preallocated, so the
// times are ONNX Runtime's alone).
func (s *Session) Time(inputs map[string]*ir.Tensor, n int) (_ []time.Duration, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	defer recoverTo(&err)
	if s.b == nil {
		return nil, errors.New("ortrun: session is closed")
	}
	if n < 1 {
		return nil, fmt.Errorf("ortrun: Time needs at least one run, got %d", n)
	}
	if err := s.checkInputs(inputs); err != nil {
		return nil, err
	}
	return s.b.time(inputs, n)
}

// Close releases the session. Closing twice is harmless.
func (s *Session) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b == nil {
		return nil
	}
	err := s.b.close()
	s.b = nil
	return err
}

// recoverTo turns a panic in the bindings into an error.
func recoverTo(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("ortrun: onnxruntime_go panicked: %v", r)
	}
}

func (s *Session) checkInputs(inputs map[string]*ir.Tensor) error {
	for _, in := range s.inputs {
		t, ok := inputs[in.Name]
		if !ok || t == nil {
			return fmt.Errorf("ortrun: missing input %q", in.Name)
		}
		if t.DType != in.DType {
			return fmt.Errorf("ortrun: input %q is %v, model wants %v", in.Name, t.DType, in.DType)
		}
		if err := t.CheckData(); err != nil {
			return fmt.Errorf("ortrun: input %q: %v", in.Name, err)
		}
	}
	if len(inputs) != len(s.inputs) {
		var extra []string
		for name := range inputs {
			if !hasInfo(s.inputs, name) {
				extra = append(extra, name)
			}
		}
		sort.Strings(extra)
		return fmt.Errorf("ortrun: model has no inputs %q", extra)
	}
	return nil
}

func hasInfo(vs []ValueInfo, name string) bool {
	for _, v := range vs {
		if v.Name == name {
			return true
		}
	}
	return false
}

// Run loads model, runs it once on inputs and returns every output by name.
// Use a Session to run a model more than once.
func Run(model []byte, inputs map[string]*ir.Tensor, opts Options) (map[string]*ir.Tensor, error) {
	s, err := NewSession(model, opts)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	return s.Run(inputs)
}

// ModelInfo returns the inputs and outputs of model as ONNX Runtime sees them.
func ModelInfo(model []byte) (inputs, outputs []ValueInfo, err error) {
	if err := Available(); err != nil {
		return nil, nil, err
	}
	return modelInfo(model)
}

// RandomInputs returns seeded random tensors for g's inputs, with symbolic
// and unknown dims bound to batch: floating-point inputs draw from N(0, 1),
// integer inputs are zero (safe as indices and shapes) and bool inputs false.
// Input i draws from its own PCG stream (seed, i), so the result depends only
// on the inputs' names, types and shapes, the seed and the batch.
func RandomInputs(g *ir.Graph, seed uint64, batch int64) (map[string]*ir.Tensor, error) {
	infos := make([]ValueInfo, len(g.Inputs))
	for i, v := range g.Inputs {
		if v.Shape == nil {
			return nil, fmt.Errorf("ortrun: input %q has unknown rank", v.Name)
		}
		infos[i] = ValueInfo{Name: v.Name, DType: v.DType, Dims: v.Shape.Ints()}
	}
	return randomTensors(infos, seed, batch)
}

// RandomModelInputs is RandomInputs for a model given as ONNX bytes, reading
// its inputs through ONNX Runtime. For a model exported from g it returns the
// same tensors as RandomInputs(g, seed, batch).
func RandomModelInputs(model []byte, seed uint64, batch int64) (map[string]*ir.Tensor, error) {
	ins, _, err := ModelInfo(model)
	if err != nil {
		return nil, err
	}
	return randomTensors(ins, seed, batch)
}

func randomTensors(infos []ValueInfo, seed uint64, batch int64) (map[string]*ir.Tensor, error) {
	if batch < 1 {
		return nil, fmt.Errorf("ortrun: batch %d < 1", batch)
	}
	out := make(map[string]*ir.Tensor, len(infos))
	for i, in := range infos {
		dims := make([]int64, len(in.Dims))
		for j, d := range in.Dims {
			dims[j] = d
			if d < 0 {
				dims[j] = batch
			}
		}
		t, err := randomTensor(in.DType, dims, rand.New(rand.NewPCG(seed, uint64(i))))
		if err != nil {
			return nil, fmt.Errorf("ortrun: input %q: %v", in.Name, err)
		}
		out[in.Name] = t
	}
	return out, nil
}

func randomTensor(dt ir.DType, dims []int64, rng *rand.Rand) (*ir.Tensor, error) {
	n := ir.NumElements(dims)
	t := &ir.Tensor{DType: dt, Dims: dims}
	switch {
	case dt == ir.Float32:
		t.F32 = make([]float32, n)
		for i := range t.F32 {
			t.F32[i] = float32(rng.NormFloat64())
		}
	case dt == ir.Int64:
		t.I64 = make([]int64, n)
	case dt == ir.Float64:
		t.Raw = make([]byte, 0, 8*n)
		for range n {
			t.Raw = appendU64(t.Raw, math.Float64bits(rng.NormFloat64()))
		}
	case dt == ir.Float16:
		t.Raw = make([]byte, 0, 2*n)
		for range n {
			t.Raw = appendU16(t.Raw, ir.Float32ToHalf(float32(rng.NormFloat64())))
		}
	case dt == ir.BFloat16:
		t.Raw = make([]byte, 0, 2*n)
		for range n {
			t.Raw = appendU16(t.Raw, uint16(math.Float32bits(float32(rng.NormFloat64()))>>16))
		}
	case dt.IsInt() || dt == ir.Bool:
		t.Raw = make([]byte, int(n)*dt.Size())
	default:
		return nil, fmt.Errorf("no random data for dtype %v", dt)
	}
	return t, nil
}

func appendU16(b []byte, v uint16) []byte { return append(b, byte(v), byte(v>>8)) }

func appendU64(b []byte, v uint64) []byte {
	return append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56))
}

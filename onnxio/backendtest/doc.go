// Package backendtest reads the ONNX backend node tests (Debian
// libonnx-testdata: one directory per test holding model.onnx and
// test_data_set_0/{input,output}_N.pb) and decides which of them the
// reference engine must pass. The engine's own test and fcompile run's test
// share it, so both measure the same scope.
//
// Invariants: EngineScope is the single definition of the engine's node-test
// scope; CloseTo treats integers exactly and floats with atol + rtol·|want|.
package backendtest

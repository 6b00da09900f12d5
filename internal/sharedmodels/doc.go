// Package sharedmodels locates the real third-party ONNX models that tests
// and benchmarks measure against (the project's shared/models directory:
// fashion-lenet5, fashion-resnet20, mobilenet_v2, squeezenet1_1,
// shufflenet_v2_x0_5; see its README).
//
// The models are not something `make deps` can install, so a test that needs
// them skips when they are absent, saying so, even under CI=true.
//
// Invariants: Dir never fails a test; Require and Path skip, never fail.
package sharedmodels

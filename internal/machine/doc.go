// Package machine describes the machine a measurement runs on, for the
// records under bench/results and calibrated profiles: CPU model and load
// average. Benchmarks on a
// shared machine are noisy; recording the load lets a reader judge a figure.
//
// Invariants: the functions never fail; missing /proc files give GOARCH or "".
package machine

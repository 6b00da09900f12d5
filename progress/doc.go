// Package progress reports the advance of long work: a redrawn bar when the
// output is a terminal, plain lines (one per tenth of the work) in logs.
//
// Invariants: a Meter never writes more than one line per tenth of the work
// in plain mode; a nil Meter is a no-op.
package progress

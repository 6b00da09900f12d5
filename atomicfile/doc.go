// Package atomicfile writes output files all-or-nothing: data goes to a
// temporary file in the destination directory, is synced, and is renamed over
// the destination only when complete, so a failed or interrupted write never
// leaves a partial file behind.
//
// Invariants: the destination holds either its old content or the complete
// new content, never a mix; no temporary file outlives a call.
package atomicfile

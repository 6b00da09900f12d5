//go:build race

package engine

// raceEnabled reports a race-detector build, in which sync.Pool drops a
// quarter of the buffers put back (the simd matrix product's packing
// buffers among them), so allocation counts say nothing of the arena.
const raceEnabled = true

package engine

import "math"

// Schedule selects how the learning rate changes over the steps of a
// training run.
type Schedule uint8

// Learning-rate schedules.
const (
	// ScheduleConstant keeps TrainConfig.LR throughout.
	ScheduleConstant Schedule = iota
	// ScheduleOneCycle is PyTorch's OneCycleLR with cosine annealing and two
	// phases (three_phase=False): from LR/DivFactor up to LR over the first
	// PctStart of the steps, then down to LR/(DivFactor·FinalDivFactor).
	// Momentum is not cycled (PyTorch's cycle_momentum is not reproduced).
	ScheduleOneCycle
	// ScheduleCosine warms up linearly to LR over the first WarmupFrac of
	// the steps (step s < W gets LR·(s+1)/W), then follows a half cosine
	// from LR down to 0 at the last step.
	ScheduleCosine
)

// oneCycleLR is PyTorch's OneCycleLR (anneal_strategy "cos", three_phase
// False) at step s of total: phase 1 ends at step pct·total − 1, phase 2
// at total − 1, each annealing with cos between its end points.
func oneCycleLR(s, total int, maxLR, pct, div, finalDiv float64) float64 {
	initial := maxLR / div
	minLR := initial / finalDiv
	end1 := pct*float64(total) - 1
	step := float64(s)
	if step <= end1 && end1 > 0 { // an empty phase 1 (very short runs) is skipped
		return annealCos(initial, maxLR, step/end1)
	}
	return annealCos(maxLR, minLR, (step-end1)/(float64(total-1)-end1))
}

// annealCos goes from start (pct 0) to end (pct 1) along a half cosine.
func annealCos(start, end, pct float64) float64 {
	return end + (start-end)/2*(math.Cos(math.Pi*pct)+1)
}

// cosineLR is linear warm-up over warmup steps followed by cosine decay to
// 0 at step total−1.
func cosineLR(s, total, warmup int, maxLR float64) float64 {
	if s < warmup {
		return maxLR * float64(s+1) / float64(warmup)
	}
	span := total - 1 - warmup
	if span <= 0 {
		return maxLR
	}
	return annealCos(maxLR, 0, float64(s-warmup)/float64(span))
}

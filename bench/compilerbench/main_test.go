package main

import "testing"

func TestRunRejectsBadRuns(t *testing.T) {
	if err := run([]string{"--runs", "0", "--out", ""}, nil); err == nil {
		t.Error("run accepted --runs 0")
	}
}

// Package cli is the command-line plumbing both commands share: a table of
// subcommands, GNU-style flags (pflag), help taken from the command's doc.go
// package comment, and the exit-status convention (0 success, 1 failure,
// 2 usage error). Commands keep no logic of their own; neither does this.
//
// Invariants: usage errors exit 2, other failures 1, success and --help 0;
// help text is exactly the doc.go package comment.
package cli

package main

import (
	"context"
	"fmt"
	"io"
)

// cmdDeadletter is being written; see the issue tracker.
func cmdDeadletter(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "rtbridge deadletter: not built yet")
	return 1
}

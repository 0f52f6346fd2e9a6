package main

import (
	"context"
	"fmt"
	"io"
)

// cmdCheck is being written; see the issue tracker.
func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "rtbridge check: not built yet")
	return 1
}

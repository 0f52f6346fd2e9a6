package main

import (
	"context"
	"fmt"
	"io"
)

// cmdRT is being written; see the issue tracker.
func cmdRT(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "rtbridge rt: not built yet")
	return 1
}

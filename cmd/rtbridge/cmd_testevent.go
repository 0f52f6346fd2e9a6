package main

import (
	"context"
	"fmt"
	"io"
)

// cmdTest is being written; see the issue tracker.
func cmdTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "rtbridge test: not built yet")
	return 1
}

package main

import (
	"context"
	"fmt"
	"io"
)

// cmdStatus is being written; see the issue tracker.
func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fmt.Fprintln(stderr, "rtbridge status: not built yet")
	return 1
}

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/common/version"

	"github.com/rtbridge/rtbridge/bridge/daemon"
)

// cmdRun runs the daemon until SIGTERM/SIGINT; SIGHUP reloads.
func cmdRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("run", stderr)
	cfgPath := fs.String("config", defaultConfig, "config file")
	if _, code, ok := parseFlagsMax(fs, args, 0); !ok {
		return code
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	err := daemon.Run(ctx, daemon.Options{ConfigPath: *cfgPath, Reload: hup, LogOutput: stderr, Version: version.Version})
	if err != nil {
		fmt.Fprintf(stderr, "rtbridge run: %v\n", err)
		return exitFailure
	}
	return exitOK
}

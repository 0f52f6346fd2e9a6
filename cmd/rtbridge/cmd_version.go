package main

import (
	"context"
	"fmt"
	"io"
	"runtime/debug"

	"github.com/prometheus/common/version"
)

// cmdVersion prints what `make build` stamped into the binary (version,
// revision, branch, build date) and the Go version, as Prometheus' tools do;
// rtbridge_build_info carries the same labels.
func cmdVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("version", stderr)
	asJSON := fs.Bool("json", false, "print the fields as JSON")
	if _, code, ok := parseFlagsMax(fs, args, 0); !ok {
		return code
	}
	if *asJSON {
		_ = printJSON(stdout, map[string]string{
			"version": version.Version, "revision": version.GetRevision(), "branch": version.Branch,
			"build_date": version.BuildDate, "go_version": version.GoVersion,
			"platform": version.GoOS + "/" + version.GoArch,
		})
		return 0
	}
	fmt.Fprintln(stdout, version.Print("rtbridge"))
	return 0
}

// stampVersion fills in the version of a binary built without `make build`
// (go build, go run, go install): the module version, "(devel)" in a
// checkout. It runs once in main, before anything reads the version.
func stampVersion() {
	if version.Version != "" {
		return
	}
	version.Version = "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		version.Version = bi.Main.Version
	}
}

package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
)

// Exit codes of every command: 0 ok, 1 a failure or findings (a bad config
// included), 2 a usage error.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// newFlags is the flag set of command name: errors and -h go to stderr,
// and a bad flag does not exit the process.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// printJSON prints v as every --json output is: indented, one value.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// parseFlags parses args with fs, taking flags wherever they stand
// (`deadletter show ID --json` as well as `deadletter --json show ID`); a
// lone "--" ends the flags. It returns the positional arguments, or
// ok=false with the exit code: 0 after -h, 2 after a bad flag (fs has
// printed the message and usage).
func parseFlags(fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	return parseFlagsMax(fs, args, -1)
}

// parseFlagsMax is parseFlags for a command that takes at most max
// positional arguments (max < 0: any number); more is a usage error.
func parseFlagsMax(fs *flag.FlagSet, args []string, max int) (pos []string, code int, ok bool) {
	pos, code, ok = parseAll(fs, args)
	if ok && max >= 0 && len(pos) > max {
		fmt.Fprintf(fs.Output(), "rtbridge %s: unexpected argument %q\n", fs.Name(), pos[max])
		return nil, exitUsage, false
	}
	return pos, code, ok
}

func parseAll(fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, exitOK, false
			}
			return nil, exitUsage, false
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, exitOK, true
		}
		if len(args) > 0 && len(rest) < len(args) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), exitOK, true
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

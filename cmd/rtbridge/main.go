// Command rtbridge turns mail and webhooks into Request Tracker tickets.
// This file is only the dispatcher; each subcommand lives in its own file
// (cmd_<name>.go) and does flags and wiring only.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// defaultConfig is where the packaged unit keeps the config
// (ConfigurationDirectory=rtbridge); every subcommand's --config defaults
// to it so an operator on the host can leave the flag out.
const defaultConfig = "/etc/rtbridge/config.yaml"

// command is one subcommand: run gets the arguments after its name.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"run", "run the daemon (sources, HTTP server, workers)", cmdRun},
		{"check", "validate a config file and its rules", cmdCheck},
		{"test", "show which rule matches an event file and the plan it makes", cmdTest},
		{"rt", "talk to RT directly (get/post REST paths); checks credentials", cmdRT},
		{"status", "show queue depth, dead letters, breaker and source state", cmdStatus},
		{"deadletter", "list, show, retry or drop dead-lettered events", cmdDeadletter},
		{"mailgate", "hand one mail (stdin) to the daemon, as RT's rt-mailgate does", cmdMailgateMain},
		{"store", "migrate: move a SQLite store into PostgreSQL", cmdStore},
		{"version", "print the version, revision, build date and Go version", cmdVersion},
	}
}

func main() {
	stampVersion()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	if args[0] == "--version" {
		args = append([]string{"version"}, args[1:]...)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "rtbridge: unknown command %q\n\n", args[0])
	usage(stderr)
	return exitUsage
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: rtbridge COMMAND [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nrtbridge COMMAND -h shows a command's flags; flags may follow the arguments.\n--json prints JSON (check, test, rt, status, deadletter, version).\nExit status: 0 ok, 1 a failure or findings (a bad config included), 2 usage.")
}

package main

import (
	"context"
	"fmt"
	"io"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/daemon"
	"github.com/rtbridge/rtbridge/rules"
)

// cmdCheck loads the config and builds every part of the daemon from it,
// as `run` does but connecting nowhere, printing every problem as
// FILE:LINE:COL: … Exit 0 only when `run` would start.
func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("check", stderr)
	file := fs.String("config", defaultConfig, "config file to check")
	verbose := fs.Bool("v", false, "print a one-line summary of every rule")
	asJSON := fs.Bool("json", false, "print the result as one JSON object on stdout")
	if _, code, ok := parseFlagsMax(fs, args, 0); !ok {
		return code
	}
	cfg, parts, err := daemon.Check(*file)
	r := checkReport{File: *file, OK: err == nil, Errors: problemsOf(err), Warnings: []checkProblem{}, Sources: []string{}}
	if parts != nil {
		r.Rules = parts.Rules.Len()
		for _, w := range parts.Rules.Warnings() {
			r.Warnings = append(r.Warnings, ruleProblem(w))
		}
		if *verbose {
			r.Summaries = parts.Rules.Summaries()
		}
	}
	if cfg != nil {
		r.Sources = cfg.SourceNames()
	}
	if *asJSON {
		printJSON(stdout, r)
	} else {
		r.print(stdout, stderr)
	}
	if !r.OK {
		return exitFailure
	}
	return exitOK
}

// checkReport is what check found; --json prints it as is.
type checkReport struct {
	File      string         `json:"file"`
	OK        bool           `json:"ok"`
	Rules     int            `json:"rules"`
	Sources   []string       `json:"sources"`
	Errors    []checkProblem `json:"errors"`
	Warnings  []checkProblem `json:"warnings"`
	Summaries []string       `json:"summaries,omitempty"` // -v: FILE-relative "LINE:COL: rule …"
}

// checkProblem is one error or warning, positioned in the config file.
type checkProblem struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Col     int    `json:"col,omitempty"`
	Key     string `json:"key,omitempty"`  // config key path, e.g. imap[0].tls
	Rule    string `json:"rule,omitempty"` // rule name
	Message string `json:"message"`
	Text    string `json:"text"` // the line the text output prints
}

func (r checkReport) print(stdout, stderr io.Writer) {
	for _, p := range r.Errors {
		fmt.Fprintln(stderr, p.Text)
	}
	for _, p := range r.Warnings {
		fmt.Fprintln(stderr, p.Text)
	}
	for _, s := range r.Summaries {
		fmt.Fprintf(stdout, "%s:%s\n", r.File, s)
	}
	if r.OK {
		fmt.Fprintf(stdout, "%s: ok (%d rules)\n", r.File, r.Rules)
	}
}

// problemsOf flattens a joined error of *config.Error and
// *rules.CompileError into one problem each.
func problemsOf(err error) []checkProblem {
	out := []checkProblem{}
	switch e := err.(type) {
	case nil:
	case *rules.CompileError:
		for _, p := range e.Problems {
			out = append(out, ruleProblem(p))
		}
	case *config.Error:
		out = append(out, checkProblem{File: e.File, Line: e.Line, Col: e.Col, Key: e.Path, Message: e.Msg, Text: e.Error()})
	case interface{ Unwrap() []error }:
		for _, e := range e.Unwrap() {
			out = append(out, problemsOf(e)...)
		}
	default:
		out = append(out, checkProblem{Message: err.Error(), Text: err.Error()})
	}
	return out
}

func ruleProblem(p rules.Problem) checkProblem {
	return checkProblem{File: p.File, Line: p.Line, Col: p.Col, Rule: p.Rule, Message: p.Msg, Text: p.String()}
}

// printErrors prints each problem of err on its own line.
func printErrors(w io.Writer, err error) {
	for _, p := range problemsOf(err) {
		fmt.Fprintln(w, p.Text)
	}
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/rules"
	"gopkg.in/yaml.v3"
)

// cmdCheck validates the whole config and compiles its rules, printing
// every problem as FILE:LINE:COL: … Exit 0 only when there is no error.
func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", defaultConfig, "config file to check")
	verbose := fs.Bool("v", false, "print a one-line summary of every rule")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "rtbridge check: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	failed := false
	// The rest of the config and the rules are checked independently, so
	// one run reports the problems of both.
	if cfg, err := config.Load(*file); err != nil {
		failed = true
		printErrors(stderr, err)
	} else if _, err := cfg.MTASource(); err != nil {
		failed = true
		printErrors(stderr, err)
	}
	src, err := rulesSource(*file)
	if err != nil {
		fmt.Fprintf(stderr, "rtbridge check: %v\n", err)
		return 1
	}
	rs, err := rules.Compile(src)
	if err != nil {
		failed = true
		printErrors(stderr, err)
	}
	if rs != nil {
		for _, w := range rs.Warnings() {
			fmt.Fprintln(stderr, w.String())
		}
		if *verbose {
			for _, s := range rs.Summaries() {
				fmt.Fprintf(stdout, "%s:%s\n", *file, s)
			}
		}
	}
	if failed {
		return 1
	}
	n := 0
	if rs != nil {
		n = rs.Len()
	}
	fmt.Fprintf(stdout, "%s: ok (%d rules)\n", *file, n)
	return 0
}

// printErrors prints each error of a joined error or a CompileError on its
// own line.
func printErrors(w io.Writer, err error) {
	var ce *rules.CompileError
	if errors.As(err, &ce) {
		for _, p := range ce.Problems {
			fmt.Fprintln(w, p.String())
		}
		return
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			printErrors(w, e)
		}
		return
	}
	fmt.Fprintln(w, err)
}

// rulesSource reads the rules and templates sections of the config file.
// It does not need the rest of the file to be valid, so `rtbridge test`
// works on a laptop where the RT secrets are not readable.
func rulesSource(file string) (rules.Source, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return rules.Source{}, fmt.Errorf("read config: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return rules.Source{}, fmt.Errorf("%s: %w", file, err)
	}
	src := rules.Source{File: file}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return src, nil
	}
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		switch top.Content[i].Value {
		case "rules":
			src.Rules = top.Content[i+1]
		case "templates":
			src.Templates = top.Content[i+1]
		case "no_match":
			src.NoMatch = top.Content[i+1]
		}
	}
	return src, nil
}

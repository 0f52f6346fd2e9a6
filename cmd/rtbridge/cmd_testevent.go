package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/daemon"
	"github.com/rtbridge/rtbridge/bridge/decode"
	"github.com/rtbridge/rtbridge/bridge/mailflow"
	"github.com/rtbridge/rtbridge/bridge/webhook"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rules"
)

// cmdTest shows, for each event file, which rule matches and the plan the
// daemon would run (with an empty ledger). It never talks to RT.
func cmdTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("test", stderr)
	file := fs.String("config", defaultConfig, "config file with the rules")
	source := fs.String("source", "test", "source name the events pretend to come from (a mailbox's ACCOUNT/FOLDER applies its mail policy)")
	kind := fs.String("kind", "", "event kind: mail, alertmanager, grafana or json (default: detected)")
	format := fs.String("format", "json", "output: json or text")
	asJSON := fs.Bool("json", false, "print JSON (the same as --format json)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: rtbridge test [--config FILE] [--source NAME] [--kind K] [--json | --format json|text] EVENT_FILE…")
		fs.PrintDefaults()
	}
	files, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if *asJSON {
		*format = "json"
	}
	if len(files) == 0 || (*format != "json" && *format != "text") {
		fs.Usage()
		return exitUsage
	}
	rs, policies, err := planners(*file)
	if err != nil {
		printErrors(stderr, err)
		return exitFailure
	}
	for _, path := range files {
		ev, err := loadEvent(path, *source, event.Kind(*kind))
		if err != nil {
			fmt.Fprintf(stderr, "rtbridge test: %s: %v\n", path, err)
			code = exitFailure
			continue
		}
		// With an empty ledger: `rtbridge test` shows what a first event does.
		p, err := mailflow.Planner(rs, policies, ev.Kind).Evaluate(ev, plan.Facts{})
		if err != nil {
			fmt.Fprintf(stderr, "rtbridge test: %s: %v\n", path, err)
			code = exitFailure
			continue
		}
		if *format == "text" {
			fmt.Fprintf(stdout, "== %s (%s from %s)\n%s\n", path, ev.Kind, ev.Source, formatPlan(p))
			continue
		}
		if err := printJSON(stdout, struct {
			File string     `json:"file"`
			Kind event.Kind `json:"kind"`
			Plan *plan.Plan `json:"plan"`
		}{path, ev.Kind, p}); err != nil {
			fmt.Fprintf(stderr, "rtbridge test: %s: %v\n", path, err)
			code = exitFailure
		}
	}
	return code
}

// planners compiles the rules as the daemon does and reads the mailboxes'
// policies (loop protection, built-in RT replies, requestor and Cc
// defaults) the daemon wraps them with for mail, so a mail tested with
// --source ACCOUNT/FOLDER gets the daemon's exact plan. The config is
// loaded without its secrets.
func planners(file string) (*rules.RuleSet, map[string]mailflow.Policy, error) {
	cfg, err := config.LoadForOps(file)
	if err != nil {
		return nil, nil, err
	}
	rs, err := daemon.CompileRules(cfg)
	if err != nil {
		return nil, nil, err
	}
	policies, err := mailflow.Policies(cfg.IMAP)
	return rs, policies, err
}

// loadEvent decodes an event file with the daemon's decoder; without
// --kind its kind is detected from its content.
func loadEvent(path, source string, kind event.Kind) (*event.Event, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if kind == "" {
		kind = decode.DetectKind(data)
	}
	return decode.Event(decode.Stored{
		ID:         "test-" + filepath.Base(path),
		Source:     source,
		Kind:       kind,
		ReceivedAt: time.Now().UTC().Truncate(time.Second),
		Meta:       map[string]string{webhook.MetaPath: "/test"},
		Open:       func() (io.ReadCloser, error) { return os.Open(path) },
	})
}

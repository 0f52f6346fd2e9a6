package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/rtbridge/rtbridge/plan"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rtbridge/rtbridge/bridge/alerts"
	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/mailflow"
	"github.com/rtbridge/rtbridge/bridge/mailparse"
	"github.com/rtbridge/rtbridge/bridge/webhook"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/rules"
)

// cmdTest shows, for each event file, which rule matches and the plan the
// daemon would run (with an empty ledger). It never talks to RT.
func cmdTest(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", defaultConfig, "config file with the rules")
	source := fs.String("source", "test", "source name the events pretend to come from (a mailbox's ACCOUNT/FOLDER applies its mail policy)")
	kind := fs.String("kind", "", "event kind: mail, alertmanager, grafana or json (default: detected)")
	format := fs.String("format", "json", "output: json or text")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: rtbridge test --config FILE [--source NAME] [--kind K] [--format json|text] EVENT_FILE…")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 || (*format != "json" && *format != "text") {
		fs.Usage()
		return 2
	}
	src, err := rulesSource(*file)
	if err != nil {
		fmt.Fprintf(stderr, "rtbridge test: %v\n", err)
		return 1
	}
	rs, err := rules.Compile(src)
	if err != nil {
		printErrors(stderr, err)
		return 1
	}
	planner, err := mailGuard(*file, rs)
	if err != nil {
		fmt.Fprintf(stderr, "rtbridge test: %v\n", err)
		return 1
	}
	code := 0
	for _, path := range fs.Args() {
		ev, err := loadEvent(path, *source, event.Kind(*kind))
		if err != nil {
			fmt.Fprintf(stderr, "rtbridge test: %s: %v\n", path, err)
			code = 1
			continue
		}
		p, err := planner.Evaluate(ctx, ev, emptyLedger{})
		if err != nil {
			fmt.Fprintf(stderr, "rtbridge test: %s: %v\n", path, err)
			code = 1
			continue
		}
		if *format == "text" {
			fmt.Fprintf(stdout, "== %s (%s from %s)\n%s\n", path, ev.Kind, ev.Source, formatPlan(p))
			continue
		}
		out, err := json.MarshalIndent(struct {
			File string     `json:"file"`
			Kind event.Kind `json:"kind"`
			Plan *plan.Plan `json:"plan"`
		}{path, ev.Kind, p}, "", "  ")
		if err != nil {
			fmt.Fprintf(stderr, "rtbridge test: %s: %v\n", path, err)
			code = 1
			continue
		}
		fmt.Fprintf(stdout, "%s\n", out)
	}
	return code
}

// mailGuard wraps the rules with the mailboxes' policies (loop protection,
// built-in RT replies, requestor and Cc defaults), as the daemon does, so a
// mail tested with --source ACCOUNT/FOLDER gets the daemon's exact plan. The
// config is read without its secrets; a file that is only rules has no
// mailboxes and the rules are used as they are.
func mailGuard(file string, rs *rules.RuleSet) (mailflow.Guard, error) {
	guard := mailflow.Guard{Rules: rs}
	cfg, err := config.LoadForOps(file)
	if err != nil {
		return guard, err
	}
	accounts, err := cfg.IMAPSources()
	if err != nil {
		return guard, err
	}
	guard.Policies, err = mailflow.Policies(accounts)
	return guard, err
}

// emptyLedger knows no key: `rtbridge test` shows what a first event does.
type emptyLedger struct{}

func (emptyLedger) Lookup(context.Context, string) (plan.Entry, bool, error) {
	return plan.Entry{}, false, nil
}

// loadEvent reads an event file with the parsers the daemon uses: a JSON
// body is an Alertmanager or Grafana notification when it looks like one,
// else a generic JSON webhook; anything else is a mail.
func loadEvent(path, source string, kind event.Kind) (*event.Event, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if kind == "" {
		kind = detectKind(data)
	}
	ev := &event.Event{
		ID:         "test-" + filepath.Base(path),
		Source:     source,
		Kind:       kind,
		ReceivedAt: time.Now().UTC().Truncate(time.Second),
	}
	switch kind {
	case event.KindMail:
		open := func() (io.ReadCloser, error) { return os.Open(path) }
		ev.Mail, err = mailparse.Parse(open)
	case event.KindAlertmanager, event.KindGrafana:
		ev.Alert, err = alerts.Parse(kind, data)
	case event.KindJSON:
		ev.JSON, err = webhook.ParseJSON(data, map[string]string{webhook.MetaPath: "/test"})
	default:
		return nil, fmt.Errorf("unknown kind %q (mail, alertmanager, grafana, json)", kind)
	}
	if err != nil {
		return nil, err
	}
	return ev, nil
}

// detectKind guesses an event file's kind from its content.
func detectKind(data []byte) event.Kind {
	trimmed := bytes.TrimSpace(data)
	if !bytes.HasPrefix(trimmed, []byte("{")) {
		return event.KindMail
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(trimmed, &top) != nil {
		return event.KindJSON
	}
	_, v := top["version"]
	_, g := top["groupKey"]
	_, a := top["alerts"]
	if !v || !g || !a {
		return event.KindJSON
	}
	_, org := top["orgId"]
	_, state := top["state"]
	if org || state {
		return event.KindGrafana
	}
	return event.KindAlertmanager
}

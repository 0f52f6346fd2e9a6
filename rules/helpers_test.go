package rules

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
	"gopkg.in/yaml.v3"
)

// compileYAML compiles a config text whose top level may hold rules:,
// templates: and no_match:, as rtbridge check reads it.
func compileYAML(t testing.TB, src string) (*RuleSet, error) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	s := Source{File: "t.yaml"}
	top := doc.Content[0]
	for i := 0; i+1 < len(top.Content); i += 2 {
		switch top.Content[i].Value {
		case "rules":
			s.Rules = top.Content[i+1]
		case "templates":
			s.Templates = top.Content[i+1]
		case "no_match":
			s.NoMatch = top.Content[i+1]
		}
	}
	return Compile(s)
}

// compileYAMLNoFail is compileYAML for fuzzing: bad YAML is just an error.
func compileYAMLNoFail(src string) (*RuleSet, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil || len(doc.Content) == 0 {
		return nil, err
	}
	s := Source{File: "f.yaml"}
	top := resolve(&doc)
	if top.Kind != yaml.MappingNode {
		return nil, nil
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		switch top.Content[i].Value {
		case "rules":
			s.Rules = top.Content[i+1]
		case "templates":
			s.Templates = top.Content[i+1]
		}
	}
	return Compile(s)
}

func mustCompile(t testing.TB, src string) *RuleSet {
	t.Helper()
	rs, err := compileYAML(t, src)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return rs
}

// memLedger is an in-memory ledger for tests.
type memLedger = plan.Ledger

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func mailEvent() *event.Event {
	return &event.Event{
		ID: "ev1", Source: "support-mailbox", Kind: event.KindMail, ReceivedAt: t0,
		Mail: &event.Mail{
			Header:      map[string][]string{"X-Priority": {"1"}, "Subject": {"Printer broken"}},
			From:        []event.Address{{Name: "Alice", Address: "alice@example.org"}},
			To:          []event.Address{{Address: "support@example.com"}},
			Cc:          []event.Address{{Address: "boss@example.com"}},
			Subject:     "Printer broken",
			MessageID:   "m1@example.org",
			InReplyTo:   []string{"parent@example.org"},
			References:  []string{"root@example.org", "parent@example.org"},
			TextBody:    "It smokes.\nHelp.",
			Attachments: []event.Attachment{{Name: "photo.png", ContentType: "image/png", Size: 10}},
		},
	}
}

func alertEvent() *event.Event {
	return &event.Event{
		ID: "ev2", Source: "am", Kind: event.KindAlertmanager, ReceivedAt: t0,
		Alert: &event.AlertNotification{
			Version: "4", Status: "firing", Receiver: "rt", GroupKey: `{}:{alertname="DiskFull"}`,
			GroupLabels:       map[string]string{"alertname": "DiskFull"},
			CommonLabels:      map[string]string{"alertname": "DiskFull", "severity": "critical", "instance": "db1", "incident": "42"},
			CommonAnnotations: map[string]string{"summary": "disk full"},
			Alerts: []event.Alert{{Status: "firing", Fingerprint: "f1", StartsAt: t0,
				Labels: map[string]string{"alertname": "DiskFull", "instance": "db1"}}},
		},
	}
}

func jsonEvent() *event.Event {
	return &event.Event{
		ID: "ev3", Source: "deploys", Kind: event.KindJSON, ReceivedAt: t0,
		JSON: &event.JSONBody{
			Body:   map[string]any{"app": "shop", "build": map[string]any{"id": 17.0, "tags": []any{"a.b", "c"}}},
			Header: map[string][]string{"X-Github-Event": {"deployment"}},
			Path:   "/hooks/deploy",
		},
	}
}

func eval(t testing.TB, rs *RuleSet, ev *event.Event, l plan.Ledger) *plan.Plan {
	t.Helper()
	if l == nil {
		l = memLedger{}
	}
	p, err := rs.Evaluate(ev, plan.Facts{Ledger: l})
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	return p
}

func indentRules(s string) string {
	return "rules:\n" + strings.TrimLeft(s, "\n")
}

// showPlan prints a plan in a failure message.
func showPlan(p *plan.Plan) string {
	b, _ := json.MarshalIndent(p, "", "  ")
	return string(b)
}

package rules

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rules/templates"
)

// hugeAlert is a notification of n alerts, three labels each.
func hugeAlert(n int) *event.Event {
	ev := alertEvent()
	as := make([]event.Alert, n)
	for i := range as {
		as[i] = event.Alert{Status: "firing", Fingerprint: fmt.Sprint(i), StartsAt: t0,
			Labels: map[string]string{"alertname": "DiskFull", "instance": fmt.Sprintf("db%d", i), "job": "node"}}
	}
	ev.Alert.Alerts = as
	return ev
}

// TestTemplateBudget: over 10,000 alerts (far more than any notification
// carries) a linear template (a filter that writes nothing, a range over
// every alert's labels) renders well inside the time budget even on a
// loaded host; a quadratic one, or one whose every iteration does much
// work, stops with a clear error instead of holding a worker for hours.
func TestTemplateBudget(t *testing.T) {
	ev := hugeAlert(10_000)
	run := func(text string) (*plan.Plan, error, time.Duration) {
		rs := mustCompile(t, "rules:\n  - name: r\n    do: [ { create: { queue: Q, subject: s, text: '"+text+"' } } ]\n")
		start := time.Now()
		p, err := rs.Evaluate(ev, plan.Facts{Ledger: plan.Ledger{}})
		return p, err, time.Since(start)
	}
	for _, text := range []string{
		`{{ range .Alerts }}{{ if eq .Status "resolved" }}r{{ end }}{{ end }}{{ len .Alerts }} alerts`,
		`{{ range .Alerts }}{{ range $k, $v := .Labels }}{{ if eq $v "db7" }}{{ $k }}{{ end }}{{ end }}{{ end }} found`,
	} {
		p, err, took := run(text)
		if err != nil {
			t.Fatalf("linear template %s: %v", text, err)
		}
		t.Logf("linear %s: %v, %q", text, took, p.Steps[0].Create.Text)
	}
	for _, c := range []struct{ text, want string }{
		{`{{ range .Alerts }}{{ range $.Alerts }}{{ end }}{{ end }}`, "loop iterations"},
		{`{{ range .Alerts }}{{ if contains "zz" (join "," $.Alerts) }}{{ end }}{{ end }}`, "longer than"},
	} {
		_, err, took := run(c.text)
		if !errors.Is(err, ErrRender) || !errors.Is(err, templates.ErrBudget) || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s: %v, want the budget error (%s)", c.text, err, c.want)
		}
		t.Logf("stopped after %v: %v", took, err)
	}
}

// A named template that calls itself twice per level is bounded too.
func TestTemplateBudgetRecursion(t *testing.T) {
	rs := mustCompile(t, `templates:
  twice: '{{ if lt (len .) 40 }}{{ template "twice" (printf "%s." .) }}{{ template "twice" (printf "%s." .) }}{{ end }}'
rules:
  - name: r
    do: [ { create: { queue: Q, subject: s, text: '{{ template "twice" "" }}' } } ]
`)
	_, err := rs.Evaluate(jsonEvent(), plan.Facts{Ledger: plan.Ledger{}})
	if !errors.Is(err, templates.ErrBudget) {
		t.Fatalf("2^40 calls: %v, want the budget error", err)
	}
}

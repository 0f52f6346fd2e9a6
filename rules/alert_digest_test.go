package rules

import (
	"maps"
	"testing"

	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
)

// A resolved alert is reported once more after it resolved and then
// dropped by Alertmanager; the firing set did not change, so skip_repeats
// must stay quiet (the digest compares only what fires).
func TestSkipRepeatsIgnoresDroppedResolvedAlerts(t *testing.T) {
	rs := mustCompile(t, `
rules:
  - name: alerts
    key: 'am:{{ .GroupKey }}'
    skip_repeats: true
    if_exists: [ { comment: { text: 'changed' } } ]
    if_missing: [ { create: { queue: Ops } } ]
`)
	a := event.Alert{Status: "firing", Fingerprint: "fa", Labels: map[string]string{"alertname": "X", "i": "a"}}
	b := event.Alert{Status: "firing", Fingerprint: "fb", Labels: map[string]string{"alertname": "X", "i": "b"}}
	note := func(status string, as ...event.Alert) *event.Event {
		ev := alertEvent()
		ev.Alert.Status, ev.Alert.Alerts = status, as
		return ev
	}
	l := memLedger{}
	run := func(ev *event.Event) *plan.Plan {
		p := eval(t, rs, ev, l)
		for _, s := range p.Steps {
			e := l[s.Key]
			if s.Action == plan.ActionCreate {
				e.TicketID = 7
			}
			if e.State == nil {
				e.State = map[string]string{}
			}
			maps.Copy(e.State, s.State)
			l[s.Key] = e
		}
		return p
	}
	if p := run(note("firing", a, b)); len(p.Steps) != 1 || p.Steps[0].Action != plan.ActionCreate {
		t.Fatalf("first: %s", showPlan(p))
	}
	ar := a
	ar.Status = "resolved"
	if p := run(note("firing", ar, b)); len(p.Steps) != 1 || p.Steps[0].Action != plan.ActionComment {
		t.Fatalf("a resolved: %s", showPlan(p))
	}
	if p := run(note("firing", b)); p.Ignore == nil || len(p.Steps) != 0 {
		t.Fatalf("repeat without the resolved alert must be quiet: %s", showPlan(p))
	}
	if p := run(note("firing", ar, b)); p.Ignore == nil {
		t.Fatalf("the resolved alert reported again must be quiet: %s", showPlan(p))
	}
	br := b
	br.Status = "resolved"
	if p := run(note("resolved", br)); len(p.Steps) != 1 {
		t.Fatalf("all resolved: %s", showPlan(p))
	}
	if p := run(note("resolved", ar, br)); p.Ignore == nil {
		t.Fatalf("resolved repeat must be quiet: %s", showPlan(p))
	}
}

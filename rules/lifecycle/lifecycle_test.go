package lifecycle

import (
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func alert(fp, status string) event.Alert {
	return event.Alert{Fingerprint: fp, Status: status, Labels: map[string]string{"alertname": "Disk", "i": fp}}
}

// One key through its lifecycle: each notification against the ledger
// entry the previous one left.
func TestDecide(t *testing.T) {
	pol := &Policy{ResolveStatus: "resolved", ReopenWithin: time.Hour, ReopenStatus: "open", NeverReopen: []string{"rejected"}}
	firingA := []event.Alert{alert("a", "firing")}
	open := plan.Entry{TicketID: 7, Status: "open", State: map[string]string{StateFiring: "a", StateStatus: "firing"}}
	done := plan.Entry{TicketID: 7, Status: "resolved", State: map[string]string{StateFiring: "", StateStatus: "resolved",
		StateResolvedAt: t0.Format(time.RFC3339)}}
	cases := []struct {
		name   string
		in     Input
		what   Outcome
		status string
		old    int
	}{
		{"new key fires", Input{Alerts: firingA}, OpenNew, "", 0},
		{"new key resolved", Input{Alerts: []event.Alert{alert("a", "resolved")}}, Quiet, "", 0},
		{"identical repeat", Input{Alerts: firingA, Entry: open, Found: true, Status: "open"}, Quiet, "", 0},
		{"set changes", Input{Alerts: append(firingA, alert("b", "firing")), Entry: open, Found: true, Status: "open"}, Changed, "", 0},
		{"resolution", Input{Alerts: []event.Alert{alert("a", "resolved")}, Entry: open, Found: true, Status: "open"}, Resolved, "resolved", 0},
		{"resolution of a rejected ticket keeps its status", Input{Alerts: []event.Alert{alert("a", "resolved")}, Entry: open, Found: true, Status: "rejected"}, Resolved, "", 0},
		{"fires again within the window", Input{Alerts: firingA, Entry: done, Found: true, Status: "resolved", Now: t0.Add(30 * time.Minute)}, Reopened, "open", 0},
		{"fires again after the window", Input{Alerts: firingA, Entry: done, Found: true, Status: "resolved", Now: t0.Add(2 * time.Hour)}, OpenNew, "", 7},
		{"fires again on a rejected ticket", Input{Alerts: firingA, Entry: done, Found: true, Status: "rejected", Now: t0.Add(time.Minute)}, OpenNew, "", 7},
	}
	for _, c := range cases {
		c.in.Key = "k"
		if c.in.Now.IsZero() {
			c.in.Now = t0
		}
		v := pol.Decide(c.in)
		if v.What != c.what || v.Status != c.status || v.Old != c.old {
			t.Errorf("%s: %+v", c.name, v)
		}
	}
}

// RT's status is asked for only where a human's change matters: a
// resolution that sets a status, and a firing after a resolution.
func TestNeedsStatus(t *testing.T) {
	pol := &Policy{ResolveStatus: "resolved"}
	open := plan.Entry{TicketID: 7, State: map[string]string{StateStatus: "firing"}}
	done := plan.Entry{TicketID: 7, State: map[string]string{StateStatus: "resolved"}}
	umbrella := plan.Entry{TicketID: 7, State: map[string]string{StateStatus: "resolved", StateUmbrella: "1"}}
	fire, res := []event.Alert{alert("a", "firing")}, []event.Alert{alert("a", "resolved")}
	for _, c := range []struct {
		in   Input
		want bool
	}{
		{Input{Alerts: fire}, false},
		{Input{Alerts: fire, Entry: open, Found: true}, false},
		{Input{Alerts: res, Entry: open, Found: true}, true},
		{Input{Alerts: fire, Entry: done, Found: true}, true},
		{Input{Alerts: fire, Entry: umbrella, Found: true}, false},
	} {
		if got := pol.NeedsStatus(c.in); got != c.want {
			t.Errorf("%+v: %v", c.in, got)
		}
	}
}

// Label values are quoted: a newline cannot pose as a field of the comment.
func TestDescribeChangeQuotes(t *testing.T) {
	a := alert("a", "firing")
	a.Labels["i"] = "x\nStatus: resolved"
	s := DescribeChange([]event.Alert{a}, nil, FiringSet([]event.Alert{a}))
	if !strings.HasPrefix(s, "Firing (1):\n") || strings.Contains(s, "\nStatus: resolved") || !strings.Contains(s, `i="x\nStatus: resolved"`) {
		t.Fatalf("%q", s)
	}
}

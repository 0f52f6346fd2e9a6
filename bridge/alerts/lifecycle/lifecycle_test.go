package lifecycle

import (
	"maps"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/alerts"
	"github.com/rtbridge/rtbridge/bridge/event"
	"github.com/rtbridge/rtbridge/rtapi"
	"github.com/rtbridge/rtbridge/rules"
)

// world plays the executor's part: it "runs" steps by numbering tickets,
// recording comments, and merging Step.State into the ledger exactly as
// the plan contract says (on success, State merges into the entry of Key).
type world struct {
	t        *testing.T
	ledger   map[string]rules.Entry
	next     int
	calls    int // RT writes
	comments map[int][]string
	status   map[int]string
	links    []string
}

func newWorld(t *testing.T) *world {
	return &world{t: t, ledger: map[string]rules.Entry{}, next: 100, comments: map[int][]string{}, status: map[int]string{}}
}

func (w *world) run(d Decision, now time.Time) {
	var created []int
	for _, s := range d.Steps {
		w.calls++
		id := s.Ticket.ID
		if s.Ticket.Step > 0 {
			id = created[s.Ticket.Step-1]
		}
		switch s.Action {
		case rules.ActionCreate:
			w.next++
			id = w.next
			w.status[id] = "new"
		case rules.ActionComment:
			w.comments[id] = append(w.comments[id], s.Message.Text)
			if s.Message.Status != "" {
				w.status[id] = s.Message.Status
			}
		case rules.ActionLink:
			w.links = append(w.links, strings.Join([]string{strconv.Itoa(id), string(s.Link.Type), strconv.Itoa(s.Link.Target.ID)}, " "))
		}
		created = append(created, id)
		if s.Key != "" {
			e := w.ledger[s.Key]
			e.TicketID, e.Status = id, w.status[id]
			if e.State == nil {
				e.State = map[string]string{}
			}
			maps.Copy(e.State, s.State)
			w.ledger[s.Key] = e
		}
	}
}

// deliver feeds one notification through Decide and the world.
func (w *world) deliver(p Policy, sc *StormCounter, n *event.AlertNotification, now time.Time) []Decision {
	var out []Decision
	for _, part := range Split(p.Granularity, "am:", n) {
		e, ok := w.ledger[part.Key]
		u, uok := w.ledger[p.StormKey]
		d := Decide(p, Input{Key: part.Key, Alerts: part.Alerts, Entry: e, Found: ok && e.TicketID != 0,
			Create:        &rules.Create{Queue: "General", Subject: "alert " + part.Key, Text: "body"},
			RecentCreates: sc.Recent(p.Rule, now), Umbrella: u, UmbrellaFound: uok, Now: now})
		if d.Create {
			sc.Add(p.Rule, now)
		}
		w.run(d, now)
		out = append(out, d)
	}
	return out
}

func fixture(t *testing.T, name string) *event.AlertNotification {
	b, err := os.ReadFile("../testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	n, err := alerts.Parse(event.KindAlertmanager, b)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func note(labels map[string]string, status string) event.Alert {
	return event.Alert{Status: status, Labels: labels, Annotations: map[string]string{}, Fingerprint: alerts.Fingerprint(labels)}
}

func group(status string, as ...event.Alert) *event.AlertNotification {
	return &event.AlertNotification{Version: "4", Status: status, GroupKey: `{}:{alertname="Disk"}`, Alerts: as}
}

// The captured Alertmanager sequence (two fire, one resolves, the other
// resolves), each delivered twice as by an HA pair: one ticket, one change
// comment, one resolution comment, and no RT call for the duplicates.
func TestCapturedSequenceHAPair(t *testing.T) {
	w := newWorld(t)
	p := Policy{Rule: "alerts", ResolveStatus: "resolved"}
	sc := &StormCounter{}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, f := range []string{"am-firing.json", "am-changed.json", "am-resolved.json"} {
		n := fixture(t, f)
		w.deliver(p, sc, n, now)
		before := w.calls
		ds := w.deliver(p, sc, n, now) // the HA peer's copy
		if w.calls != before || ds[0].Ignore == "" {
			t.Fatalf("%s: the duplicate caused %d RT calls", f, w.calls-before)
		}
		now = now.Add(time.Minute)
	}
	if w.next != 101 {
		t.Fatalf("%d tickets created", w.next-100)
	}
	c := w.comments[101]
	if len(c) != 2 || !strings.Contains(c[0], "The alert set changed") || !strings.Contains(c[0], `Resolved (1):`) ||
		!strings.Contains(c[0], `instance="db1:9100"`) || !strings.Contains(c[0], "Still firing (1):") ||
		!strings.HasPrefix(c[1], "All alerts resolved.") || !strings.Contains(c[1], `instance="db2:9100"`) {
		t.Fatalf("comments: %q", c)
	}
	if w.status[101] != "resolved" || w.calls != 3 {
		t.Fatalf("status %s, %d calls", w.status[101], w.calls)
	}
}

func TestRepeatChangeReopenAndReplace(t *testing.T) {
	w := newWorld(t)
	p := Policy{Rule: "r", ResolveStatus: "resolved", ReopenWithin: time.Hour, NeverReopen: []string{"rejected"}}
	sc := &StormCounter{}
	a := map[string]string{"alertname": "Disk", "instance": "a"}
	b := map[string]string{"alertname": "Disk", "instance": "b"}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

	w.deliver(p, sc, group("firing", note(a, "firing")), t0)
	for range 3 { // repeat_interval repeats: nothing
		if d := w.deliver(p, sc, group("firing", note(a, "firing")), t0.Add(time.Hour)); d[0].Ignore == "" {
			t.Fatal("repeat made steps")
		}
	}
	w.deliver(p, sc, group("firing", note(a, "firing"), note(b, "firing")), t0.Add(2*time.Hour))
	if c := w.comments[101]; len(c) != 1 || !strings.Contains(c[0], "Firing (1):\n- {alertname=\"Disk\", instance=\"b\"}") {
		t.Fatalf("change comment %q", c)
	}
	w.deliver(p, sc, group("resolved", note(a, "resolved"), note(b, "resolved")), t0.Add(3*time.Hour))
	if w.status[101] != "resolved" {
		t.Fatal("not resolved")
	}
	// Fires again 30 minutes later: the same ticket reopens.
	w.deliver(p, sc, group("firing", note(a, "firing")), t0.Add(3*time.Hour+30*time.Minute))
	if w.status[101] != "open" || w.next != 101 || !strings.HasPrefix(w.comments[101][2], "Firing again (resolved 30m0s ago); reopened.") {
		t.Fatalf("reopen: status %s, %d tickets, %q", w.status[101], w.next-100, w.comments[101])
	}
	w.deliver(p, sc, group("resolved", note(a, "resolved")), t0.Add(4*time.Hour))
	// Fires again two hours later: a new ticket that refers to the old one.
	w.deliver(p, sc, group("firing", note(a, "firing")), t0.Add(6*time.Hour))
	if w.next != 102 || len(w.links) != 1 || w.links[0] != "102 RefersTo 101" {
		t.Fatalf("replace: %d tickets, links %v", w.next-100, w.links)
	}
	if e := w.ledger["am:"+`{}:{alertname="Disk"}`]; e.TicketID != 102 {
		t.Fatalf("ledger points at %d", e.TicketID)
	}
	// A human rejects 102; the alert resolves and fires again within the
	// window: never reopened, a new ticket refers to it.
	w.status[102] = "rejected"
	key := "am:" + `{}:{alertname="Disk"}`
	e := w.ledger[key]
	e.Status = "rejected"
	w.ledger[key] = e
	w.deliver(p, sc, group("firing", note(a, "firing"), note(b, "firing")), t0.Add(6*time.Hour+time.Minute))
	if w.next != 103 || w.links[1] != "103 RefersTo 102" || w.status[102] != "rejected" {
		t.Fatalf("rejected ticket: %d tickets, links %v, status %s", w.next-100, w.links, w.status[102])
	}
}

func TestResolvedWithoutTicketAndPerAlert(t *testing.T) {
	w := newWorld(t)
	sc := &StormCounter{}
	p := Policy{Rule: "r", Granularity: PerAlert}
	a := map[string]string{"alertname": "X", "i": "1"}
	b := map[string]string{"alertname": "X", "i": "2"}
	now := time.Now()
	if d := w.deliver(p, sc, group("resolved", note(a, "resolved")), now); d[0].Ignore == "" || w.calls != 0 {
		t.Fatal("resolved alert without ticket made steps")
	}
	w.deliver(p, sc, group("firing", note(a, "firing"), note(b, "firing")), now)
	if w.next != 102 {
		t.Fatalf("per-alert: %d tickets", w.next-100)
	}
	w.deliver(p, sc, group("firing", note(a, "resolved"), note(b, "firing")), now)
	if len(w.comments[101]) != 1 || len(w.comments[102]) != 0 {
		t.Fatalf("per-alert resolution went to the wrong ticket: %v", w.comments)
	}
}

func TestStormGuard(t *testing.T) {
	w := newWorld(t)
	sc := &StormCounter{}
	p := Policy{Rule: "r", Granularity: PerAlert, StormLimit: 3, StormKey: "storm:r"}
	now := time.Now()
	var as []event.Alert
	for i := range 10 {
		as = append(as, note(map[string]string{"alertname": "X", "i": strconv.Itoa(i + 1)}, "firing"))
	}
	storms := 0
	for _, d := range w.deliver(p, sc, group("firing", as...), now) {
		if d.Storm {
			storms++
		}
	}
	// 3 alert tickets + 1 umbrella; 7 alerts diverted, 6 of them as comments.
	if w.next != 104 || storms != 7 || len(w.comments[104]) != 6 {
		t.Fatalf("tickets %d, storms %d, umbrella comments %d", w.next-100, storms, len(w.comments[104]))
	}
	// A minute later the cap is free again.
	w.deliver(p, sc, group("firing", note(map[string]string{"alertname": "X", "i": "new"}, "firing")), now.Add(61*time.Second))
	if w.next != 105 {
		t.Fatalf("after the storm: %d tickets", w.next-100)
	}
}

func TestHostileLabelsStayOnTheirLine(t *testing.T) {
	big := strings.Repeat("B", 100<<10)
	h := map[string]string{"alertname": "H", "instance": "x\nQueue: Admin\nStatus: resolved", "t": "{{ .Secret }}", "big": big, "we ird": "v"}
	text := describeChange([]event.Alert{note(h, "firing")}, nil, []string{alerts.Fingerprint(h)})
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "Queue:") || strings.HasPrefix(l, "Status:") {
			t.Fatalf("label value became its own line: %q", text)
		}
	}
	if len(text) > 2000 || !strings.Contains(text, `instance="x\nQueue: Admin\nStatus: resolved"`) || !strings.Contains(text, `"we ird"="v"`) {
		t.Fatalf("%d bytes: %q", len(text), text[:min(len(text), 500)])
	}
}

func TestLinkStepShape(t *testing.T) {
	d := Decide(Policy{Rule: "r"}, Input{Key: "k", Alerts: []event.Alert{note(map[string]string{"a": "b"}, "firing")},
		Found: true, Entry: rules.Entry{TicketID: 7, State: map[string]string{StateStatus: "resolved"}},
		Create: &rules.Create{Queue: "Q"}, Now: time.Now()})
	if len(d.Steps) != 2 || d.Steps[1].Action != rules.ActionLink || d.Steps[1].Ticket.Step != 1 ||
		d.Steps[1].Link.Type != rtapi.RefersTo || d.Steps[1].Link.Target.ID != 7 || d.Steps[0].Key != "k" {
		t.Fatalf("%+v", d.Steps)
	}
}

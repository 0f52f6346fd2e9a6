package rules

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rules/lifecycle"
)

// alertWorld plays the executor and RT for alert rule tests: it runs plan
// steps by numbering tickets, recording comments, statuses and links, and
// merging Step.State into the ledger entry of Step.Key as the executor does.
type alertWorld struct {
	t        *testing.T
	rs       *RuleSet
	ledger   memLedger
	next     int
	calls    int
	comments map[int][]string
	status   map[int]string
	links    map[string]bool
}

func newAlertWorld(t *testing.T, rules string) *alertWorld {
	return &alertWorld{t: t, rs: mustCompile(t, rules), ledger: memLedger{}, next: 100,
		comments: map[int][]string{}, status: map[int]string{}, links: map[string]bool{}}
}

// facts reads what the planner asks of RT, as the executor does.
func (w *alertWorld) facts(ev *event.Event) plan.Facts {
	f := plan.Facts{Ledger: w.ledger, Status: map[int]string{}}
	for _, id := range w.rs.NeedStatus(ev, w.ledger) {
		f.Status[id] = w.status[id]
	}
	return f
}

func (w *alertWorld) deliver(n *event.AlertNotification, at time.Time) *plan.Plan {
	w.t.Helper()
	ev := &event.Event{ID: "e", Source: "am", Kind: event.KindAlertmanager, ReceivedAt: at, Alert: n}
	p, err := w.rs.Evaluate(ev, w.facts(ev))
	if err != nil {
		w.t.Fatalf("evaluate: %v", err)
	}
	keys, err := w.rs.Keys(ev)
	if err != nil || strings.Join(keys, "|") != strings.Join(p.Keys, "|") {
		w.t.Fatalf("Keys() %v (%v) differs from the plan's %v", keys, err, p.Keys)
	}
	var tickets []int
	ref := func(r plan.TicketRef) int {
		if r.Step > 0 {
			return tickets[r.Step-1]
		}
		return r.ID
	}
	for _, s := range p.Steps {
		w.calls++
		id := ref(s.Ticket)
		switch s.Action {
		case plan.ActionCreate:
			w.next++
			id = w.next
			w.status[id] = "new"
		case plan.ActionComment:
			w.comments[id] = append(w.comments[id], s.Message.Text)
			if s.Message.Status != "" {
				w.status[id] = s.Message.Status
			}
		case plan.ActionEdit:
			if st := s.Edit.Fields["Status"]; st != "" {
				w.status[id] = st
			}
		case plan.ActionLink:
			w.links[fmt.Sprintf("%d %s %d", id, s.Link.Type, ref(s.Link.Target))] = true
		case plan.ActionUnlink:
			delete(w.links, fmt.Sprintf("%d %s %d", id, s.Link.Type, ref(s.Link.Target)))
		}
		tickets = append(tickets, id)
		for i, k := range append([]string{s.Key}, s.Record...) {
			if k == "" {
				continue
			}
			e := w.ledger[k]
			if e.TicketID != id {
				e = plan.Entry{TicketID: id, State: map[string]string{}}
			}
			e.Status = w.status[id]
			if i == 0 {
				maps.Copy(e.State, s.State)
			}
			w.ledger[k] = e
		}
	}
	return p
}

func firing(labels ...string) event.Alert {
	m := map[string]string{}
	for i := 0; i+1 < len(labels); i += 2 {
		m[labels[i]] = labels[i+1]
	}
	return event.Alert{Status: "firing", Labels: m, Annotations: map[string]string{}, Fingerprint: "fp-" + m["i"]}
}

func resolvedAlert(a event.Alert) event.Alert {
	a.Status = "resolved"
	return a
}

func notification(group string, as ...event.Alert) *event.AlertNotification {
	st := "resolved"
	for _, a := range as {
		if a.Status == "firing" {
			st = "firing"
		}
	}
	return &event.AlertNotification{Version: "4", Status: st, GroupKey: group, Receiver: "rt",
		GroupLabels: map[string]string{"alertname": "Disk"}, CommonLabels: map[string]string{"alertname": "Disk"}, Alerts: as}
}

const lifecycleRules = `
rules:
  - name: ops
    when: { kind: alertmanager }
    key: 'am:{{ .GroupKey }}'
    alert:
      create: { queue: Ops, subject: 'Disk {{ len .Alerts.Firing }} firing', priority: '{{ len .Alerts.Firing }}' }
      update: [ priority ]
      resolve_status: resolved
      reopen_within: 1h
      never_reopen: [ rejected ]
`

func TestAlertLifecycle(t *testing.T) {
	w := newAlertWorld(t, lifecycleRules)
	t1 := t0
	a, b := firing("alertname", "Disk", "i", "a"), firing("alertname", "Disk", "i", "b")
	step := func(what string, n *event.AlertNotification, at time.Time, wantCalls int) *plan.Plan {
		t.Helper()
		before := w.calls
		p := w.deliver(n, at)
		if w.calls-before != wantCalls {
			t.Fatalf("%s: %d RT calls, want %d:\n%s", what, w.calls-before, wantCalls, showPlan(p))
		}
		return p
	}
	p := step("fire", notification("g", a), t1, 1)
	id := 101
	if c := p.Steps[0].Create; p.Key != "am:g" || c.Subject != "Disk 1 firing" || *c.Priority != 1 || p.Steps[0].State[lifecycle.StateFiring] != "fp-a" {
		t.Fatalf("create %s", showPlan(p))
	}
	step("repeat", notification("g", a), t1.Add(time.Minute), 0)
	p = step("change", notification("g", a, b), t1.Add(2*time.Minute), 2)
	if txt := w.comments[id][0]; !strings.Contains(txt, "Firing (1):\n- {alertname=\"Disk\", i=\"b\"}") || !strings.Contains(txt, "Still firing (1)") {
		t.Fatalf("change comment %q", txt)
	}
	if e := p.Steps[1].Edit; e.Fields["Priority"] != "2" || len(e.Fields) != 1 {
		t.Fatalf("update touched %v", e.Fields)
	}
	step("a resolves", notification("g", resolvedAlert(a), b), t1.Add(3*time.Minute), 2)
	step("resolved a dropped: same firing set", notification("g", b), t1.Add(4*time.Minute), 0)
	step("all resolved", notification("g", resolvedAlert(b)), t1.Add(5*time.Minute), 1)
	if w.status[id] != "resolved" || !strings.HasPrefix(w.comments[id][2], "All alerts resolved.") {
		t.Fatalf("resolution: %s %q", w.status[id], w.comments[id])
	}
	step("resolved repeat", notification("g", resolvedAlert(b)), t1.Add(6*time.Minute), 0)
	step("fires again within reopen_within", notification("g", a), t1.Add(30*time.Minute), 2)
	if w.status[id] != "open" || !strings.Contains(w.comments[id][3], "Firing again 25m0s after the resolution; reopened.") {
		t.Fatalf("reopen: %s %q", w.status[id], w.comments[id][3])
	}
	step("resolved again", notification("g", resolvedAlert(a)), t1.Add(40*time.Minute), 1)
	p = step("fires after reopen_within", notification("g", a), t1.Add(3*time.Hour), 2)
	if w.next != 102 || !w.links["102 RefersTo 101"] || w.ledger["am:g"].TicketID != 102 {
		t.Fatalf("new ticket: %s %v", showPlan(p), w.links)
	}
	// Humans reject 102 after our resolution: never reopened, even within reopen_within.
	step("resolve 102", notification("g", resolvedAlert(a)), t1.Add(3*time.Hour+time.Minute), 1)
	w.status[102] = "rejected" // the ledger still says resolved
	step("fires after rejection", notification("g", a), t1.Add(3*time.Hour+2*time.Minute), 2)
	if w.next != 103 || !w.links["103 RefersTo 102"] || w.status[102] != "rejected" {
		t.Fatalf("rejected ticket reopened: %v %v", w.status, w.links)
	}
	// A human rejected 103 while it fires: the resolution comments but keeps "rejected".
	w.status[103] = "rejected"
	step("resolve rejected", notification("g", resolvedAlert(a)), t1.Add(4*time.Hour), 1)
	if w.status[103] != "rejected" {
		t.Fatalf("resolution overwrote a human's status: %s", w.status[103])
	}
}

func TestAlertStatusIsAskedForAndOptional(t *testing.T) {
	w := newAlertWorld(t, lifecycleRules)
	a := firing("alertname", "Disk", "i", "a")
	w.deliver(notification("g", a), t0)
	ev := &event.Event{ID: "e", Kind: event.KindAlertmanager, ReceivedAt: t0, Alert: notification("g", resolvedAlert(a))}
	// The resolution depends on RT's current status: the planner names the
	// ticket, and the executor reads it (and plans again later when RT
	// cannot answer).
	if ids := w.rs.NeedStatus(ev, w.ledger); len(ids) != 1 || ids[0] != w.ledger["am:g"].TicketID {
		t.Fatalf("NeedStatus %v", ids)
	}
	// Without the status, the last known status is used.
	if p := eval(t, w.rs, ev, w.ledger); len(p.Steps) != 1 || p.Steps[0].Message.Status != "resolved" {
		t.Fatalf("%s", showPlan(p))
	}
}

func TestAlertPerAlertGranularityAndLinks(t *testing.T) {
	w := newAlertWorld(t, `
rules:
  - name: per alert
    alert:
      granularity: alert
      create: { queue: Ops, subject: '{{ .CommonLabels.i }} is down' }
      links:
        - type: MemberOf
          target_key: '{{ with get .CommonLabels "incident" }}incident:{{ . }}{{ end }}'
          create_if_missing: { queue: Incidents, subject: 'Incident {{ get .CommonLabels "incident" }}' }
          unlink_on_resolve: true
        - { type: RefersTo, target: '7' }
`)
	a := firing("alertname", "Disk", "i", "a", "incident", "INC-42")
	b := firing("alertname", "Disk", "i", "b", "incident", "INC-42")
	c := firing("alertname", "Disk", "i", "c")
	p := w.deliver(notification("g", a, b, c), t0)
	// a: create 101, incident 102, link, refers; b: create 103, link, refers; c: create 104, refers.
	if w.next != 104 || len(p.Steps) != 9 {
		t.Fatalf("%s", showPlan(p))
	}
	for _, l := range []string{"101 MemberOf 102", "103 MemberOf 102", "101 RefersTo 7", "104 RefersTo 7"} {
		if !w.links[l] {
			t.Fatalf("missing link %s: %v", l, w.links)
		}
	}
	if w.ledger["alert:per alert:fp-a"].TicketID != 101 || w.ledger["incident:INC-42"].TicketID != 102 {
		t.Fatalf("ledger %v", w.ledger)
	}
	if strings.Contains(strings.Join(p.Notes, "\n"), "incident:INC-42") {
		t.Fatalf("notes %v", p.Notes)
	}
	// a resolves: only a's ticket hears of it, and leaves the incident.
	before := w.calls
	p = w.deliver(notification("g", resolvedAlert(a), b, c), t0.Add(time.Minute))
	if w.calls-before != 2 || w.links["101 MemberOf 102"] || !w.links["103 MemberOf 102"] || !w.links["101 RefersTo 7"] {
		t.Fatalf("%s %v", showPlan(p), w.links)
	}
}

func TestAlertStormUmbrella(t *testing.T) {
	w := newAlertWorld(t, `
rules:
  - name: storm
    alert:
      create: { queue: Ops, subject: '{{ .GroupKey }}' }
      storm_limit: 2
      storm_ticket: { key: 'storm:ops', queue: Ops, subject: 'Alert storm' }
      resolve_status: resolved
`)
	at := t0
	for i := range 5 {
		w.deliver(notification(fmt.Sprintf("g%d", i), firing("i", fmt.Sprint(i))), at)
	}
	// g0, g1: own tickets 101, 102; g2 creates the umbrella 103; g3, g4 comment on it.
	if w.next != 103 || len(w.comments[103]) != 2 || w.ledger["storm:ops"].TicketID != 103 || w.ledger["alert:storm:g3"].TicketID != 103 {
		t.Fatalf("next %d comments %v ledger %v", w.next, w.comments, w.ledger)
	}
	before := w.calls
	w.deliver(notification("g3", firing("i", "3")), at.Add(10*time.Second))
	if w.calls != before {
		t.Fatal("a diverted key's repeat called RT")
	}
	w.deliver(notification("g3", resolvedAlert(firing("i", "3"))), at.Add(20*time.Second))
	if w.status[103] == "resolved" || !strings.Contains(w.comments[103][2], `Key "alert:storm:g3": All alerts resolved.`) {
		t.Fatalf("umbrella resolution: %s %q", w.status[103], w.comments[103])
	}
	// A minute later the storm is over: new keys get their own tickets.
	w.deliver(notification("g9", firing("i", "9")), at.Add(61*time.Second))
	if w.next != 104 || w.ledger["alert:storm:g9"].TicketID != 104 {
		t.Fatalf("after the storm: next %d", w.next)
	}
}

func TestAlertHostileLabels(t *testing.T) {
	w := newAlertWorld(t, `
rules:
  - name: ops
    alert:
      create: { queue: Ops, subject: '{{ .CommonLabels.alertname }} on {{ .CommonLabels.i }}' }
`)
	big := strings.Repeat("x", 100<<10)
	a := firing("alertname", "Disk\nQueue: Admin", "i", "{{ .Secret }}", "note", big)
	b := firing("alertname", "Disk\nQueue: Admin", "i", "b\r\nStatus: resolved")
	a.Annotations["summary"] = "line1\nQueue: Admin"
	n := notification("g", a)
	n.CommonLabels = a.Labels
	p := w.deliver(n, t0)
	c := p.Steps[0].Create
	if c.Queue != "Ops" || strings.ContainsAny(c.Subject, "\r\n") || c.Subject != "Disk Queue: Admin on {{ .Secret }}" {
		t.Fatalf("create %+v", c)
	}
	p = w.deliver(notification("g", a, b), t0.Add(time.Minute))
	txt := p.Steps[0].Message.Text
	for _, l := range strings.Split(txt, "\n") {
		if strings.HasPrefix(l, "Queue:") || strings.HasPrefix(l, "Status:") {
			t.Fatalf("a label value became a line of its own: %q", l)
		}
	}
	if len(txt) > 4<<10 || !strings.Contains(txt, `i="b\r\nStatus: resolved"`) {
		t.Fatalf("comment (%d bytes) %q", len(txt), txt)
	}
}

func TestAlertRuleCompileErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`
  - name: x
    alert: { create: { queue: Ops }, granularity: host }`, `t.yaml:3:51: rule "x": alert.granularity: "host" is not one of group, alert, key`},
		{`
  - name: x
    alert: { create: { queue: Ops } }
    if_missing: [ { create: { queue: Ops } } ]`, `t.yaml:4:5: rule "x": if_missing: not allowed with alert:`},
		{`
  - name: x
    alert: { create: { queue: Ops }, update: [ requestors ] }`, `t.yaml:3:48: rule "x": alert.update: "requestors" cannot be updated`},
		{`
  - name: x
    alert: { reopen_within: 1h }`, `t.yaml:3:12: rule "x": alert: missing create:`},
		{`
  - name: x
    alert: { create: { queue: Ops }, reopen_within: soon }`, `t.yaml:3:53: rule "x": alert.reopen_within: "soon" is not a duration`},
		{`
  - name: x
    alert: { create: { queue: Ops }, granularity: key }`, `t.yaml:2:5: rule "x": alert.granularity key needs a key:`},
		{`
  - name: x
    alert: { create: { queue: Ops }, links: [ { type: Parent, target: '1' } ] }`, `unknown link type "Parent"`},
		{`
  - name: x
    alert: { create: { queue: Ops }, colour: red }`, `t.yaml:3:38: rule "x": unknown key "colour" (alert keys:`},
	} {
		_, err := compileYAML(t, "rules:"+tc.src)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s\n got %v\nwant %s", tc.src, err, tc.want)
		}
	}
}

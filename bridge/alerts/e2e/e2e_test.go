// Package e2e_test runs the whole alert path with real parts: two
// unclustered Alertmanagers (an HA pair whose gossip failed) deliver to the
// real daemon (bridge/daemon.Run: webhook, store, rules with an alert:
// lifecycle, executor), which writes to the real RT through a counting
// proxy. It checks RT, and the number of RT calls, after each phase.
package e2e_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/amtest"
	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/rtapi"
)

const reopenWithin = 8 * time.Second

func lifecycleRules(name string) string {
	return fmt.Sprintf(`rules:
  - name: e2e alerts
    when:
      kind: alertmanager
      labels: [ 'alertname="%[1]s"' ]
    key: 'am:{{ .GroupKey }}'
    alert:
      create:
        queue: General
        subject: '%[1]s alerts: {{ len .Alerts.Firing }} firing on {{ get .CommonLabels "instance" | default "several" }}'
        text: '{{ template "default.alerts" . }}'
      resolve_status: resolved
      reopen_within: %[2]s
      never_reopen: [ rejected ]
      links:
        - type: MemberOf
          target_key: '{{ with get .CommonLabels "incident" }}incident:{{ . }}{{ end }}'
          create_if_missing: { queue: General, subject: '%[1]s incident {{ get .CommonLabels "incident" }}', text: 'incident' }
  - name: default
    do: [ { ignore: 'not this test' } ]
`, name, reopenWithin)
}

func TestAlertLifecycleRealAlertmanager(t *testing.T) {
	rt := testenv.RequireRT(t)
	testenv.Require(t, "ALERTMANAGER_BIN")
	name := fmt.Sprintf("E2E%d", time.Now().UnixNano())
	rtc := newCounter(t, rt.URL, 0)
	br := startBridge(t, rtc.URL, rt.Token, lifecycleRules(name), 4)
	hook := newCounter(t, br.HookURL, 0)
	amCfg := amtest.Config{ReceiverURL: hook.URL, TokenFile: br.TokenFile,
		GroupWait: 200 * time.Millisecond, GroupInterval: time.Second, RepeatInterval: 2 * time.Second}
	pair := []*amtest.Instance{amtest.Start(t, amCfg), amtest.Start(t, amCfg)}
	ctx := t.Context()
	post := func(as ...amtest.Alert) {
		t.Helper()
		for _, am := range pair {
			if err := am.Post(ctx, as...); err != nil {
				t.Fatal(err)
			}
		}
	}
	client, err := rtapi.New(rtapi.Config{URL: rt.URL, Auth: rtapi.NewTokenAuth(rt.Token)})
	if err != nil {
		t.Fatal(err)
	}
	q := &rtq{t: t, c: client, name: name}
	big := strings.Repeat("x", 100<<10)
	a := map[string]string{"alertname": name, "instance": "a\nQueue: Admin", "incident": "INC-" + name, "big": big}
	b := map[string]string{"alertname": name, "instance": "b", "incident": "INC-" + name, "note": "{{ .Secret }}\r\nStatus: rejected"}
	fire := func(l map[string]string) amtest.Alert {
		return amtest.Alert{Labels: l, StartsAt: time.Now(), Annotations: map[string]string{"summary": "Queue: Admin\n{{ template \"x\" }}"}}
	}
	resolve := func(l map[string]string) amtest.Alert {
		return amtest.Alert{Labels: l, EndsAt: time.Now().Add(-time.Second)}
	}

	// Phase 1: both fire on both Alertmanagers -> one ticket, one incident, MemberOf.
	post(fire(a), fire(b))
	t1 := q.waitTickets("alerts", 1)[0]
	settle()
	if ids := q.tickets("alerts"); len(ids) != 1 {
		t.Fatalf("HA pair created %d tickets: %v", len(ids), ids)
	}
	inc := q.tickets("incident")
	if len(inc) != 1 {
		t.Fatalf("incident tickets %v", inc)
	}
	tk := q.ticket(t1)
	if tk.Queue != "General" || tk.Subject != name+" alerts: 2 firing on several" {
		t.Fatalf("ticket %+v", tk)
	}
	q.waitLink(t1, rtapi.MemberOf, inc[0])
	if n := q.comments(t1); len(n) != 0 {
		t.Fatalf("comments after firing: %q", n)
	}

	// Phase 2: Alertmanager repeats (repeat_interval 2s) -> no RT call at all.
	deliveries, calls := hook.calls.Load(), rtc.calls.Load()
	waitFor(t, "a repeated notification", func() bool { return hook.calls.Load() >= deliveries+2 })
	settle()
	if d := rtc.calls.Load() - calls; d != 0 {
		t.Fatalf("repeats (%d deliveries) caused %d RT calls", hook.calls.Load()-deliveries, d)
	}

	// Phase 3: a resolves -> one comment, from both Alertmanagers' deliveries.
	post(resolve(a))
	q.waitComments(t1, 1)
	settle()
	if c := q.comments(t1); len(c) != 1 || !strings.Contains(c[0], "The alert set changed.") || !strings.Contains(c[0], "Resolved (1)") {
		t.Fatalf("after the change: %q", c)
	}

	// Phase 4: b resolves -> comment and status resolved. (The bridge
	// receives the resolution after resolvePosted.)
	resolvePosted := time.Now()
	post(resolve(b))
	q.waitComments(t1, 2)
	if c := q.comments(t1); !strings.HasPrefix(c[1], "All alerts resolved.") {
		t.Fatalf("after the resolution: %q", c)
	}
	waitFor(t, "status resolved", func() bool { return q.ticket(t1).Status == "resolved" })

	// Phase 5: b fires again within reopen_within -> same ticket reopened
	// with a comment; the HA peer's copies of phases 4 and 5 add nothing.
	if time.Since(resolvePosted) > reopenWithin-2*time.Second {
		t.Fatalf("RT too slow to test reopen_within %s", reopenWithin)
	}
	post(fire(b))
	q.waitComments(t1, 3)
	waitFor(t, "ticket reopened", func() bool { return q.ticket(t1).Status == "open" })
	settle()
	if c := q.comments(t1); len(c) != 3 || !strings.Contains(c[2], "reopened") {
		t.Fatalf("after the reopen: %q", c)
	}

	// Phase 6: b resolves, and fires after reopen_within -> new ticket RefersTo the old one.
	post(resolve(b))
	q.waitComments(t1, 4)
	time.Sleep(reopenWithin + time.Second)
	post(fire(b))
	ids := q.waitTickets("alerts", 2)
	t2 := ids[1]
	settle()
	q.waitLink(t2, rtapi.RefersTo, t1)
	q.waitLink(t2, rtapi.MemberOf, inc[0])
	if s := q.ticket(t1).Status; s != "resolved" {
		t.Fatalf("old ticket %d: %s", t1, s)
	}

	// Phase 7: a human rejects t2 after its resolution; firing again within
	// reopen_within -> never reopened, a third ticket refers to it.
	post(resolve(b))
	q.waitComments(t2, 1)
	if err := client.EditTicket(ctx, t2, rtapi.TicketEdit{Fields: map[string]string{"Status": "rejected"}}); err != nil {
		t.Fatal(err)
	}
	post(fire(b))
	t3 := q.waitTickets("alerts", 3)[2]
	settle()
	q.waitLink(t3, rtapi.RefersTo, t2)
	if s := q.ticket(t2).Status; s != "rejected" {
		t.Fatalf("rejected ticket %d reopened: %q", t2, s)
	}

	// Nothing unexpected: three alert tickets and one incident, all in General.
	if ids := q.tickets(""); len(ids) != 4 {
		t.Fatalf("tickets %v", ids)
	}
	for _, id := range q.tickets("") {
		if tk := q.ticket(id); tk.Queue != "General" || strings.ContainsAny(tk.Subject, "\r\n") {
			t.Fatalf("ticket %d: %+v", id, tk)
		}
	}
	t.Logf("RT calls %d (writes %d) for %d Alertmanager deliveries", rtc.calls.Load(), rtc.writes.Load(), hook.calls.Load())
}

// settle waits long enough for a second delivery (the HA peer's, or a
// group_interval flush) to have been processed, so counts are final.
func settle() { time.Sleep(2 * time.Second) }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

// rtq reads the test's tickets from RT directly (not through the counter).
type rtq struct {
	t    *testing.T
	c    *rtapi.Client
	name string
}

func (q *rtq) tickets(kind string) []int {
	q.t.Helper()
	res, err := q.c.SearchTickets(context.Background(), fmt.Sprintf("Subject LIKE '%s %s'", q.name, kind), "id", "")
	if err != nil {
		q.t.Fatal(err)
	}
	var ids []int
	for _, r := range res {
		ids = append(ids, r.ID)
	}
	return ids
}

func (q *rtq) waitTickets(kind string, n int) []int {
	q.t.Helper()
	var ids []int
	waitFor(q.t, fmt.Sprintf("%d %q tickets", n, kind), func() bool { ids = q.tickets(kind); return len(ids) >= n })
	return ids
}

func (q *rtq) ticket(id int) *rtapi.Ticket {
	q.t.Helper()
	tk, err := q.c.Ticket(context.Background(), id)
	if err != nil {
		q.t.Fatal(err)
	}
	return tk
}

func (q *rtq) links(id int) map[rtapi.LinkType][]string {
	q.t.Helper()
	l, err := q.c.Links(context.Background(), id)
	if err != nil {
		q.t.Fatal(err)
	}
	for k, vs := range l.Links { // RT answers with URIs: fsck.com-rt://host/ticket/42
		for i, v := range vs {
			vs[i] = v[strings.LastIndex(v, "/")+1:]
		}
		l.Links[k] = vs
	}
	return l.Links
}

func (q *rtq) waitLink(id int, lt rtapi.LinkType, target int) {
	q.t.Helper()
	waitFor(q.t, fmt.Sprintf("%d %s %d", id, lt, target), func() bool {
		return slices.Contains(q.links(id)[lt], strconv.Itoa(target))
	})
}

func (q *rtq) comments(id int) []string {
	q.t.Helper()
	items, err := q.c.History(context.Background(), id, true)
	if err != nil {
		q.t.Fatal(err)
	}
	var out []string
	for _, it := range items {
		if it.Type == "Comment" {
			out = append(out, it.Content)
		}
	}
	return out
}

func (q *rtq) waitComments(id, n int) {
	q.t.Helper()
	waitFor(q.t, fmt.Sprintf("%d comments on %d", n, id), func() bool { return len(q.comments(id)) >= n })
}

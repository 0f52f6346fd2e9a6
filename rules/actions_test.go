package rules

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/plan"
)

func TestCreateAllFields(t *testing.T) {
	rs := mustCompile(t, `
rules:
  - name: r
    key: 'mail:{{ .From }}'
    do:
      - create:
          queue: Support
          subject: '[{{ upper .Source }}] {{ .Subject }}'
          text: "From {{ .FromFull }}:\n{{ .Body }}"
          content_type: text/plain
          requestors: [ '{{ .From }}', 'extra@example.com' ]
          cc: '{{ join "," .Cc }}'
          admin_cc: ops@example.com
          owner: nobody
          status: open
          priority: '{{ header .Headers "x-priority" }}0'
          final_priority: 90
          due: '+2d'
          starts: '2026-12-01 08:00:00'
          time_worked: 1h30m
          time_estimated: 45
          custom_fields: { Service: shop, Tags: [a, '{{ lower "B" }}'] }
          attachments: { names: ['*.png'], types: ['application/*'] }
`)
	p := eval(t, rs, mailEvent(), nil)
	if len(p.Steps) != 1 {
		t.Fatalf("steps %+v", p.Steps)
	}
	s := p.Steps[0]
	c := s.Create
	want := &plan.Create{
		Queue: "Support", Subject: "[SUPPORT-MAILBOX] Printer broken",
		Text: "From \"Alice\" <alice@example.org>:\nIt smokes.\nHelp.", ContentType: "text/plain",
		Requestors: []string{"alice@example.org", "extra@example.com"}, Cc: []string{"boss@example.com"},
		AdminCc: []string{"ops@example.com"}, Owner: "nobody", Status: "open",
		Priority: ptr(10), FinalPriority: ptr(90),
		Due: t0.AddDate(0, 0, 2), Starts: time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC),
		TimeWorked: 90, TimeEstimated: 45,
		CustomFields: map[string][]string{"Service": {"shop"}, "Tags": {"a", "b"}},
	}
	gotJ, _ := json.Marshal(c)
	wantJ, _ := json.Marshal(want)
	if string(gotJ) != string(wantJ) {
		t.Fatalf("create\n got %s\nwant %s", gotJ, wantJ)
	}
	if s.Key != "mail:alice@example.org" || s.Action != plan.ActionCreate || s.Rule != "r" {
		t.Fatalf("step %+v", s)
	}
	if s.Attachments.All || s.Attachments.Names[0] != "*.png" || s.Attachments.Types[0] != "application/*" {
		t.Fatalf("attachments %+v", s.Attachments)
	}
	if len(s.Record) != 1 || s.Record[0] != "msgid:m1@example.org" {
		t.Fatalf("record %v", s.Record)
	}
}

func ptr(n int) *int { return &n }

func TestDefaultsFillSubjectTextRequestor(t *testing.T) {
	rs := mustCompile(t, "rules:\n  - name: r\n    do: [ { create: { queue: Q } } ]\n")
	p := eval(t, rs, mailEvent(), nil)
	c := p.Steps[0].Create
	if c.Subject != "Printer broken" || c.Text != "It smokes.\nHelp." || c.Requestors[0] != "alice@example.org" {
		t.Fatalf("defaults %+v", c)
	}
	p = eval(t, rs, alertEvent(), nil)
	c = p.Steps[0].Create
	if c.Subject != "[FIRING] alertname=DiskFull" || !strings.Contains(c.Text, "[firing] alertname=DiskFull, instance=db1") {
		t.Fatalf("alert defaults %q\n%s", c.Subject, c.Text)
	}
	p = eval(t, rs, jsonEvent(), nil)
	if c = p.Steps[0].Create; c.Subject != "deploys event ev3" || !strings.Contains(c.Text, `"app":"shop"`) {
		t.Fatalf("json defaults %+v", c)
	}
}

func TestMessagesAndTargets(t *testing.T) {
	rs := mustCompile(t, `
rules:
  - name: by-id
    when: { subject: '~(?P<n>\d+)' }
    do: [ { correspond: { ticket: '#{{ .Match.n }}', text: hi, cc: a@x, bcc: [b@x], status: stalled, time_worked: 5 } } ]
  - name: by-key
    when: { kind: json }
    do: [ { comment: { key: 'app:{{ .JSON.app }}', attachments: none } } ]
`)
	ev := mailEvent()
	ev.Mail.Subject = "ticket 77"
	p := eval(t, rs, ev, nil)
	s := p.Steps[0]
	if s.Action != plan.ActionCorrespond || s.Ticket != (plan.TicketRef{ID: 77}) || s.Message.Text != "hi" ||
		s.Message.Cc[0] != "a@x" || s.Message.Bcc[0] != "b@x" || s.Message.Status != "stalled" || s.Message.TimeWorked != 5 {
		t.Fatalf("correspond %+v %+v", s, s.Message)
	}
	p = eval(t, rs, jsonEvent(), memLedger{"app:shop": {TicketID: 9}})
	if s = p.Steps[0]; s.Ticket != (plan.TicketRef{ID: 9, Key: "app:shop"}) || s.Key != "app:shop" {
		t.Fatalf("comment by key %+v", s)
	}
	_, err := rs.Evaluate(jsonEvent(), plan.Facts{Ledger: memLedger{}})
	if !errors.Is(err, ErrNoTicket) {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestIfExistsIfMissingAndLinks(t *testing.T) {
	rs := mustCompile(t, `
rules:
  - name: alerts
    key: 'am:{{ .GroupKey }}'
    skip_repeats: true
    if_exists:
      - comment: { text: 'again {{ .Ticket.ID }} {{ .Ticket.Status }}' }
      - edit: { status: open, custom_fields: { Seen: yes }, fields: { Subject: x } }
    if_missing:
      - create: { queue: Ops }
      - link:
          type: MemberOf
          target_key: 'incident:{{ .CommonLabels.incident }}'
          create_if_missing: { queue: Incidents, subject: 'Incident {{ .CommonLabels.incident }}' }
      - link: { type: RefersTo, target: '1000' }
      - unlink: { type: DependsOn, target_key: 'nothing' }
`)
	// Unknown key: create, then the incident is created too and linked.
	p := eval(t, rs, alertEvent(), nil)
	if len(p.Steps) != 4 {
		t.Fatalf("steps %s", showPlan(p))
	}
	s1, s2, s3, s4 := p.Steps[0], p.Steps[1], p.Steps[2], p.Steps[3]
	key := `am:{}:{alertname="DiskFull"}`
	if s1.Action != plan.ActionCreate || s1.Key != key || s1.State["alerts"] == "" {
		t.Fatalf("step 1 %+v", s1)
	}
	if s2.Action != plan.ActionCreate || s2.Key != "incident:42" || s2.Create.Queue != "Incidents" || s2.State != nil {
		t.Fatalf("step 2 %+v", s2)
	}
	if s3.Action != plan.ActionLink || s3.Ticket != (plan.TicketRef{Step: 1, Key: key}) || s3.Link.Type != plan.MemberOf || s3.Link.Target != (plan.TicketRef{Step: 2, Key: "incident:42"}) {
		t.Fatalf("step 3 %+v %+v", s3, s3.Link)
	}
	if s4.Link.Target != (plan.TicketRef{ID: 1000}) || s4.Link.Type != plan.RefersTo {
		t.Fatalf("step 4 %+v", s4)
	}
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], `unlink skipped: key "nothing" has no ticket`) {
		t.Fatalf("notes %v", p.Notes)
	}
	if want := []string{key, "incident:42", "nothing"}; strings.Join(p.Keys, "|") != strings.Join(sortedCopy(want), "|") {
		t.Fatalf("keys %v", p.Keys)
	}
	keys, _ := rs.Keys(alertEvent())
	if strings.Join(keys, "|") != strings.Join(p.Keys, "|") {
		t.Fatalf("Keys() %v != plan keys %v", keys, p.Keys)
	}
	// Known key: comment and edit the existing ticket.
	l := memLedger{key: {TicketID: 5, Status: "new"}}
	p = eval(t, rs, alertEvent(), l)
	if len(p.Steps) != 2 || p.Steps[0].Ticket.ID != 5 || p.Steps[0].Message.Text != "again 5 new" ||
		p.Steps[1].Edit.Fields["Status"] != "open" || p.Steps[1].Edit.Fields["Subject"] != "x" || p.Steps[1].Edit.CustomFields["Seen"][0] != "yes" {
		t.Fatalf("existing %s", showPlan(p))
	}
	// Identical repeat: ignored.
	l[key] = plan.Entry{TicketID: 5, State: map[string]string{"alerts": p.Steps[0].State["alerts"]}}
	p = eval(t, rs, alertEvent(), l)
	if p.Ignore == nil || len(p.Steps) != 0 || !strings.Contains(p.Ignore.Reason, "identical alert set") {
		t.Fatalf("repeat %s", showPlan(p))
	}
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestThreadByReferences(t *testing.T) {
	rs := mustCompile(t, `
rules:
  - name: support
    thread: true
    if_exists: [ { comment: { attachments: all } } ]
    if_missing: [ { create: { queue: Support } } ]
`)
	// The parent is unknown but the thread root is: the comment goes there.
	p := eval(t, rs, mailEvent(), memLedger{"msgid:root@example.org": {TicketID: 31}})
	s := p.Steps[0]
	if s.Action != plan.ActionComment || s.Ticket != (plan.TicketRef{ID: 31, Key: "msgid:root@example.org"}) || s.Record[0] != "msgid:m1@example.org" {
		t.Fatalf("thread %+v", s)
	}
	// In-Reply-To wins over References.
	p = eval(t, rs, mailEvent(), memLedger{"msgid:root@example.org": {TicketID: 31}, "msgid:parent@example.org": {TicketID: 32}})
	if p.Steps[0].Ticket.ID != 32 {
		t.Fatalf("thread %+v", p.Steps[0])
	}
	p = eval(t, rs, mailEvent(), nil)
	if p.Steps[0].Action != plan.ActionCreate || p.Steps[0].Record[0] != "msgid:m1@example.org" {
		t.Fatalf("new thread %+v", p.Steps[0])
	}
}

func TestIgnoreAndRenderErrors(t *testing.T) {
	rs := mustCompile(t, `
rules:
  - name: quiet
    when: { kind: json }
    do: [ { ignore: 'deploys of {{ .JSON.app }} are logged only' } ]
  - name: strict
    do: [ { create: { queue: Q, subject: '{{ .CommonLabels.nothere }}' } } ]
`)
	p := eval(t, rs, jsonEvent(), nil)
	if p.Ignore == nil || p.Ignore.Rule != "quiet" || p.Ignore.Reason != "deploys of shop are logged only" {
		t.Fatalf("ignore %+v", p.Ignore)
	}
	_, err := rs.Evaluate(alertEvent(), plan.Facts{Ledger: memLedger{}})
	if !errors.Is(err, ErrRender) || !strings.Contains(err.Error(), `map has no entry for key "nothere"`) {
		t.Fatalf("missing key: %v", err)
	}
}

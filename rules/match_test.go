package rules

import (
	"fmt"
	"testing"

	"github.com/rtbridge/rtbridge/bridge/event"
)

func TestMatchers(t *testing.T) {
	mail, alert, js := mailEvent(), alertEvent(), jsonEvent()
	cases := []struct {
		when string
		ev   *event.Event
		want bool
	}{
		{`{ source: support-mailbox }`, mail, true},
		{`{ source: other }`, mail, false},
		{`{ kind: [alertmanager, grafana] }`, alert, true},
		{`{ kind: [alertmanager, grafana] }`, mail, false},
		{`{ kind: '!=mail' }`, alert, true},
		{`{ kind: '!=mail' }`, mail, false},
		{`{ subject: '~(?i)printer' }`, mail, true},
		{`{ subject: '~^broken' }`, mail, false},
		{`{ subject: '!~smoke' }`, mail, true},
		{`{ subject: 'Printer' }`, mail, false}, // equality is whole-value
		{`{ subject: { regex: 'Print', not_regex: 'fixed' } }`, mail, true},
		{`{ subject: { equals: 'Printer broken' } }`, mail, true},
		{`{ subject: { not_equals: 'Printer broken' } }`, mail, false},
		{`{ subject: { present: true } }`, alert, false},
		{`{ subject: { absent: true } }`, alert, true},
		{`{ body: '~smokes' }`, mail, true},
		{`{ from: ALICE@example.org }`, mail, true}, // addresses ignore case
		{`{ from: '~@example\.org$' }`, mail, true},
		{`{ to: support@example.com }`, mail, true},
		{`{ cc: boss@example.com }`, mail, true},
		{`{ reply_to: { absent: true } }`, mail, true},
		{`{ message_id: m1@example.org }`, mail, true},
		{`{ in_reply_to: parent@example.org }`, mail, true},
		{`{ references: root@example.org }`, mail, true},
		{`{ attachment: '~\.png$' }`, mail, true},
		{`{ attachment: '~\.pdf$' }`, mail, false},
		{`{ attachment_type: 'image/png' }`, mail, true},
		{`{ header: { x-priority: '1' } }`, mail, true},
		{`{ header: { X-Spam: { present: true } } }`, mail, false},
		{`{ header: { X-Spam: { absent: true } } }`, mail, true},
		{`{ header: { X-GitHub-Event: deployment } }`, js, true},
		{`{ labels: [ 'alertname=~"Disk.*"', 'severity="critical"' ] }`, alert, true},
		{`{ labels: [ 'alertname=~"Disk"' ] }`, alert, false}, // label regexes are anchored
		{`{ labels: [ 'severity!="critical"' ] }`, alert, false},
		{`{ labels: [ 'team=""' ] }`, alert, true}, // missing label is ""
		{`{ labels: [ 'alertname!~"Cpu.*"' ] }`, alert, true},
		{`{ labels: '{alertname="DiskFull", severity=critical}' }`, alert, true},
		{`{ labels: { severity: '~crit' } }`, alert, true}, // mapping form: unanchored
		{`{ labels: { team: { present: true } } }`, alert, false},
		{`{ group_labels: [ 'alertname="DiskFull"' ] }`, alert, true},
		{`{ annotations: { summary: '~disk' } }`, alert, true},
		{`{ status: firing, receiver: rt, group_key: '~DiskFull' }`, alert, true},
		{`{ json: { app: shop, build.id: '17', 'build.tags[0]': 'a.b' } }`, js, true},
		{`{ json: { '$.build["id"]': '~^1' } }`, js, true},
		{`{ json: { missing.path: { absent: true } } }`, js, true},
		{`{ path: /hooks/deploy }`, js, true},
		{`{ all: [ { kind: mail }, { subject: '~Printer' } ] }`, mail, true},
		{`{ any: [ { kind: json }, { subject: '~nothing' } ] }`, mail, false},
		{`{ any: [ { kind: json }, { subject: '~Printer' } ] }`, mail, true},
		{`{ not: { kind: mail } }`, mail, false},
		{`{ not: { kind: mail } }`, alert, true},
		{`{ kind: '=~literal' }`, mail, false},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			rs := mustCompile(t, fmt.Sprintf("rules:\n  - name: r\n    when: %s\n    do: [ { ignore: matched } ]\n", c.when))
			p := eval(t, rs, c.ev, nil)
			if got := p.Rule == "r"; got != c.want {
				t.Fatalf("when %s on %s: matched=%v, want %v", c.when, c.ev.Kind, got, c.want)
			}
		})
	}
}

func TestCapturesReachTemplates(t *testing.T) {
	rs := mustCompile(t, `
rules:
  - name: r
    when:
      any:
        - subject: '~(?P<word>nothing)'
        - subject: '~(?P<thing>\w+) (?P<state>\w+)'
      labels: []
    do:
      - create: { queue: Q, subject: '{{ .Match.thing }}/{{ .Match.state }}/{{ get .Match "word" }}' }
`)
	p := eval(t, rs, mailEvent(), nil)
	if s := p.Steps[0].Create.Subject; s != "Printer/broken/" {
		t.Fatalf("subject %q", s)
	}
}

func TestFirstMatchAndContinue(t *testing.T) {
	rs := mustCompile(t, `
rules:
  - name: tag
    when: { kind: mail }
    continue: true
    do: [ { comment: { ticket: '5', text: seen } } ]
  - name: open
    when: { kind: mail }
    do: [ { create: { queue: Q } } ]
  - name: never
    when: { kind: mail }
    do: [ { create: { queue: Z } } ]
`)
	p := eval(t, rs, mailEvent(), nil)
	if p.Rule != "tag" || len(p.Steps) != 2 || p.Steps[1].Create.Queue != "Q" || fmt.Sprint(p.Rules) != "[tag open]" {
		t.Fatalf("plan %+v", p)
	}
	p = eval(t, rs, alertEvent(), nil)
	if p.Ignore == nil || p.Ignore.Reason != "no rule matched" || p.Rule != "" {
		t.Fatalf("no-match plan %+v", p)
	}
}

package rules

import (
	"fmt"
	"testing"

	"github.com/rtbridge/rtbridge/event"
)

func TestMatchers(t *testing.T) {
	mail, alert, js := mailEvent(), alertEvent(), jsonEvent()
	// odd has runes whose (?i) matches are not their lower case (ſ ~ s,
	// the Kelvin sign ~ k) and an invalid byte, for the regex prefilters.
	odd := mailEvent()
	odd.Mail.Subject = "ſtatus of \u212Aelvin unit \xff failed"
	odd.Mail.Attachments = append(odd.Mail.Attachments, event.Attachment{Name: "Report.PDF"})
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
		// Regex prefilters (required literals) must not change a result.
		{`{ subject: '~(?i)status of kelvin' }`, odd, true},
		{`{ subject: '~(?i)STATUS OF KELVIN UNIT' }`, odd, true},
		{`{ subject: '~(?i)kelvin unit \x{FFFD} failed' }`, odd, true}, // invalid byte matches U+FFFD
		{`{ subject: '~unit \x{FFFD} failed' }`, odd, true},
		{`{ subject: '~(?i)kelvin unit x' }`, odd, false},
		{`{ subject: '!~(?i)status' }`, odd, false},
		{`{ subject: '~Print(er)+ (?i:BROKEN)' }`, mail, true},
		{`{ subject: '~Print(er)? (?i:BROKEN)' }`, mail, true},
		{`{ subject: '~(Printer|Scanner) broken' }`, mail, true},
		{`{ subject: '~x{0}Printer' }`, mail, true},
		{`{ subject: '~Printer\bbroken' }`, mail, false},
		{`{ attachment: '~(?i)report\.pdf$' }`, odd, true},
		{`{ attachment: '~(?i)report\.pdf$' }`, mail, false},
		{`{ labels: [ 'alertname=~"(?i)diskfull"' ] }`, alert, true},
		{`{ labels: [ 'alertname!~"(?i)DISK.*"' ] }`, alert, false},
		// Conditions are tested cheap-first; the result is the same.
		{`{ subject: '~Printer', kind: alertmanager }`, mail, false},
		{`{ body: '~smokes', from: alice@example.org, kind: mail }`, mail, true},
		{`{ all: [ { subject: '~nothing' }, { kind: mail } ] }`, mail, false},
		{`{ any: [ { subject: '~nothing' }, { kind: mail } ] }`, mail, true},
		{`{ not: { all: [ { subject: '~Printer' }, { kind: json } ] } }`, mail, true},
		// The kind/source index: lists, inequality, mapping forms.
		{`{ kind: [json, mail], source: [x, support-mailbox] }`, mail, true},
		{`{ kind: { equals: mail, not_regex: '^a' } }`, mail, true},
		{`{ kind: { equals: alertmanager } }`, mail, false},
		{`{ kind: [mail, '~^a'] }`, alert, true},
		{`{ source: '!=other', kind: '!=json' }`, mail, true},
		{`{ source: { present: true } }`, mail, true},
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

// Captures are unchanged by the cheap-first order: when two regexes
// capture the same name, the one written last still wins.
func TestCaptureOrderKept(t *testing.T) {
	rs := mustCompile(t, `
rules:
  - name: r
    when: { subject: '~(?P<x>Printer)', kind: mail, body: '~(?P<x>smokes)', from: alice@example.org }
    do:
      - create: { queue: Q, subject: '{{ .Match.x }}' }
`)
	if s := eval(t, rs, mailEvent(), nil).Steps[0].Create.Subject; s != "smokes" {
		t.Fatalf("subject %q", s)
	}
}

// The index must keep rule order and continue across rules of different
// kind/source requirements.
func TestIndexKeepsOrder(t *testing.T) {
	rs := mustCompile(t, `
rules:
  - name: any
    continue: true
    do: [ { comment: { ticket: '1', text: a } } ]
  - name: by-source
    when: { source: support-mailbox }
    continue: true
    do: [ { comment: { ticket: '2', text: b } } ]
  - name: alerts
    when: { kind: alertmanager }
    continue: true
    do: [ { comment: { ticket: '3', text: c } } ]
  - name: by-kind
    when: { kind: [json, mail] }
    do: [ { comment: { ticket: '4', text: d } } ]
  - name: late
    do: [ { comment: { ticket: '5', text: e } } ]
`)
	for _, c := range []struct {
		ev   *event.Event
		want string
	}{
		{mailEvent(), "[any by-source by-kind]"},
		{alertEvent(), "[any alerts late]"},
		{jsonEvent(), "[any by-kind]"},
		{&event.Event{ID: "x", Kind: "other", Source: "support-mailbox"}, "[any by-source late]"},
	} {
		if got := fmt.Sprint(eval(t, rs, c.ev, nil).Rules); got != c.want {
			t.Errorf("%s/%s: rules %s, want %s", c.ev.Kind, c.ev.Source, got, c.want)
		}
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

package rules

import (
	"errors"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/plan"
)

const alertOnlyRule = `
rules:
  - name: alerts
    when: { kind: alertmanager }
    do: [ { ignore: alert } ]
`

func TestNoMatchDefaultIgnoresAndWarns(t *testing.T) {
	rs, err := compileYAML(t, alertOnlyRule)
	if err != nil {
		t.Fatal(err)
	}
	w := rs.Warnings()
	if len(w) != 1 || w[0].String() != `t.yaml:3:3: warning: no catch-all rule (a rule without when:) and no no_match: setting: events no rule matches are ignored with reason "no rule matched"` {
		t.Fatalf("warnings: %v", w)
	}
	p := eval(t, rs, mailEvent(), nil)
	if p.Ignore == nil || p.Ignore.Reason != "no rule matched" || p.Ignore.Rule != "" || len(p.Steps) != 0 {
		t.Fatalf("plan %+v", p)
	}
}

func TestNoMatchIgnoreWithReason(t *testing.T) {
	rs, err := compileYAML(t, alertOnlyRule+`
no_match: { action: ignore, reason: 'nothing for {{ .Kind }} from {{ .Source }}' }
`)
	if err != nil {
		t.Fatal(err)
	}
	if w := rs.Warnings(); len(w) != 0 {
		t.Fatalf("no_match set, yet warnings: %v", w)
	}
	p := eval(t, rs, mailEvent(), nil)
	if p.Ignore == nil || p.Ignore.Reason != "nothing for mail from support-mailbox" || p.Ignore.Rule != "" || p.Rule != "" {
		t.Fatalf("plan %+v", p)
	}
	// A matching event is not affected.
	p = eval(t, rs, alertEvent(), nil)
	if p.Ignore == nil || p.Ignore.Reason != "alert" || p.Rule != "alerts" {
		t.Fatalf("matched plan %+v", p)
	}
}

func TestNoMatchReasonIsFoldedToOneLine(t *testing.T) {
	rs, err := compileYAML(t, alertOnlyRule+`
no_match: { action: ignore, reason: 'dropped: {{ .Subject }}' }
`)
	if err != nil {
		t.Fatal(err)
	}
	ev := mailEvent()
	ev.Mail.Subject = "a\nKey: injected\r\n{{ .ID }}"
	p := eval(t, rs, ev, nil)
	if p.Ignore == nil || strings.ContainsAny(p.Ignore.Reason, "\r\n") || !strings.Contains(p.Ignore.Reason, "{{ .ID }}") {
		t.Fatalf("reason %q", p.Ignore.Reason)
	}
}

func TestNoMatchDeadLetter(t *testing.T) {
	for _, c := range []struct{ cfg, msg string }{
		{`{ action: dead-letter, reason: 'unrouted {{ .Kind }}' }`, "rules: no rule matched: unrouted mail"},
		{`{ action: dead-letter }`, "rules: no rule matched (no_match: dead-letter)"},
	} {
		rs, err := compileYAML(t, alertOnlyRule+"no_match: "+c.cfg+"\n")
		if err != nil {
			t.Fatal(err)
		}
		p, err := rs.Evaluate(mailEvent(), plan.Facts{Ledger: memLedger{}})
		if !errors.Is(err, ErrNoMatch) || err.Error() != c.msg || p != nil {
			t.Fatalf("%s: plan %+v, err %v", c.cfg, p, err)
		}
		// Keys still work (the executor locks them before Evaluate).
		keys, err := rs.Keys(mailEvent())
		if err != nil || len(keys) != 1 || keys[0] != "msgid:m1@example.org" {
			t.Fatalf("keys %v %v", keys, err)
		}
		if p := eval(t, rs, alertEvent(), nil); p.Rule != "alerts" {
			t.Fatalf("matched plan %+v", p)
		}
	}
}

func TestNoMatchReasonRenderError(t *testing.T) {
	rs, err := compileYAML(t, alertOnlyRule+"no_match: { action: ignore, reason: '{{ .CommonLabels.team }}' }\n")
	if err != nil {
		t.Fatal(err)
	}
	_, err = rs.Evaluate(mailEvent(), plan.Facts{Ledger: memLedger{}})
	if !errors.Is(err, ErrRender) || !strings.Contains(err.Error(), "no_match reason") {
		t.Fatalf("err %v", err)
	}
}

func TestNoMatchWarnsBehindCatchAll(t *testing.T) {
	rs, err := compileYAML(t, `
rules:
  - name: all
    do: [ { ignore: x } ]
no_match: { action: dead-letter }
`)
	if err != nil {
		t.Fatal(err)
	}
	w := rs.Warnings()
	if len(w) != 1 || w[0].String() != `t.yaml:5:11: warning: no_match never applies: rule "all" matches every event and does not continue` {
		t.Fatalf("warnings: %v", w)
	}
	if p := eval(t, rs, mailEvent(), nil); p.Rule != "all" {
		t.Fatalf("plan %+v", p)
	}
	// A catch-all that continues is not final: no_match still applies
	// when nothing after it matches... and nothing warns.
	rs, err = compileYAML(t, `
rules:
  - name: tag
    continue: true
    do: [ { ignore: x } ]
no_match: { action: ignore }
`)
	if err != nil {
		t.Fatal(err)
	}
	if w := rs.Warnings(); len(w) != 0 {
		t.Fatalf("warnings: %v", w)
	}
}

func TestNoMatchCompileErrors(t *testing.T) {
	cases := []struct{ cfg, want string }{
		{`no_match: { action: drop }`, `t.yaml:6:21: no_match.action: unknown action "drop" (ignore, dead-letter)`},
		{`no_match: { action: ignore, why: x }`, `t.yaml:6:29: no_match: unknown key "why" (keys: action, reason)`},
		{`no_match: { reason: x }`, `t.yaml:6:11: no_match: action is required (ignore, dead-letter)`},
		{`no_match: { action: ignore, reason: '{{ .Kind ' }`, `t.yaml:6:37: bad template in no_match.reason:`},
		{`no_match: { action: ignore, reason: '{{ template "nope" . }}' }`, `t.yaml:6:37: template no_match.reason calls unknown template "nope"`},
		{`no_match: { action: ignore, reason: '' }`, `t.yaml:6:37: no_match.reason must not be empty`},
		{`no_match: ignore`, `t.yaml:6:11: no_match must be a mapping`},
		{`no_match: { action: [ignore] }`, `t.yaml:6:21: no_match.action must be a single value`},
	}
	for _, c := range cases {
		_, err := compileYAML(t, alertOnlyRule+c.cfg+"\n")
		var ce *CompileError
		if !errors.As(err, &ce) || len(ce.Problems) != 1 || !strings.HasPrefix(ce.Problems[0].String(), c.want) {
			t.Errorf("%s:\n got %v\nwant %s", c.cfg, err, c.want)
		}
	}
}

package rules

import (
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/plan"
	"gopkg.in/yaml.v3"
)

// compileDeliver compiles rules with the sources' delivery defaults and
// the gateway problem, as the daemon passes them.
func compileDeliver(t *testing.T, src string, deliver map[string]string, problem string) (*RuleSet, error) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(src), &doc); err != nil {
		t.Fatal(err)
	}
	return Compile(Source{File: "t.yaml", Rules: doc.Content[0].Content[1], Deliver: deliver, GatewayProblem: problem})
}

var imapAndGatewayMTA = map[string]string{"support-mailbox": "rest", "mta": "gateway"}

// A rule's deliver: gateway turns its create, comment and correspond into
// gateway steps: the raw mail to RT's mail gateway, with the create's
// queue, or the reply's ticket and action; a following edit stays REST.
func TestDeliverGatewayRulePlansGatewaySteps(t *testing.T) {
	rs, err := compileDeliver(t, `rules:
  - name: support
    when: { kind: mail }
    deliver: gateway
    thread: true
    if_exists: [ { comment: { attachments: all } } ]
    if_missing:
      - create: { queue: 'Sup{{ "port" }}', attachments: all }
      - edit: { custom_fields: { Origin: mail } }
`, map[string]string{"support-mailbox": "rest"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if !rs.UsesGateway() {
		t.Error("UsesGateway false")
	}
	p := eval(t, rs, mailEvent(), nil)
	if len(p.Steps) != 2 {
		t.Fatalf("plan %s", showPlan(p))
	}
	s := p.Steps[0]
	if s.Action != plan.ActionGateway || s.Gateway == nil || *s.Gateway != (plan.Gateway{Queue: "Support", Action: "correspond"}) ||
		s.Create != nil || !s.Ticket.IsZero() {
		t.Fatalf("create step %s", showPlan(p))
	}
	if len(s.Record) != 1 || s.Record[0] != MessageIDKey("m1@example.org") {
		t.Errorf("gateway create records %v, want the mail's Message-ID", s.Record)
	}
	if e := p.Steps[1]; e.Action != plan.ActionEdit || e.Ticket.Step != 1 {
		t.Errorf("edit step %s", showPlan(p))
	}

	// A reply threads into the ticket: a gateway comment on it.
	l := memLedger{MessageIDKey("parent@example.org"): {TicketID: 42}}
	p = eval(t, rs, mailEvent(), l)
	if len(p.Steps) != 1 || p.Steps[0].Gateway == nil || *p.Steps[0].Gateway != (plan.Gateway{Action: "comment", Ticket: 42}) {
		t.Fatalf("reply plan %s", showPlan(p))
	}
}

// Without deliver:, a rule's mail goes the way its source says: mail from
// an mta source with deliver: gateway through the gateway, IMAP mail over
// REST; deliver: rest on the rule overrides the source.
func TestDeliverInheritsTheSourceDefault(t *testing.T) {
	rs, err := compileDeliver(t, `rules:
  - name: billing over rest
    when: { kind: mail, subject: '~Billing' }
    deliver: rest
    do: [ { create: { queue: Billing, subject: 'Bill: {{ .Subject }}' } } ]
  - name: any mail
    when: { kind: mail }
    do: [ { create: { queue: General } } ]
`, imapAndGatewayMTA, "")
	if err != nil {
		t.Fatal(err)
	}
	ev := mailEvent()
	if p := eval(t, rs, ev, nil); p.Steps[0].Action != plan.ActionCreate {
		t.Errorf("IMAP mail: %s", showPlan(p))
	}
	ev.Source = "mta"
	if p := eval(t, rs, ev, nil); p.Steps[0].Action != plan.ActionGateway || p.Steps[0].Gateway.Queue != "General" {
		t.Errorf("mta mail: %s", showPlan(p))
	}
	ev.Mail.Subject = "Billing question"
	if p := eval(t, rs, ev, nil); p.Steps[0].Action != plan.ActionCreate || p.Steps[0].Create.Subject != "Bill: Billing question" {
		t.Errorf("deliver: rest rule: %s", showPlan(p))
	}
}

// What the gateway cannot do is refused at compile time, at the key's
// position, as `rtbridge check` and `run` report it.
func TestDeliverGatewayRefusals(t *testing.T) {
	for _, tc := range []struct {
		name, rules string
		deliver     map[string]string
		problem     string
		want        []string
	}{
		{"bad value", `
  - name: r
    when: { kind: mail }
    deliver: smtp
    do: [ { create: { queue: General } } ]`, nil, "", []string{"t.yaml:4:14", "deliver must be rest or gateway"}},
		{"not only mail", `
  - name: r
    when: { subject: x }
    deliver: gateway
    do: [ { create: { queue: General } } ]`, nil, "", []string{"t.yaml:4:14", "can match events that are not mail"}},
		{"webhook source", `
  - name: r
    when: { source: hooks }
    deliver: gateway
    do: [ { create: { queue: General } } ]`, imapAndGatewayMTA, "", []string{"t.yaml:4:14", "not mail"}},
		{"rt.auth", `
  - name: r
    when: { kind: mail }
    deliver: gateway
    do: [ { create: { queue: General } } ]`, nil, "finds an unanswered post again over REST2, which needs rt.auth token, basic or kerberos", []string{"t.yaml:4:14", "deliver: gateway finds", "rt.auth token"}},
		{"rest-only keys", `
  - name: r
    when: { source: support-mailbox }
    deliver: gateway
    do: [ { create: { queue: General, subject: s, custom_fields: { A: b }, attachments: ['*.pdf'] } } ]`,
			imapAndGatewayMTA, "", []string{"t.yaml:5:13", "cannot apply create", "subject", "custom_fields", "attachments"}},
		{"two posts", `
  - name: r
    when: { mta: { via: lmtp } }
    deliver: gateway
    do: [ { create: { queue: General } }, { correspond: { } } ]`, nil, "", []string{"t.yaml:5:45", "posted to RT's mail gateway once"}},
		{"inherited", `
  - name: r
    when: { kind: mail }
    do: [ { correspond: { ticket: '1', text: hello } } ]`, imapAndGatewayMTA, "",
			[]string{"t.yaml:4:13", `source "mta"`, "unless the rule says deliver: rest", "cannot apply correspond text"}},
		{"alert rule", `
  - name: r
    when: { kind: alertmanager }
    deliver: gateway
    alert: { key: 'a', queue: Ops }`, nil, "", []string{"t.yaml:4:14", "an alert rule files no mail"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := compileDeliver(t, "rules:"+tc.rules+"\n", tc.deliver, tc.problem)
			if err == nil {
				t.Fatal("compiled")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

// Rules that cannot reach the gateway are not bothered: an IMAP-only rule
// with REST-only keys next to a gateway mta source, and deliver: rest.
func TestDeliverRESTRulesUntouched(t *testing.T) {
	rs, err := compileDeliver(t, `rules:
  - name: imap
    when: { source: support-mailbox }
    do: [ { create: { queue: General, subject: s } } ]
  - name: alerts
    when: { kind: alertmanager }
    do: [ { create: { queue: Ops, subject: s } } ]
  - name: explicit rest
    deliver: rest
    do: [ { create: { queue: General, subject: s } } ]
`, imapAndGatewayMTA, "no REST2")
	if err != nil {
		t.Fatal(err)
	}
	if !rs.UsesGateway() {
		t.Error("the mta source's default is gateway: UsesGateway false")
	}
	rs, err = compileDeliver(t, "rules:\n  - name: r\n    do: [ { create: { queue: General, subject: s } } ]\n", map[string]string{"box": "rest"}, "")
	if err != nil || rs.UsesGateway() {
		t.Errorf("REST only: UsesGateway %v, err %v", rs != nil && rs.UsesGateway(), err)
	}
}

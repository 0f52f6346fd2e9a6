package mailflow

import (
	"encoding/json"
	"io"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/mailparse"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rules"
)

func mtaMail(t *testing.T, raw string, d event.Delivery) *event.Event {
	t.Helper()
	m, err := mailparse.Parse(func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(raw)), nil })
	if err != nil {
		t.Fatal(err)
	}
	m.Delivery = &d
	return &event.Event{ID: "e1", Kind: event.KindMail, Source: "mta", Mail: m}
}

// With no rule of the operator's matching, mail the MTA handed over does
// what rt-mailgate would: a new ticket in the queue, or the message on the
// tagged (or extension-named) ticket with the alias's action.
func TestMailgateDefault(t *testing.T) {
	pol, err := MTAPolicy(config.MTA{Name: "mta", RTNames: []string{"example.com"}, AutoReply: "thread", HTML: "keep",
		EmptySubject: "(no subject)", Requestor: "reply-to"})
	if err != nil {
		t.Fatal(err)
	}
	none, err := rules.Compile(rules.Source{File: "empty"})
	if err != nil {
		t.Fatal(err)
	}
	g := Guard{Rules: none, Policies: map[string]Policy{"mta": pol}}
	planOf := func(ev *event.Event) *plan.Plan {
		t.Helper()
		if _, err := g.Keys(ev); err != nil {
			t.Fatal(err)
		}
		p, err := g.Evaluate(ev, aliceWatches)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	const head = "From: Alice <alice@example.org>\nMessage-ID: <a1@example.org>\n"

	p := planOf(mtaMail(t, head+"Subject: printer\n\nit smokes\n", event.Delivery{Via: "mailgate", Queue: "Billing", Action: "correspond"}))
	if len(p.Steps) != 1 || p.Steps[0].Create == nil || p.Steps[0].Create.Queue != "Billing" ||
		strings.Join(p.Steps[0].Create.Requestors, ",") != "alice@example.org" || !p.Steps[0].Attachments.All {
		t.Fatalf("untagged: %s", showPlan(p))
	}

	p = planOf(mtaMail(t, head+"Subject: Re: [example.com #5] printer\n\nthanks\n", event.Delivery{Via: "lmtp", Queue: "General", Action: "comment"}))
	if len(p.Steps) != 1 || p.Steps[0].Action != plan.ActionComment || p.Steps[0].Ticket.ID != 5 {
		t.Fatalf("tagged comment: %s", showPlan(p))
	}

	p = planOf(mtaMail(t, head+"Subject: printer\n\ndone\n", event.Delivery{Via: "mailgate", Queue: "General", Action: "take-correspond", Ticket: 9}))
	if len(p.Steps) != 2 || p.Steps[0].Action != plan.ActionCorrespond || p.Steps[0].Ticket.ID != 9 ||
		p.Steps[1].Action != plan.ActionEdit || p.Steps[1].Edit.Fields["Owner"] != "alice@example.org" {
		t.Fatalf("extension ticket, take-correspond: %s", showPlan(p))
	}

	p = planOf(mtaMail(t, head+"Subject: [example.com #5] x\n\nbye\n", event.Delivery{Via: "mailgate", Queue: "General", Action: "resolve"}))
	if len(p.Steps) != 1 || p.Steps[0].Action != plan.ActionEdit || p.Steps[0].Edit.Fields["Status"] != "resolved" {
		t.Fatalf("resolve alone: %s", showPlan(p))
	}

	p = planOf(mtaMail(t, head+"Subject: new\n\nx\n", event.Delivery{Via: "mailgate", Queue: "General", Action: "correspond-resolve"}))
	if len(p.Steps) != 2 || p.Steps[1].Ticket.Step != 1 || p.Steps[1].Edit.Fields["Status"] != "resolved" {
		t.Fatalf("create then resolve: %s", showPlan(p))
	}

	p = planOf(mtaMail(t, head+"Auto-Submitted: auto-replied\nSubject: Out of office\n\naway\n", event.Delivery{Via: "mailgate", Queue: "General", Action: "correspond"}))
	if p.Ignore == nil || p.Ignore.Rule != RuleAutoReply {
		t.Fatalf("auto-reply opened a ticket: %s", showPlan(p))
	}

	p = planOf(mtaMail(t, head+"X-RT-Loop-Prevention: example.com\nSubject: [example.com #5] x\n\nloop\n", event.Delivery{Via: "mailgate", Queue: "General", Action: "correspond"}))
	if p.Ignore == nil || p.Ignore.Rule != RuleLoop {
		t.Fatalf("loop: %s", showPlan(p))
	}

	// A rule of the operator's that matches wins over the default.
	rs, err := compile(t, "- name: mine\n  when: { mta: { queue: Billing } }\n  do: [ { ignore: billing is closed } ]\n")
	if err != nil {
		t.Fatal(err)
	}
	g.Rules = rs
	p = planOf(mtaMail(t, head+"Subject: printer\n\nx\n", event.Delivery{Via: "mailgate", Queue: "Billing", Action: "correspond"}))
	if p.Ignore == nil || p.Ignore.Rule != "mine" {
		t.Fatalf("operator rule: %s", showPlan(p))
	}
}

func compile(t *testing.T, rulesYAML string) (*rules.RuleSet, error) {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(rulesYAML), &doc); err != nil {
		t.Fatal(err)
	}
	return rules.Compile(rules.Source{File: "t.yaml", Rules: doc.Content[0]})
}

// With deliver: gateway the same decisions end in one step that hands the
// raw mail to RT's own mail gateway.
func TestMailgateDefaultGateway(t *testing.T) {
	pol, err := MTAPolicy(config.MTA{Name: "mta", RTNames: []string{"example.com"}, AutoReply: "thread", HTML: "keep",
		EmptySubject: "(no subject)", Requestor: "reply-to", Deliver: "gateway"})
	if err != nil {
		t.Fatal(err)
	}
	none, _ := rules.Compile(rules.Source{File: "empty"})
	g := Guard{Rules: none, Policies: map[string]Policy{"mta": pol}}
	planOf := func(ev *event.Event) *plan.Plan {
		t.Helper()
		p, err := g.Evaluate(ev, aliceWatches)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	const head = "From: alice@example.org\nMessage-ID: <g1@example.org>\n"
	p := planOf(mtaMail(t, head+"Subject: new\n\nx\n", event.Delivery{Via: "mailgate", Queue: "Billing", Action: "correspond"}))
	if len(p.Steps) != 1 || p.Steps[0].Action != plan.ActionGateway || *p.Steps[0].Gateway != (plan.Gateway{Queue: "Billing", Action: "correspond"}) ||
		len(p.Steps[0].Record) != 1 {
		t.Fatalf("new mail: %s", showPlan(p))
	}
	p = planOf(mtaMail(t, head+"Subject: [example.com #5] x\n\ny\n", event.Delivery{Via: "lmtp", Queue: "General", Action: "take-comment"}))
	if len(p.Steps) != 1 || *p.Steps[0].Gateway != (plan.Gateway{Queue: "General", Action: "take-comment", Ticket: 5}) {
		t.Fatalf("tagged: %s", showPlan(p))
	}
	p = planOf(mtaMail(t, head+"Auto-Submitted: auto-replied\nSubject: away\n\nz\n", event.Delivery{Via: "mailgate", Queue: "General", Action: "correspond"}))
	if p.Ignore == nil || p.Ignore.Rule != RuleAutoReply {
		t.Fatalf("auto-reply: %s", showPlan(p))
	}
}

// A rule of the operator's on an mta source with deliver: gateway posts
// through the gateway too (the rule did not say deliver: rest), and
// automatic mail still opens no ticket that way.
func TestRuleInheritsSourceGateway(t *testing.T) {
	pol, err := MTAPolicy(config.MTA{Name: "mta", RTNames: []string{"example.com"}, AutoReply: "thread", HTML: "keep",
		EmptySubject: "(no subject)", Requestor: "reply-to", Deliver: "gateway"})
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(`
- name: billing
  when: { mta: { queue: Billing } }
  do: [ { create: { queue: Invoices } } ]
`), &doc); err != nil {
		t.Fatal(err)
	}
	rs, err := rules.Compile(rules.Source{File: "t.yaml", Rules: doc.Content[0], Deliver: map[string]string{"mta": "gateway"}})
	if err != nil {
		t.Fatal(err)
	}
	g := Guard{Rules: rs, Policies: map[string]Policy{"mta": pol}}
	const head = "From: alice@example.org\nMessage-ID: <r1@example.org>\n"
	p, err := g.Evaluate(mtaMail(t, head+"Subject: invoice\n\nx\n", event.Delivery{Via: "lmtp", Queue: "Billing", Action: "correspond"}), aliceWatches)
	if err != nil || p.Rule != "billing" || len(p.Steps) != 1 || p.Steps[0].Gateway == nil ||
		*p.Steps[0].Gateway != (plan.Gateway{Queue: "Invoices", Action: "correspond"}) {
		t.Fatalf("plan %s, err %v", showPlan(p), err)
	}
	p, err = g.Evaluate(mtaMail(t, head+"Auto-Submitted: auto-replied\nSubject: away\n\nz\n", event.Delivery{Via: "lmtp", Queue: "Billing", Action: "correspond"}), aliceWatches)
	if err != nil || p.Ignore == nil || p.Ignore.Rule != RuleAutoReply {
		t.Fatalf("auto-reply: %s, err %v", showPlan(p), err)
	}
}

func showPlan(p *plan.Plan) string {
	b, _ := json.MarshalIndent(p, "", "  ")
	return string(b)
}

// aliceWatches: the sender of these mails watches the tickets they answer,
// so her replies may land there (a stranger's would open a new ticket).
var aliceWatches = plan.Facts{Watchers: map[int][]string{5: {"alice@example.org"}, 9: {"alice@example.org"}}}

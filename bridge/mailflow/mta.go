package mailflow

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/event"
	"github.com/rtbridge/rtbridge/rules"
)

// RuleMailgateTicket names the built-in reply to the ticket an extension
// (--extension ticket, an LMTP route) names.
const RuleMailgateTicket = "mailgate ticket"

// mailgateRules do what RT's mail gateway does with mail no rule of the
// operator matched: a reply (References to a mail of the ticket) goes to
// its ticket, anything else opens a ticket in the delivery's queue. Tagged
// replies never get here: the policy sends them to their ticket first.
const mailgateRules = `
- name: mailgate default (comment)
  when: { mta: { action: '~(^|-)comment($|-)' } }
  thread: true
  if_exists: [ { comment: { attachments: all } } ]
  if_missing: [ { create: { queue: '{{ .MTA.Queue }}', attachments: all } } ]
- name: mailgate default
  when: { mta: { via: { present: true } } }
  thread: true
  if_exists: [ { correspond: { attachments: all } } ]
  if_missing: [ { create: { queue: '{{ .MTA.Queue }}', attachments: all } } ]
`

// MTAPolicy returns the mail policy of the mta section, with the built-in
// rt-mailgate default for mail no rule matches.
func MTAPolicy(m config.MTA) (Policy, error) {
	p, err := PolicyOf(m.PolicyIMAP())
	if err != nil {
		return Policy{}, err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(mailgateRules), &doc); err != nil {
		return Policy{}, fmt.Errorf("built-in mailgate rules: %w", err)
	}
	rs, err := rules.Compile(rules.Source{File: "built-in mailgate rules", Rules: doc.Content[0]})
	if err != nil {
		return Policy{}, fmt.Errorf("built-in mailgate rules: %w", err)
	}
	p.mailgate = rs
	p.gateway = m.Deliver == "gateway"
	return p, nil
}

// unmatched reports a rules result that says no rule matched.
func unmatched(plan *rules.Plan, err error) bool {
	if err != nil {
		return errors.Is(err, rules.ErrNoMatch)
	}
	return plan != nil && plan.Ignore != nil && plan.Ignore.Rule == ""
}

// mailgateKeys adds the keys the built-in default would lock.
func (p Policy) mailgateKeys(ev *event.Event, keys []string) ([]string, error) {
	if p.mailgate == nil || ev.Mail.Delivery == nil {
		return keys, nil
	}
	more, err := p.mailgate.Keys(ev)
	if err != nil {
		return nil, err
	}
	for _, k := range more {
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	return keys, nil
}

// mailgateDefault replaces an unmatched result with the built-in default
// for mail the MTA handed over, then applies the action chain (or, with
// deliver: gateway, hands the mail to RT's gateway for the same ticket).
func (p Policy) mailgateDefault(ctx context.Context, ev *event.Event, l rules.Ledger, plan *rules.Plan, err error, auto bool) (*rules.Plan, error) {
	d := ev.Mail.Delivery
	if p.mailgate == nil || d == nil || !unmatched(plan, err) {
		return plan, err
	}
	if plan, err = p.mailgate.Evaluate(ctx, ev, l); err != nil {
		return nil, err
	}
	if !p.gateway {
		chain(plan, d, ev.Mail)
		return plan, nil
	}
	ticket := 0
	for _, s := range plan.Steps {
		if s.Action == rules.ActionComment || s.Action == rules.ActionCorrespond {
			ticket = s.Ticket.ID
		}
	}
	if ticket == 0 && auto && p.AutoReply == "thread" {
		return ignore(RuleAutoReply, "automatic mail never opens a ticket"), nil
	}
	return p.gatewayPlan(ev, plan.Rule, ticket, auto), nil
}

// gatewayPlan is one step: the raw mail to RT's mail gateway with the
// delivery's queue and action, for ticket (0: RT reads the subject tag or
// creates one). Automatic mail goes as a comment, so RT does not answer an
// auto-responder.
func (p Policy) gatewayPlan(ev *event.Event, rule string, ticket int, auto bool) *rules.Plan {
	d, m := ev.Mail.Delivery, ev.Mail
	action := d.Action
	if auto {
		action = "comment"
	}
	keys := replyKeys(m)
	st := rules.Step{Action: rules.ActionGateway, Rule: rule, Record: keys,
		Gateway: &rules.Gateway{Queue: d.Queue, Action: action, Ticket: ticket}}
	return &rules.Plan{Version: rules.PlanVersion, EventID: ev.ID, Rule: rule, Rules: []string{rule}, Keys: keys,
		Steps: []rules.Step{st}, Notes: []string{fmt.Sprintf("RT's mail gateway: queue %s, action %s, ticket %d", d.Queue, action, ticket)}}
}

// deliveryReply adapts a reply plan (one message step) to the delivery:
// comment when the action chain says so (automatic mail is a comment
// anyway), and the chain's take and resolve after the message. take or
// resolve alone record no text, as in RT: the message becomes the edit.
func (p Policy) deliveryReply(ev *event.Event, plan *rules.Plan, auto bool) *rules.Plan {
	m := ev.Mail
	d := m.Delivery
	if d == nil || len(plan.Steps) != 1 {
		return plan
	}
	if p.gateway {
		return p.gatewayPlan(ev, plan.Rule, plan.Steps[0].Ticket.ID, auto)
	}
	msg := &plan.Steps[0]
	msg.Action = rules.ActionCorrespond
	if hasAction(d.Action, "comment") || auto {
		msg.Action = rules.ActionComment
	}
	if hasAction(d.Action, "comment") || hasAction(d.Action, "correspond") || auto {
		chain(plan, d, m)
		return plan
	}
	edit := rules.Step{Action: rules.ActionEdit, Rule: msg.Rule, Ticket: msg.Ticket, Record: msg.Record,
		Edit: &rules.Edit{Fields: map[string]string{}}}
	if chainEdit(plan, &edit, d, m) {
		plan.Steps[0] = edit
	}
	return plan
}

// chain appends the edits of take and resolve after the plan's first
// create or message step: take makes the sender the owner (RT's take
// plugin makes the mail's sender take the ticket), resolve resolves it.
func chain(plan *rules.Plan, d *event.Delivery, m *event.Mail) {
	if !hasAction(d.Action, "take") && !hasAction(d.Action, "resolve") {
		return
	}
	for i, s := range plan.Steps {
		if s.Action != rules.ActionCreate && s.Action != rules.ActionComment && s.Action != rules.ActionCorrespond {
			continue
		}
		ref := s.Ticket
		if s.Action == rules.ActionCreate {
			ref = rules.TicketRef{Step: i + 1}
		}
		st := rules.Step{Action: rules.ActionEdit, Rule: s.Rule, Ticket: ref, Edit: &rules.Edit{Fields: map[string]string{}}}
		if chainEdit(plan, &st, d, m) {
			plan.Steps = slices.Insert(plan.Steps, i+1, st)
		}
		return
	}
}

// chainEdit fills the edit of take and resolve; false when there is
// nothing to change.
func chainEdit(plan *rules.Plan, st *rules.Step, d *event.Delivery, m *event.Mail) bool {
	if hasAction(d.Action, "take") {
		if owner := sender(m); owner != "" {
			st.Edit.Fields["Owner"] = owner
		} else {
			plan.Notes = append(plan.Notes, "take: the mail has no sender address")
		}
	}
	if hasAction(d.Action, "resolve") {
		st.Edit.Fields["Status"] = "resolved"
	}
	plan.Notes = append(plan.Notes, "mailgate action "+d.Action)
	return len(st.Edit.Fields) > 0
}

// sender is the mail's author as RT's Auth::MailFrom picks it: Reply-To,
// then From.
func sender(m *event.Mail) string {
	for _, list := range [][]event.Address{m.ReplyTo, m.From} {
		if len(list) > 0 && list[0].Address != "" {
			return list[0].Address
		}
	}
	return ""
}

// hasAction reports whether an action chain (take-comment) holds a.
func hasAction(chain, a string) bool {
	return slices.Contains(strings.Split(strings.ToLower(chain), "-"), a)
}

package mailflow

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
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
func unmatched(pl *plan.Plan, err error) bool {
	if err != nil {
		return errors.Is(err, rules.ErrNoMatch)
	}
	return pl != nil && pl.Ignore != nil && pl.Ignore.Rule == ""
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
func (p Policy) mailgateDefault(ev *event.Event, f plan.Facts, pl *plan.Plan, err error, auto bool) (*plan.Plan, error) {
	d := ev.Mail.Delivery
	if p.mailgate == nil || d == nil || !unmatched(pl, err) {
		return pl, err
	}
	if pl, err = p.mailgate.Evaluate(ev, f); err != nil {
		return nil, err
	}
	if !p.gateway {
		chain(pl, d, ev.Mail)
		return pl, nil
	}
	ticket := 0
	for _, s := range pl.Steps {
		if s.Action == plan.ActionComment || s.Action == plan.ActionCorrespond {
			ticket = s.Ticket.ID
		}
	}
	if ticket == 0 && auto && p.AutoReply == "thread" {
		return ignore(RuleAutoReply, "automatic mail never opens a ticket"), nil
	}
	return p.gatewayPlan(ev, pl.Rule, ticket, auto), nil
}

// gatewayPlan is one step: the raw mail to RT's mail gateway with the
// delivery's queue and action, for ticket (0: RT reads the subject tag or
// creates one). Automatic mail goes as a comment, so RT does not answer an
// auto-responder.
func (p Policy) gatewayPlan(ev *event.Event, rule string, ticket int, auto bool) *plan.Plan {
	d, m := ev.Mail.Delivery, ev.Mail
	action := d.Action
	if auto {
		action = "comment"
	}
	keys := replyKeys(m)
	st := plan.Step{Action: plan.ActionGateway, Rule: rule, Record: keys,
		Gateway: &plan.Gateway{Queue: d.Queue, Action: action, Ticket: ticket}}
	return &plan.Plan{Version: plan.Version, EventID: ev.ID, Rule: rule, Rules: []string{rule}, Keys: keys,
		Steps: []plan.Step{st}, Notes: []string{fmt.Sprintf("RT's mail gateway: queue %s, action %s, ticket %d", d.Queue, action, ticket)}}
}

// deliveryReply adapts a reply pl (one message step) to the delivery:
// comment when the action chain says so (automatic mail is a comment
// anyway), and the chain's take and resolve after the message. take or
// resolve alone record no text, as in RT: the message becomes the edit.
func (p Policy) deliveryReply(ev *event.Event, pl *plan.Plan, auto bool) *plan.Plan {
	m := ev.Mail
	d := m.Delivery
	if d == nil || len(pl.Steps) != 1 {
		return pl
	}
	if p.gateway {
		return p.gatewayPlan(ev, pl.Rule, pl.Steps[0].Ticket.ID, auto)
	}
	msg := &pl.Steps[0]
	msg.Action = plan.ActionCorrespond
	if hasAction(d.Action, "comment") || auto {
		msg.Action = plan.ActionComment
	}
	if hasAction(d.Action, "comment") || hasAction(d.Action, "correspond") || auto {
		chain(pl, d, m)
		return pl
	}
	edit := plan.Step{Action: plan.ActionEdit, Rule: msg.Rule, Ticket: msg.Ticket, Record: msg.Record,
		Edit: &plan.Edit{Fields: map[string]string{}}}
	if chainEdit(pl, &edit, d, m) {
		pl.Steps[0] = edit
	}
	return pl
}

// chain appends the edits of take and resolve after the pl's first
// create or message step: take makes the sender the owner (RT's take
// plugin makes the mail's sender take the ticket), resolve resolves it.
func chain(pl *plan.Plan, d *event.Delivery, m *event.Mail) {
	if !hasAction(d.Action, "take") && !hasAction(d.Action, "resolve") {
		return
	}
	for i, s := range pl.Steps {
		if s.Action != plan.ActionCreate && s.Action != plan.ActionComment && s.Action != plan.ActionCorrespond {
			continue
		}
		ref := s.Ticket
		if s.Action == plan.ActionCreate {
			ref = plan.TicketRef{Step: i + 1}
		}
		st := plan.Step{Action: plan.ActionEdit, Rule: s.Rule, Ticket: ref, Edit: &plan.Edit{Fields: map[string]string{}}}
		if chainEdit(pl, &st, d, m) {
			pl.Steps = slices.Insert(pl.Steps, i+1, st)
		}
		return
	}
}

// chainEdit fills the edit of take and resolve; false when there is
// nothing to change.
func chainEdit(pl *plan.Plan, st *plan.Step, d *event.Delivery, m *event.Mail) bool {
	if hasAction(d.Action, "take") {
		if owner := mailAuthor(m); owner != "" {
			st.Edit.Fields["Owner"] = owner
		} else {
			pl.Notes = append(pl.Notes, "take: the mail has no sender address")
		}
	}
	if hasAction(d.Action, "resolve") {
		st.Edit.Fields["Status"] = "resolved"
	}
	pl.Notes = append(pl.Notes, "mailgate action "+d.Action)
	return len(st.Edit.Fields) > 0
}

// mailAuthor is the mail's author as RT's Auth::MailFrom picks it:
// Reply-To, then From; "" when that is no plain address (it must not name
// an RT user or group as owner).
func mailAuthor(m *event.Mail) string {
	for _, list := range [][]event.Address{m.ReplyTo, m.From} {
		if len(list) > 0 && list[0].Address != "" {
			if a := list[0].Address; plan.PlainAddress(a) {
				return a
			}
			return ""
		}
	}
	return ""
}

// hasAction reports whether an action chain (take-comment) holds a.
func hasAction(chain, a string) bool {
	return slices.Contains(strings.Split(strings.ToLower(chain), "-"), a)
}

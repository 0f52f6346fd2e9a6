// Package mailflow applies each mailbox's mail policy around the rules: a
// mail loop (RT's own mail coming back) is dropped before any rule runs,
// automatic mail (auto-replies, bounces, bulk) may thread into a ticket but
// never opens one, HTML-only mail is converted when asked, an empty subject
// gets the configured default, and a mail that could not be fully parsed
// says so in the text RT receives (the executor attaches the original).
//
// A reply to RT (its subject tag, or a reference to one of RT's own
// Message-IDs) becomes a correspondence or comment on that ticket before
// any rule runs, never a new ticket. A ticket a rule opens without saying
// who asked gets its requestor and Cc the way RT's mailgate chooses them.
//
// These are defaults every operator needs, so they live here, configured
// per IMAP account (config.IMAP: rt_names, auto_reply, html,
// empty_subject, requestor, cc, ignore_addresses, subject_tags, …), rather
// than in rules each operator would have to write.
package mailflow

import (
	"fmt"
	"html"
	"slices"
	"strings"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/mailparse"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rules"
)

// Rule names the guard reports in an ignored event (they label the
// rtbridge_events_finished_total metric, outcome "ignored").
const (
	RuleLoop      = "mail loop"
	RuleAutoReply = "automatic mail"
)

// Policy is the mail policy of one source.
type Policy struct {
	RTNames      []string
	AutoReply    string // thread, ignore, allow
	HTML         string // keep, text
	EmptySubject string

	Requestor string   // reply-to, from: who a create without requestors: names
	Cc        []string // to, cc: headers a create without cc: copies
	Ignore    []string // lower-case address patterns never made requestor or Cc
	// Tags recognises RT's subject tags; nil leaves replies to RT to the
	// rules (subject_tags: false, or no rtname known).
	Tags        *mailparse.SubjectTags
	Orgs        []string // lower-case $Organization(s) of RT's Message-IDs
	TaggedReply string   // correspond, comment
	// ReplySenders (lower case) may answer any ticket; anyone else must
	// watch it. StrangerReply (new_ticket, dead_letter) says what an
	// other reply becomes.
	ReplySenders  []string
	StrangerReply string
	// mailgate is the built-in rt-mailgate default for mail the MTA handed
	// over that no rule matches (MTAPolicy; mta.go).
	mailgate *rules.RuleSet
	gateway  bool // deliver: gateway
}

// PolicyOf returns the policy an IMAP account configures.
func PolicyOf(m config.IMAP) (Policy, error) {
	p := Policy{RTNames: m.RTNames, AutoReply: m.AutoReply, HTML: m.HTML, EmptySubject: m.EmptySubject,
		Requestor: m.Requestor, Cc: m.Cc, TaggedReply: m.TaggedReply, StrangerReply: m.StrangerReply}
	for _, a := range m.ReplySenders {
		p.ReplySenders = append(p.ReplySenders, strings.ToLower(strings.TrimSpace(a)))
	}
	for _, a := range m.IgnoreAddresses {
		p.Ignore = append(p.Ignore, strings.ToLower(strings.TrimSpace(a)))
	}
	if strings.Contains(m.Username, "@") {
		p.Ignore = append(p.Ignore, strings.ToLower(m.Username)) // the mailbox's own address
	}
	if m.UseSubjectTags() && (len(m.RTNames) > 0 || m.SubjectTagRegex != "") {
		var res []string
		if m.SubjectTagRegex != "" {
			res = []string{m.SubjectTagRegex}
		}
		tags, err := mailparse.NewSubjectTags(m.RTNames, res)
		if err != nil {
			return Policy{}, fmt.Errorf("imap %s: %w", m.Name, err)
		}
		p.Tags = tags
		orgs := m.RTNames
		if m.RTOrganization != "" {
			orgs = []string{m.RTOrganization}
		}
		for _, o := range orgs {
			p.Orgs = append(p.Orgs, strings.ToLower(strings.TrimSpace(o)))
		}
	}
	return p, nil
}

// Policies maps every IMAP source name (account/folder) to its policy.
func Policies(accounts []config.IMAP) (map[string]Policy, error) {
	out := map[string]Policy{}
	for _, a := range accounts {
		p, err := PolicyOf(a)
		if err != nil {
			return nil, err
		}
		for _, f := range a.Folders {
			out[a.Name+"/"+f] = p
		}
	}
	return out, nil
}

// Planner returns the planner of an event kind: mail goes through the
// mailboxes' policies, every other kind straight to the rules, so an alert
// never meets the mail guard. Every plan's people fields are checked last.
func Planner(rules plan.Planner, policies map[string]Policy, kind event.Kind) plan.Planner {
	if kind != event.KindMail {
		return checked{rules}
	}
	return checked{Guard{Rules: rules, Policies: policies}}
}

// Guard wraps the rules with the policies. Mail from a source without a
// policy goes to the rules unchanged.
type Guard struct {
	Rules    plan.Planner
	Policies map[string]Policy
}

// Keys returns the keys the rules would lock; a loop locks none.
func (g Guard) Keys(ev *event.Event) ([]string, error) {
	p, ok := g.policy(ev)
	if !ok {
		return g.Rules.Keys(ev)
	}
	p.prepare(ev.Mail)
	if loop, _, _ := mailparse.Classify(ev.Mail, p.RTNames); loop {
		return nil, nil
	}
	if _, rule := p.rtReply(ev.Mail); rule != "" {
		// A stranger's reply goes to the rules: lock their keys too.
		keys, err := g.Rules.Keys(ev)
		if err != nil {
			return replyKeys(ev.Mail), nil // the rules fail on it: a stranger's reply is a dead letter
		}
		return union(keys, replyKeys(ev.Mail)), nil
	}
	keys, err := g.Rules.Keys(ev)
	if err != nil {
		return nil, err
	}
	return p.mailgateKeys(ev, keys)
}

// NeedStatus is the rules' (a mail's plan reads no status today).
func (g Guard) NeedStatus(ev *event.Event, l plan.Ledger) []int { return g.Rules.NeedStatus(ev, l) }

// NeedWatchers names the ticket a reply to RT answers, unless its sender
// is in reply_senders: the reply is applied only if the sender watches it.
func (g Guard) NeedWatchers(ev *event.Event, l plan.Ledger) []int {
	p, ok := g.policy(ev)
	if !ok {
		return g.Rules.NeedWatchers(ev, l)
	}
	p.prepare(ev.Mail)
	loop, auto, _ := mailparse.Classify(ev.Mail, p.RTNames)
	if loop || auto && p.AutoReply == "ignore" {
		return nil
	}
	ticket, rule := p.rtReply(ev.Mail)
	if rule == "" {
		return g.Rules.NeedWatchers(ev, l)
	}
	if s := sender(ev.Mail); s == "" || p.replySender(s) || p.gateway {
		return nil
	}
	return []int{ticket}
}

// Evaluate plans ev under its source's policy.
func (g Guard) Evaluate(ev *event.Event, f plan.Facts) (*plan.Plan, error) {
	p, ok := g.policy(ev)
	if !ok {
		return g.Rules.Evaluate(ev, f)
	}
	p.prepare(ev.Mail)
	loop, auto, reasons := mailparse.Classify(ev.Mail, p.RTNames)
	why := strings.Join(reasons, ", ")
	if loop {
		return ignore(RuleLoop, "mail loop: this RT sent it ("+why+")"), nil
	}
	if auto && p.AutoReply == "ignore" {
		return ignore(RuleAutoReply, "automatic mail ignored ("+why+")"), nil
	}
	if ticket, rule := p.rtReply(ev.Mail); rule != "" {
		// Through RT's mail gateway RT itself checks the sender's rights
		// (the sender is the actor); on the REST path the bridge does.
		who, ok := "sender's rights checked by RT's mail gateway", true
		if !p.gateway {
			who, ok = p.mayReply(ev.Mail, ticket, f)
		}
		if !ok {
			return g.stranger(ev, f, p, ticket, rule, who)
		}
		plan := p.replyPlan(ev.Mail, ev.ID, ticket, rule, auto)
		plan = p.deliveryReply(ev, plan, auto)
		plan.Notes = append(plan.Notes, who)
		if auto {
			plan.Notes = append(plan.Notes, "automatic mail: "+why)
		}
		noteSender(plan, ev)
		noteProblems(plan, ev.Mail.ParseProblems)
		return plan, nil
	}
	return g.viaRules(ev, f, p)
}

// viaRules plans a mail that answers no ticket of ours (or whose sender
// may not answer it) with the rules, then applies the people defaults and
// the automatic-mail policy.
func (g Guard) viaRules(ev *event.Event, f plan.Facts, p Policy) (*plan.Plan, error) {
	_, auto, reasons := mailparse.Classify(ev.Mail, p.RTNames)
	why := strings.Join(reasons, ", ")
	plan, err := g.Rules.Evaluate(ev, f)
	plan, err = p.mailgateDefault(ev, f, plan, err, auto)
	if err != nil || plan == nil || plan.Ignore != nil {
		return plan, err
	}
	p.people(plan, ev.Mail)
	if auto && p.AutoReply == "thread" && creates(plan) {
		return ignore(RuleAutoReply, "automatic mail never opens a ticket ("+why+"); rule "+plan.Rule+" would have created one"), nil
	}
	if auto {
		plan.Notes = append(plan.Notes, "automatic mail: "+why)
	}
	noteProblems(plan, ev.Mail.ParseProblems)
	return plan, nil
}

func (g Guard) policy(ev *event.Event) (Policy, bool) {
	if ev.Kind != event.KindMail || ev.Mail == nil {
		return Policy{}, false
	}
	p, ok := g.Policies[ev.Source]
	return p, ok
}

// prepare applies the subject default and the HTML conversion. It is
// idempotent: the executor loads an event more than once.
func (p Policy) prepare(m *event.Mail) {
	if strings.TrimSpace(m.Subject) == "" && p.EmptySubject != "" {
		m.Subject = p.EmptySubject
	}
	if p.HTML == "text" && strings.TrimSpace(m.TextBody) == "" && m.HTMLBody != "" {
		m.TextBody = mailparse.HTMLToText(m.HTMLBody)
	}
}

func ignore(rule, reason string) *plan.Plan {
	return &plan.Plan{Version: plan.Version, Rule: rule, Ignore: &plan.Ignore{Rule: rule, Reason: reason}}
}

// union returns the sorted keys of a and b without repeats.
func union(a, b []string) []string {
	out := append(slices.Clone(a), b...)
	slices.Sort(out)
	return slices.Compact(out)
}

func creates(p *plan.Plan) bool {
	for _, s := range p.Steps {
		// A gateway step naming no ticket opens one (unless RT finds a tag).
		if s.Action == plan.ActionCreate || s.Action == plan.ActionGateway && s.Ticket.IsZero() && s.Gateway != nil && s.Gateway.Ticket == 0 {
			return true
		}
	}
	return false
}

// maxProblems bounds the list quoted in the ticket text.
const maxProblems = 10

// noteProblems puts a note above the text of the step that carries the
// original message (the rules set Attachments.Original on it), so whoever
// reads the ticket knows the text may be incomplete and where the rest is.
func noteProblems(p *plan.Plan, problems []string) {
	if len(problems) == 0 {
		return
	}
	for i := range p.Steps {
		s := &p.Steps[i]
		if !s.Attachments.Original {
			continue
		}
		var text, ctype *string
		switch {
		case s.Create != nil:
			text, ctype = &s.Create.Text, &s.Create.ContentType
		case s.Message != nil:
			text, ctype = &s.Message.Text, &s.Message.ContentType
		default:
			continue
		}
		*text = problemNote(problems, *ctype == "text/html") + *text
		return
	}
}

func problemNote(problems []string, asHTML bool) string {
	list := problems
	more := ""
	if len(list) > maxProblems {
		list, more = list[:maxProblems], fmt.Sprintf(" (and %d more)", len(problems)-maxProblems)
	}
	head := "[rtbridge] This message could not be fully parsed; the original is attached as original.eml. Problems: "
	body := strings.Join(list, "; ") + more
	if asHTML {
		return "<p>" + html.EscapeString(head+body) + "</p>\n"
	}
	return head + body + "\n\n"
}

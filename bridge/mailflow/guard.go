// Package mailflow applies each mailbox's mail policy around the rules: a
// mail loop (RT's own mail coming back) is dropped before any rule runs,
// automatic mail (auto-replies, bounces, bulk) may thread into a ticket but
// never opens one, HTML-only mail is converted when asked, an empty subject
// gets the configured default, and a mail that could not be fully parsed
// says so in the text RT receives (the executor attaches the original).
//
// These are defaults every operator needs, so they live here, configured
// per IMAP account (config.IMAP: rt_names, auto_reply, html,
// empty_subject), rather than in rules each operator would have to write.
package mailflow

import (
	"context"
	"fmt"
	"html"
	"strings"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/event"
	"github.com/rtbridge/rtbridge/bridge/mailparse"
	"github.com/rtbridge/rtbridge/rules"
)

// Rule names the guard reports in an ignored event (they label the
// rtbridge_events_finished_total metric, outcome "ignored").
const (
	RuleLoop      = "mail loop"
	RuleAutoReply = "automatic mail"
)

// RuleSet is what the executor plans with (executor.RuleSet).
type RuleSet interface {
	Keys(ev *event.Event) ([]string, error)
	Evaluate(ctx context.Context, ev *event.Event, l rules.Ledger) (*rules.Plan, error)
}

// Policy is the mail policy of one source.
type Policy struct {
	RTNames      []string
	AutoReply    string // thread, ignore, allow
	HTML         string // keep, text
	EmptySubject string
}

// PolicyOf returns the policy an IMAP account configures.
func PolicyOf(m config.IMAP) Policy {
	return Policy{RTNames: m.RTNames, AutoReply: m.AutoReply, HTML: m.HTML, EmptySubject: m.EmptySubject}
}

// Policies maps every IMAP source name (account/folder) to its policy.
func Policies(accounts []config.IMAP) map[string]Policy {
	out := map[string]Policy{}
	for _, a := range accounts {
		for _, f := range a.Folders {
			out[a.Name+"/"+f] = PolicyOf(a)
		}
	}
	return out
}

// Guard wraps the rules with the policies. Mail from a source without a
// policy (and every other event) goes to the rules unchanged.
type Guard struct {
	Rules    RuleSet
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
	return g.Rules.Keys(ev)
}

// Evaluate plans ev under its source's policy.
func (g Guard) Evaluate(ctx context.Context, ev *event.Event, l rules.Ledger) (*rules.Plan, error) {
	p, ok := g.policy(ev)
	if !ok {
		return g.Rules.Evaluate(ctx, ev, l)
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
	plan, err := g.Rules.Evaluate(ctx, ev, l)
	if err != nil || plan == nil || plan.Ignore != nil {
		return plan, err
	}
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

func ignore(rule, reason string) *rules.Plan {
	return &rules.Plan{Version: rules.PlanVersion, Rule: rule, Ignore: &rules.Ignore{Rule: rule, Reason: reason}}
}

func creates(p *rules.Plan) bool {
	for _, s := range p.Steps {
		if s.Action == rules.ActionCreate {
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
func noteProblems(p *rules.Plan, problems []string) {
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

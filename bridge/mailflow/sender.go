package mailflow

import (
	"errors"
	"fmt"
	"html"
	"path"
	"slices"
	"strings"

	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
)

// ErrStrangerReply is the error of a reply to RT whose sender may not
// answer the ticket, under stranger_reply: dead_letter (the executor
// dead-letters the mail with it).
var ErrStrangerReply = errors.New("reply to an RT ticket from a sender who is no watcher of it")

// sender is the mail's From address in lower case, "" when there is none
// or it is no plain address (such a sender is nobody's watcher).
func sender(m *event.Mail) string {
	if len(m.From) == 0 {
		return ""
	}
	a := strings.ToLower(strings.TrimSpace(m.From[0].Address))
	if !plan.PlainAddress(a) {
		return ""
	}
	return a
}

// replySender reports whether addr (lower case) matches reply_senders: an
// address pattern, or a bare domain.
func (p Policy) replySender(addr string) bool {
	_, domain, _ := strings.Cut(addr, "@")
	for _, pat := range p.ReplySenders {
		target := addr
		if !strings.Contains(pat, "@") {
			target = domain
		}
		if ok, _ := path.Match(pat, target); ok {
			return true
		}
	}
	return false
}

// mayReply decides whether the mail's sender may answer ticket, as RT's
// mail gateway would let a sender without rights: a watcher of the ticket
// (requestor, Cc, AdminCc, read from RT into f.Watchers), or a sender
// reply_senders names. Unknown watchers (`rtbridge test`, or no way to
// read them) make the sender a stranger. why says which, for the notes.
func (p Policy) mayReply(m *event.Mail, ticket int, f plan.Facts) (why string, ok bool) {
	s := sender(m)
	switch watchers, known := f.Watchers[ticket]; {
	case s == "":
		return "the From address is missing or not a plain address", false
	case p.replySender(s):
		return fmt.Sprintf("sender %s may reply (reply_senders)", s), true
	case !known:
		return fmt.Sprintf("the watchers of ticket %d are not known here (they are read from RT when the daemon plans the mail), so sender %s counts as a stranger", ticket, s), false
	case slices.Contains(watchers, s):
		return fmt.Sprintf("sender %s is a watcher of ticket %d", s, ticket), true
	}
	return fmt.Sprintf("sender %s is not a watcher of ticket %d", s, ticket), false
}

// stranger plans a reply whose sender may not answer the ticket: a dead
// letter, or (new_ticket) the rules' plan for it as for any mail, with
// the ticket it claimed to answer named in the new ticket's text. No step
// of it ever acts on the claimed ticket.
func (g Guard) stranger(ev *event.Event, f plan.Facts, p Policy, ticket int, rule, why string) (*plan.Plan, error) {
	how := "subject tag"
	if rule == RuleRTMessageID {
		how = "reference to RT's Message-ID"
	}
	claim := fmt.Sprintf("this mail claimed to answer RT ticket %d (%s), but %s", ticket, how, why)
	if p.StrangerReply == "dead_letter" {
		return nil, fmt.Errorf("%w: %s (stranger_reply: dead_letter)", ErrStrangerReply, claim)
	}
	pl, err := g.viaRules(ev, f, p)
	if err != nil || pl == nil {
		return pl, err
	}
	note := "not applied to ticket " + fmt.Sprint(ticket) + ": " + claim + " (stranger_reply: new_ticket)"
	if pl.Ignore != nil {
		pl.Ignore.Reason += "; " + note
		return pl, nil
	}
	kept := pl.Steps[:0]
	for _, s := range pl.Steps {
		if s.Ticket.ID == ticket {
			pl.Notes = append(pl.Notes, fmt.Sprintf("rule %q: %s on ticket %d skipped: the sender may not answer it", s.Rule, s.Action, ticket))
			continue
		}
		kept = append(kept, s)
	}
	pl.Steps = kept
	pl.Notes = append(pl.Notes, note)
	if len(pl.Steps) == 0 {
		pl.Ignore = &plan.Ignore{Rule: pl.Rule, Reason: note}
		return pl, nil
	}
	for i := range pl.Steps {
		if c := pl.Steps[i].Create; c != nil {
			c.Text = prefixText("[rtbridge] Not added to ticket "+fmt.Sprint(ticket)+": "+claim+".", c.ContentType) + c.Text
		}
	}
	return pl, nil
}

// noteSender names the actual sender on the first line of a reply's text:
// RT records the bridge's user as the transaction's author.
func noteSender(pl *plan.Plan, ev *event.Event) {
	from := rawFrom(ev)
	if from == "" {
		return
	}
	for i := range pl.Steps {
		if m := pl.Steps[i].Message; m != nil {
			m.Text = prefixText("From: "+from, m.ContentType) + m.Text
		}
	}
}

// prefixText is a line put above a text of content type ctype.
func prefixText(line, ctype string) string {
	if ctype == "text/html" {
		return "<p>" + html.EscapeString(line) + "</p>\n"
	}
	return line + "\n\n"
}

package mailflow

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rules"
)

// Rule names of the built-in RT replies (they label metrics and logs).
const (
	RuleSubjectTag  = "rt subject tag"
	RuleRTMessageID = "rt message-id"
)

// RT 5 names its outgoing mail <rt-VERSION-PID-TIME-RAND.TICKET-SCRIP-N@ORG>
// (RT::Interface::Email::GenMessageId; VERSION may hold dashes, as Debian's
// "5.0.3+dfsg-3~deb12u6") and adds <RT-Ticket-TICKET@ORG> to References
// (PseudoReference), where ORG is $Organization. Ids arrive without the
// angle brackets.
var (
	rtMessageID = regexp.MustCompile(`^rt-.+-\d+-\d+-\d+\.(\d+)-\d+-\d+@(.+)$`)
	rtPseudoRef = regexp.MustCompile(`(?i)^RT-Ticket-(\d+)@(.+)$`)
)

// rtReply finds the ticket of our RT a mail answers: its subject tag
// first (RT's own rule), else the newest of RT's Message-IDs it refers to
// (In-Reply-To, then References newest first). rule is "" when the mail
// answers no ticket of ours, or when the policy leaves replies to rules.
func (p Policy) rtReply(m *event.Mail) (ticket int, rule string) {
	if d := m.Delivery; d != nil && d.Ticket > 0 && p.mailgate != nil {
		return d.Ticket, RuleMailgateTicket // as rt-mailgate's ticket field, it overrides the subject
	}
	if p.Tags == nil {
		return 0, ""
	}
	if id, ok := p.Tags.Ticket(m.Subject); ok {
		return id, RuleSubjectTag
	}
	ids := append([]string(nil), m.InReplyTo...)
	for i := len(m.References) - 1; i >= 0; i-- {
		ids = append(ids, m.References[i])
	}
	for _, id := range ids {
		if n := p.rtTicketOf(id); n > 0 {
			return n, RuleRTMessageID
		}
	}
	return 0, ""
}

// rtTicketOf returns the ticket number of one of our RT's Message-IDs.
func (p Policy) rtTicketOf(id string) int {
	m := rtMessageID.FindStringSubmatch(id)
	if m == nil {
		m = rtPseudoRef.FindStringSubmatch(id)
	}
	if m == nil {
		return 0
	}
	org := strings.ToLower(m[2])
	for _, o := range p.Orgs {
		if org == o {
			n, err := strconv.Atoi(m[1])
			if err != nil || n <= 0 {
				return 0 // ticket 0: mail RT sent about no ticket
			}
			return n
		}
	}
	return 0 // a foreign RT: its ticket numbers are not ours
}

// replyKeys are the keys a reply plan records: the mail's own Message-ID,
// so that replies to this mail thread into the same ticket.
func replyKeys(m *event.Mail) []string {
	if m.MessageID == "" {
		return nil
	}
	return []string{rules.MessageIDKey(m.MessageID)}
}

// replyPlan adds the mail to ticket as a correspondence, or a comment
// (tagged_reply: comment, and always for automatic mail, so RT does not
// mail an auto-responder back), with all attachments, the original when the
// mail could not be fully parsed, and its Message-ID recorded. A ticket RT
// does not know makes the step fail with RT's message: a dead letter,
// never a new ticket.
func (p Policy) replyPlan(m *event.Mail, eventID string, ticket int, rule string, auto bool) *plan.Plan {
	action := plan.ActionCorrespond
	if p.TaggedReply == "comment" || auto {
		action = plan.ActionComment
	}
	text, ctype := m.TextBody, ""
	if text == "" && m.HTMLBody != "" {
		text, ctype = m.HTMLBody, "text/html"
	}
	keys := replyKeys(m)
	st := plan.Step{Action: action, Rule: rule, Ticket: plan.TicketRef{ID: ticket}, Record: keys,
		Message:     &plan.Message{Text: cleanText(text), ContentType: ctype},
		Attachments: plan.Attachments{All: true, Original: len(m.ParseProblems) > 0}}
	how := "subject tag"
	if rule == RuleRTMessageID {
		how = "reference to RT's Message-ID"
	}
	return &plan.Plan{Version: plan.Version, EventID: eventID, Rule: rule, Rules: []string{rule}, Keys: keys,
		Steps: []plan.Step{st}, Notes: []string{fmt.Sprintf("reply to RT ticket %d (%s): %s", ticket, how, action)}}
}

// maxText bounds the text sent to RT, as the rules engine does.
const maxText = 1 << 20

// cleanText makes a mail body safe for RT's multi-line text field: CRLF
// and CR become LF, other control characters except tab are dropped,
// invalid UTF-8 is replaced, and the text is cut at maxText.
func cleanText(s string) string {
	cut := false
	if len(s) > maxText {
		n := maxText
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		s, cut = s[:n], true
	}
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\r\n", "\n")
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return '\n'
		case unicode.IsControl(r):
			return -1
		}
		return r
	}, s)
	if cut {
		s += "\n\n[… truncated by rtbridge]"
	}
	return s
}

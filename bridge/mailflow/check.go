package mailflow

import (
	"fmt"
	"html"
	"strings"
	"unicode"

	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
)

// checked finalises the people fields of every plan, whatever planned it
// (the rules, the mail guard, its defaults): Planner returns it for every
// kind, so the daemon and `rtbridge test` pass through this one place.
type checked struct{ plan.Planner }

func (c checked) Evaluate(ev *event.Event, f plan.Facts) (*plan.Plan, error) {
	p, err := c.Planner.Evaluate(ev, f)
	if err == nil && p != nil {
		checkPeople(p, ev)
	}
	return p, err
}

// checkPeople drops every value of a step's requestors, Cc, AdminCc or
// Bcc that is no plain address (plan.PlainAddress), with a plan note; the
// text of that step then starts with the sender (the mail's From header as
// written), so whoever reads the ticket still knows who wrote.
func checkPeople(p *plan.Plan, ev *event.Event) {
	for i := range p.Steps {
		s := &p.Steps[i]
		var dropped []string
		keep := func(field string, list *[]string) {
			if list == nil {
				return
			}
			out := (*list)[:0:0]
			for _, v := range *list {
				v = strings.TrimSpace(v)
				if plan.PlainAddress(v) {
					out = append(out, v)
					continue
				}
				if v != "" {
					dropped = append(dropped, fmt.Sprintf("%s %q", field, v))
				}
			}
			*list = out
		}
		var text, ctype *string
		switch {
		case s.Create != nil:
			keep("requestor", &s.Create.Requestors)
			keep("cc", &s.Create.Cc)
			keep("admin_cc", &s.Create.AdminCc)
			text, ctype = &s.Create.Text, &s.Create.ContentType
		case s.Message != nil:
			keep("cc", &s.Message.Cc)
			keep("bcc", &s.Message.Bcc)
			text, ctype = &s.Message.Text, &s.Message.ContentType
		case s.Edit != nil:
			e := s.Edit
			for _, f := range []struct {
				name string
				list **[]string
			}{{"requestor", &e.Requestors}, {"cc", &e.Cc}, {"admin_cc", &e.AdminCc}} {
				before := len(dropped)
				keep(f.name, *f.list)
				// A set replaced by nothing but dropped values stays as it is.
				if *f.list != nil && len(**f.list) == 0 && len(dropped) > before {
					*f.list = nil
				}
			}
		}
		if len(dropped) == 0 {
			continue
		}
		p.Notes = append(p.Notes, fmt.Sprintf("step %d (%s): dropped %s: not a plain address", i+1, s.Action, strings.Join(dropped, ", ")))
		if text != nil {
			*text = senderNote(ev, dropped, *ctype == "text/html") + *text
		}
	}
}

// maxSender bounds the From header quoted in a ticket's text.
const maxSender = 998

// rawFrom is the mail's From header as written (decoded, on one line),
// "" for other events.
func rawFrom(ev *event.Event) string {
	if ev.Mail == nil {
		return ""
	}
	from := strings.Join(strings.Fields(strings.Map(dropControl, ev.Mail.Header.Get("From"))), " ")
	if len(from) > maxSender {
		from = strings.ToValidUTF8(from[:maxSender], "") + "…"
	}
	return from
}

func senderNote(ev *event.Event, dropped []string, asHTML bool) string {
	line := "[rtbridge] Not added to the ticket's people (not a plain address): " + strings.Join(dropped, ", ") + "."
	if from := rawFrom(ev); from != "" {
		line = "[rtbridge] Sender: " + from + "\n" + line
	}
	if asHTML {
		return "<p>" + strings.ReplaceAll(html.EscapeString(line), "\n", "<br>") + "</p>\n"
	}
	return line + "\n\n"
}

// dropControl drops control characters but keeps whitespace for Fields.
func dropControl(r rune) rune {
	if unicode.IsControl(r) && !unicode.IsSpace(r) {
		return -1
	}
	return r
}

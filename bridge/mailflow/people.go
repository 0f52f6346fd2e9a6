package mailflow

import (
	"path"
	"slices"
	"strings"

	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
)

// people picks the requestor and the Cc of a new ticket the way an RT
// operator expects from RT's mailgate, for the fields a rule's create left
// out: the requestor from Reply-To (else From) or From (else Reply-To),
// the Cc from the configured headers (none by default, as RT without
// $ParseNewMessageForTicketCcs); the mailbox's own and RT's addresses
// never, nor the requestor again as Cc.
func (p Policy) people(plan *plan.Plan, m *event.Mail) {
	for i := range plan.Steps {
		c := plan.Steps[i].Create
		if c == nil {
			continue
		}
		if slices.Contains(c.Omitted, "requestors") {
			c.Requestors = p.requestors(m)
		}
		if slices.Contains(c.Omitted, "cc") && len(p.Cc) > 0 {
			c.Cc = p.cc(m, c.Requestors)
		}
	}
}

// requestors returns the first usable address of the preferred header,
// else of the other one; none when both hold only ignored addresses.
// Addresses passed over for not being plain come first: the people check
// drops them with a note and names the sender in the text.
func (p Policy) requestors(m *event.Mail) []string {
	order := [][]event.Address{m.ReplyTo, m.From}
	if p.Requestor == "from" {
		order[0], order[1] = order[1], order[0]
	}
	var out []string
	for _, list := range order {
		for _, a := range list {
			if !p.usable(a.Address) {
				continue
			}
			out = append(out, a.Address)
			if plan.PlainAddress(a.Address) {
				return out
			}
		}
	}
	return out
}

// cc returns the addresses of the configured headers in order, without
// repeats, ignored addresses or the requestors.
func (p Policy) cc(m *event.Mail, requestors []string) []string {
	seen := map[string]bool{}
	for _, r := range requestors {
		seen[strings.ToLower(r)] = true
	}
	var out []string
	for _, h := range p.Cc {
		list := m.To
		if h == "cc" {
			list = m.Cc
		}
		for _, a := range list {
			k := strings.ToLower(a.Address)
			if p.usable(a.Address) && !seen[k] {
				seen[k] = true
				out = append(out, a.Address)
			}
		}
	}
	return out
}

// usable reports whether addr may be proposed: not empty, not ignored.
// Whether it reaches RT is the people check's decision (checkPeople).
func (p Policy) usable(addr string) bool {
	if strings.TrimSpace(addr) == "" {
		return false
	}
	low := strings.ToLower(addr)
	for _, pat := range p.Ignore {
		if ok, _ := path.Match(pat, low); ok {
			return false
		}
	}
	return true
}

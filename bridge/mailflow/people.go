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
func (p Policy) requestors(m *event.Mail) []string {
	order := [][]event.Address{m.ReplyTo, m.From}
	if p.Requestor == "from" {
		order[0], order[1] = order[1], order[0]
	}
	for _, list := range order {
		for _, a := range list {
			if p.usable(a.Address) {
				return []string{a.Address}
			}
		}
	}
	return nil
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

// usable reports whether addr is an address that is not ignored. Control
// characters and commas cannot occur in a parsed address; a value holding
// them is refused all the same, so no header can add a second person.
func (p Policy) usable(addr string) bool {
	if addr == "" || !strings.Contains(addr, "@") || strings.ContainsAny(addr, ", \t\r\n<>") {
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

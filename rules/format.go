package rules

import (
	"fmt"
	"sort"
	"strings"
)

// FormatPlan renders a plan for people (`rtbridge test --format text`).
func FormatPlan(p *Plan) string {
	var b strings.Builder
	if p.Rule == "" {
		b.WriteString("no rule matched\n")
	} else {
		fmt.Fprintf(&b, "rule: %s\n", p.Rule)
	}
	if len(p.Rules) > 1 {
		fmt.Fprintf(&b, "rules: %s\n", strings.Join(p.Rules, "; "))
	}
	if p.Key != "" {
		fmt.Fprintf(&b, "key: %s\n", p.Key)
	}
	if p.Ignore != nil {
		fmt.Fprintf(&b, "ignored: %s\n", p.Ignore.Reason)
	}
	for i, s := range p.Steps {
		fmt.Fprintf(&b, "step %d: %s", i+1, s.Action)
		if !s.Ticket.IsZero() {
			fmt.Fprintf(&b, " on %s", s.Ticket)
		}
		if s.Key != "" {
			fmt.Fprintf(&b, " (key %s)", s.Key)
		}
		b.WriteByte('\n')
		if c := s.Create; c != nil {
			field(&b, "queue", c.Queue)
			field(&b, "subject", c.Subject)
			field(&b, "requestors", strings.Join(c.Requestors, ", "))
			field(&b, "cc", strings.Join(c.Cc, ", "))
			field(&b, "admin_cc", strings.Join(c.AdminCc, ", "))
			field(&b, "owner", c.Owner)
			field(&b, "status", c.Status)
			if c.Priority != nil {
				field(&b, "priority", fmt.Sprint(*c.Priority))
			}
			if !c.Due.IsZero() {
				field(&b, "due", c.Due.Format("2006-01-02 15:04:05Z07:00"))
			}
			cfs(&b, c.CustomFields)
			field(&b, "content_type", c.ContentType)
			text(&b, c.Text)
		}
		if m := s.Message; m != nil {
			field(&b, "cc", strings.Join(m.Cc, ", "))
			field(&b, "bcc", strings.Join(m.Bcc, ", "))
			field(&b, "status", m.Status)
			field(&b, "content_type", m.ContentType)
			text(&b, m.Text)
		}
		if l := s.Link; l != nil {
			fmt.Fprintf(&b, "  %s %s\n", l.Type, l.Target)
		}
		if e := s.Edit; e != nil {
			keys := make([]string, 0, len(e.Fields))
			for k := range e.Fields {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				field(&b, k, e.Fields[k])
			}
			cfs(&b, e.CustomFields)
		}
		if a := s.Attachments; !a.IsZero() {
			var parts []string
			if a.All {
				parts = append(parts, "all")
			}
			parts = append(parts, a.Names...)
			parts = append(parts, a.Types...)
			if a.Original {
				parts = append(parts, "original.eml")
			}
			field(&b, "attachments", strings.Join(parts, ", "))
		}
		if len(s.Record) > 0 {
			field(&b, "records", strings.Join(s.Record, ", "))
		}
	}
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	return b.String()
}

// String shows a reference the way FormatPlan prints it.
func (r TicketRef) String() string {
	switch {
	case r.ID != 0 && r.Key != "":
		return fmt.Sprintf("ticket %d (key %s)", r.ID, r.Key)
	case r.ID != 0:
		return fmt.Sprintf("ticket %d", r.ID)
	case r.Step != 0:
		return fmt.Sprintf("the ticket of step %d", r.Step)
	}
	return "key " + r.Key
}

func field(b *strings.Builder, name, v string) {
	if v != "" {
		fmt.Fprintf(b, "  %s: %s\n", name, v)
	}
}

func cfs(b *strings.Builder, m map[string][]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		field(b, "CF."+k, strings.Join(m[k], ", "))
	}
}

func text(b *strings.Builder, t string) {
	if t == "" {
		return
	}
	b.WriteString("  text: |\n")
	for _, l := range strings.Split(strings.TrimRight(t, "\n"), "\n") {
		b.WriteString("    " + l + "\n")
	}
}

package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/rtbridge/rtbridge/plan"
)

// formatPlan renders a plan for people (`rtbridge test --format text`).
func formatPlan(p *plan.Plan) string {
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
			planField(&b, "queue", c.Queue)
			planField(&b, "subject", c.Subject)
			planField(&b, "requestors", strings.Join(c.Requestors, ", "))
			planField(&b, "cc", strings.Join(c.Cc, ", "))
			planField(&b, "admin_cc", strings.Join(c.AdminCc, ", "))
			planField(&b, "owner", c.Owner)
			planField(&b, "status", c.Status)
			if c.Priority != nil {
				planField(&b, "priority", fmt.Sprint(*c.Priority))
			}
			if !c.Due.IsZero() {
				planField(&b, "due", c.Due.Format("2006-01-02 15:04:05Z07:00"))
			}
			planCFs(&b, c.CustomFields)
			planField(&b, "content_type", c.ContentType)
			planText(&b, c.Text)
		}
		if m := s.Message; m != nil {
			planField(&b, "cc", strings.Join(m.Cc, ", "))
			planField(&b, "bcc", strings.Join(m.Bcc, ", "))
			planField(&b, "status", m.Status)
			planField(&b, "content_type", m.ContentType)
			planText(&b, m.Text)
		}
		if g := s.Gateway; g != nil { // the raw mail to RT's mail gateway
			planField(&b, "queue", g.Queue)
			planField(&b, "action", g.Action)
			if g.Ticket > 0 {
				planField(&b, "ticket", fmt.Sprint(g.Ticket))
			}
		}
		if l := s.Link; l != nil {
			fmt.Fprintf(&b, "  %s %s\n", l.Type, l.Target)
		}
		if e := s.Edit; e != nil {
			for _, k := range slices.Sorted(maps.Keys(e.Fields)) {
				planField(&b, k, e.Fields[k])
			}
			planCFs(&b, e.CustomFields)
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
			planField(&b, "attachments", strings.Join(parts, ", "))
		}
		if len(s.Record) > 0 {
			planField(&b, "records", strings.Join(s.Record, ", "))
		}
	}
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	return b.String()
}

func planField(b *strings.Builder, name, v string) {
	if v != "" {
		fmt.Fprintf(b, "  %s: %s\n", name, v)
	}
}

func planCFs(b *strings.Builder, m map[string][]string) {
	for _, k := range slices.Sorted(maps.Keys(m)) {
		planField(b, "CF."+k, strings.Join(m[k], ", "))
	}
}

func planText(b *strings.Builder, t string) {
	if t == "" {
		return
	}
	b.WriteString("  text: |\n")
	for _, l := range strings.Split(strings.TrimRight(t, "\n"), "\n") {
		b.WriteString("    " + l + "\n")
	}
}

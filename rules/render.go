package rules

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rules/templates"
)

// renderer renders step fields with one template data value.
type renderer struct {
	d   *Data
	err error // first error; later calls are no-ops
}

func (r *renderer) line(t *templates.Template, n int) string {
	if r.err != nil || t == nil {
		return ""
	}
	s, err := t.Line(r.d, n)
	r.err = err
	return s
}

// subject renders a field RT keeps in a 200-byte column.
func (r *renderer) subject(t *templates.Template) string {
	if r.err != nil || t == nil {
		return ""
	}
	s, err := t.LineBytes(r.d, templates.MaxSubject)
	r.err = err
	return s
}

func (r *renderer) text(t *templates.Template) string {
	if r.err != nil || t == nil {
		return ""
	}
	s, err := t.Text(r.d)
	r.err = err
	return s
}

// list renders address-like lists: each template may yield several
// comma-separated values (a comma inside double quotes separates nothing,
// so a quoted local part stays one value); empties are dropped and
// duplicates removed. Values that are no plain address are dropped later,
// with a note, by the people check (bridge/mailflow).
func (r *renderer) list(ts []*templates.Template) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range ts {
		s, _, err := t.Render(r.d, 64<<10)
		if err != nil && r.err == nil {
			r.err = err
		}
		for _, part := range splitList(s) {
			part = templates.TruncateRunes(templates.FoldLine(part), templates.MaxLine)
			if part != "" && !seen[strings.ToLower(part)] {
				seen[strings.ToLower(part)] = true
				out = append(out, part)
			}
		}
	}
	return out
}

// splitList splits s at the commas outside double quotes (a backslash
// escapes the next character inside them).
func splitList(s string) []string {
	var out []string
	quoted, esc, start := false, false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case esc:
			esc = false
		case quoted && c == '\\':
			esc = true
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

func (r *renderer) cfs(specs []cfSpec) map[string][]string {
	if len(specs) == 0 {
		return nil
	}
	out := make(map[string][]string, len(specs))
	for _, cf := range specs {
		vals := []string{}
		for _, t := range cf.vals {
			if v := r.line(t, templates.MaxLine); v != "" {
				vals = append(vals, v)
			}
		}
		out[templates.FoldLine(cf.name)] = vals
	}
	return out
}

func (r *renderer) fail(t *templates.Template, format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s: %s", ErrRender, t.Pos, fmt.Sprintf(format, args...))
	}
}

// intPtr renders an optional integer (priorities).
func (r *renderer) intPtr(t *templates.Template) *int {
	s := r.line(t, templates.MaxLine)
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		r.fail(t, "%q is not a whole number", s)
		return nil
	}
	return &n
}

// minutes renders a time amount: a number of minutes or a Go duration
// ("1h30m").
func (r *renderer) minutes(t *templates.Template) int {
	s := r.line(t, templates.MaxLine)
	if s == "" {
		return 0
	}
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		r.fail(t, "%q is neither minutes nor a duration like 1h30m", s)
		return 0
	}
	return int(d / time.Minute)
}

// when renders a date: RFC 3339, "2006-01-02 15:04:05", "2006-01-02"
// (UTC), or "+DURATION" after the event's arrival ("+4h", "+2d").
func (r *renderer) when(t *templates.Template) time.Time {
	s := r.line(t, templates.MaxLine)
	if s == "" {
		return time.Time{}
	}
	if rel, ok := strings.CutPrefix(s, "+"); ok {
		days := 0
		if d, ok := strings.CutSuffix(rel, "d"); ok {
			n, err := strconv.Atoi(d)
			if err == nil {
				days, rel = n, ""
			}
		}
		var dur time.Duration
		if rel != "" {
			var err error
			if dur, err = time.ParseDuration(rel); err != nil {
				r.fail(t, "%q: bad relative time (want +4h, +2d, …)", s)
				return time.Time{}
			}
		}
		return r.d.ReceivedAt.UTC().AddDate(0, 0, days).Add(dur)
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if tm, err := time.Parse(layout, s); err == nil {
			return tm
		}
	}
	r.fail(t, "%q is not a date (RFC 3339, 2006-01-02 15:04:05, 2006-01-02 or +4h)", s)
	return time.Time{}
}

func (r *renderer) create(cs *createSpec, defaults *defaults) *plan.Create {
	c := &plan.Create{
		Queue:           r.line(cs.queue, templates.MaxLine),
		Subject:         r.subject(cs.subject),
		Requestors:      r.list(cs.requestors),
		Cc:              r.list(cs.cc),
		AdminCc:         r.list(cs.adminCc),
		Owner:           r.line(cs.owner, templates.MaxLine),
		Status:          r.line(cs.status, templates.MaxLine),
		Priority:        r.intPtr(cs.priority),
		InitialPriority: r.intPtr(cs.initialPriority),
		FinalPriority:   r.intPtr(cs.finalPriority),
		TimeWorked:      r.minutes(cs.timeWorked),
		TimeEstimated:   r.minutes(cs.timeEstimated),
		TimeLeft:        r.minutes(cs.timeLeft),
		Due:             r.when(cs.due),
		Starts:          r.when(cs.starts),
		Text:            r.text(cs.text),
		ContentType:     r.line(cs.contentType, templates.MaxLine),
		CustomFields:    r.cfs(cs.cfs),
	}
	if c.Queue == "" && r.err == nil {
		r.fail(cs.queue, "queue rendered empty")
	}
	if cs.subject == nil {
		c.Subject = r.subject(defaults.subject)
	}
	if cs.text == nil {
		c.Text = r.text(defaults.text)
		if cs.contentType == nil {
			c.ContentType = r.line(defaults.contentType, templates.MaxLine)
		}
	}
	if cs.requestors == nil {
		c.Omitted = append(c.Omitted, "requestors")
		if r.d.From != "" {
			c.Requestors = []string{templates.TruncateRunes(templates.FoldLine(r.d.From), templates.MaxLine)}
		}
	}
	if cs.cc == nil {
		c.Omitted = append(c.Omitted, "cc")
	}
	return c
}

func (r *renderer) message(ms *msgSpec, defaults *defaults) *plan.Message {
	m := &plan.Message{
		Text:        r.text(ms.text),
		ContentType: r.line(ms.contentType, templates.MaxLine),
		Cc:          r.list(ms.cc),
		Bcc:         r.list(ms.bcc),
		TimeWorked:  r.minutes(ms.timeWorked),
		Status:      r.line(ms.status, templates.MaxLine),
	}
	if ms.text == nil {
		m.Text = r.text(defaults.text)
		if ms.contentType == nil {
			m.ContentType = r.line(defaults.contentType, templates.MaxLine)
		}
	}
	return m
}

func (r *renderer) edit(es *editSpec) *plan.Edit {
	e := &plan.Edit{CustomFields: r.cfs(es.cfs)}
	if len(es.fields) > 0 {
		e.Fields = make(map[string]string, len(es.fields))
		for _, f := range es.fields {
			e.Fields[templates.FoldLine(f.name)] = r.subject(f.val)
		}
	}
	if es.setReq {
		l := r.list(es.requestors)
		e.Requestors = &l
	}
	if es.setCc {
		l := r.list(es.cc)
		e.Cc = &l
	}
	if es.setAdmin {
		l := r.list(es.adminCc)
		e.AdminCc = &l
	}
	return e
}

package rtapi

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/rtbridge/rtbridge/rtapi/form"
)

// Helpers that turn the typed requests into RT forms without letting
// untrusted text add fields: keys are fixed or validated (form.ValidKey),
// one-line identifiers with control characters are refused, the subject is
// folded onto one line, list items are checked by form.JoinList, and
// multi-line text goes through form's block encoding.

// formBuilder collects fields and the first error.
type formBuilder struct {
	f     form.Form
	err   error
	kinds cfKinds // the queue's custom-field kinds; nil: unknown
}

func (b *formBuilder) fail(err error) {
	if b.err == nil {
		b.err = err
	}
}

// ident adds a one-line identifier (Queue, Owner, Status, Content-Type…):
// a line end or control character there is never legitimate, so it is
// refused rather than altered.
func (b *formBuilder) ident(key, v string) {
	if v == "" {
		return
	}
	if strings.IndexFunc(v, unicode.IsControl) >= 0 || strings.ContainsAny(v, "\u2028\u2029") {
		b.fail(fmt.Errorf("%w: %s %q contains a control character", form.ErrUnsafeValue, key, v))
		return
	}
	b.f.Add(key, strings.TrimSpace(v))
}

// subject adds a subject folded onto one line (as a mail header would be).
func (b *formBuilder) subject(v string) {
	if v = form.SingleLine(v); v != "" {
		b.f.Add("Subject", v)
	}
}

// text adds a free-text value; form encodes it byte-exact.
func (b *formBuilder) text(key, v string) {
	if v != "" {
		b.f.Add(key, v)
	}
}

// list adds a people/link list; empty lists are sent only when clear is set.
func (b *formBuilder) list(key string, items []string, clear bool) {
	if len(items) == 0 {
		if clear {
			b.f.Add(key, "")
		}
		return
	}
	v, err := form.JoinList(items)
	if err != nil {
		b.fail(fmt.Errorf("%s: %w", key, err))
		return
	}
	b.f.Add(key, v)
}

func (b *formBuilder) intp(key string, v *int) {
	if v != nil {
		b.f.Add(key, strconv.Itoa(*v))
	}
}

func (b *formBuilder) minutes(key string, v int) {
	if v != 0 {
		b.f.Add(key, strconv.Itoa(v))
	}
}

// date sends an unambiguous "YYYY-MM-DD HH:MM:SS" in the RT user's zone.
func (b *formBuilder) date(key string, t time.Time, loc *time.Location) {
	if !t.IsZero() {
		b.f.Add(key, t.In(loc).Format(time.DateTime))
	}
}

// customFields adds CF.{Name} fields in name order. RT splits what it is
// sent for a multi-value field (on commas, honouring quotes) and never for
// a single-value one, so a multi-value field's values are always joined
// with RT's quoting, even one "a, b" stays one value; a single-value
// field's one value is sent exactly (lines, commas); several values for it
// are refused. A field of unknown kind gets one value as is, several joined.
// An empty slice clears the field when clear is set.
func (b *formBuilder) customFields(cfs map[string][]string, clear bool) {
	for _, n := range slices.Sorted(maps.Keys(cfs)) {
		key, err := form.CFKey(n)
		if err != nil {
			b.fail(err)
			continue
		}
		vals := cfs[n]
		multi, known := b.kinds[strings.ToLower(n)]
		switch {
		case len(vals) == 0:
			if clear {
				b.f.Add(key, "")
			}
		case known && !multi && len(vals) > 1:
			b.fail(fmt.Errorf("custom field %q takes one value; got %d", n, len(vals)))
		case len(vals) == 1 && !multi:
			b.f.Add(key, vals[0])
		default:
			v, err := form.JoinCFValues(vals)
			if err != nil {
				b.fail(fmt.Errorf("custom field %q: %w", n, err))
				continue
			}
			b.f.Add(key, v)
		}
	}
}

// createForm is the ticket/new form for t. Requestor (singular) makes RT add
// the requestors at creation, so "on create" scrips (autoreply) see them.
func createForm(t TicketCreate, loc *time.Location, kinds cfKinds) (form.Form, error) {
	b := &formBuilder{kinds: kinds}
	b.f.Add("id", "ticket/new")
	b.ident("Queue", t.Queue)
	b.list("Requestor", t.Requestors, false)
	b.subject(t.Subject)
	b.list("Cc", t.Cc, false)
	b.list("AdminCc", t.AdminCc, false)
	b.ident("Owner", t.Owner)
	b.ident("Status", t.Status)
	b.intp("Priority", t.Priority)
	b.intp("InitialPriority", t.InitialPriority)
	b.intp("FinalPriority", t.FinalPriority)
	b.minutes("TimeEstimated", t.TimeEstimated)
	b.minutes("TimeWorked", t.TimeWorked)
	b.minutes("TimeLeft", t.TimeLeft)
	b.date("Starts", t.Starts, loc)
	b.date("Due", t.Due, loc)
	b.customFields(t.CustomFields, false)
	b.ident("Content-Type", t.ContentType)
	b.text("Text", t.Text)
	return b.f, b.err
}

// editForm is the ticket/<id>/edit form for e.
func editForm(e TicketEdit, kinds cfKinds) (form.Form, error) {
	b := &formBuilder{kinds: kinds}
	for _, k := range slices.Sorted(maps.Keys(e.Fields)) {
		if err := form.ValidKey(k); err != nil {
			b.fail(err)
			continue
		}
		if strings.EqualFold(k, "Subject") {
			b.f.Add("Subject", form.SingleLine(e.Fields[k]))
			continue
		}
		if e.Fields[k] == "" {
			b.f.Add(k, "")
			continue
		}
		b.ident(k, e.Fields[k])
	}
	if e.Requestors != nil {
		b.list("Requestors", *e.Requestors, true)
	}
	if e.Cc != nil {
		b.list("Cc", *e.Cc, true)
	}
	if e.AdminCc != nil {
		b.list("AdminCc", *e.AdminCc, true)
	}
	b.customFields(e.CustomFields, true)
	return b.f, b.err
}

// messageForm is the ticket/<id>/comment form for a comment or correspondence.
func messageForm(action string, m Message) (form.Form, error) {
	b := &formBuilder{}
	b.f.Add("Action", action)
	b.list("Cc", m.Cc, false)
	b.list("Bcc", m.Bcc, false)
	b.minutes("TimeWorked", m.TimeWorked)
	b.ident("Status", m.Status)
	b.ident("Content-Type", m.ContentType)
	b.text("Text", m.Text)
	return b.f, b.err
}

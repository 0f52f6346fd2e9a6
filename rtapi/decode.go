package rtapi

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rtbridge/rtbridge/rtapi/form"
)

// Decoders turn parsed REST 1.0 records (form.Record) into the types of
// types.go. They assume the caller ran classify first: an error answer has
// no fields to decode. Missing fields are left zero (RT omits fields when
// "fields=" is used); malformed ids, numbers and dates are errors, because a
// silently wrong ticket id would be worse than a failed call.

// ticketDateLayouts are the ticket date formats RT shows: the "DefaultFormat"
// display format of an English user ("Thu Nov 26 22:38:21 2026", in the RT
// user's timezone), and ISO/SQL forms (other user preferences, templates).
var ticketDateLayouts = []string{
	"Mon Jan 02 15:04:05 2006",
	"Mon Jan _2 15:04:05 2006",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05Z07:00",
}

// parseTicketDate parses a ticket date as RT displays it; "Not set" (and an
// empty value) is the zero time. loc is the RT user's timezone (nil: UTC).
func parseTicketDate(v string, loc *time.Location) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" || v == "Not set" {
		return time.Time{}, nil
	}
	if loc == nil {
		loc = time.UTC
	}
	for _, layout := range ticketDateLayouts {
		if t, err := time.ParseInLocation(layout, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("rt: unrecognised date %q (set the RT service user's date format to the default and language to English)", v)
}

// parseSQLDate parses the raw SQL UTC dates of transactions and attachments
// ("2026-11-26 22:38:21"); "" and RT's zero date "1970-01-01 00:00:00" are
// the zero time.
func parseSQLDate(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" || v == "1970-01-01 00:00:00" || v == "Not set" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02 15:04:05", v, time.UTC)
	if err != nil {
		return time.Time{}, fmt.Errorf("rt: unrecognised date %q: %w", v, err)
	}
	return t, nil
}

// parseMinutes parses RT's time fields: "0", "25 minutes", "1 minute",
// "2 hours" → minutes.
func parseMinutes(v string) (int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, nil
	}
	num, unit, _ := strings.Cut(v, " ")
	n, err := strconv.Atoi(num)
	if err != nil {
		return 0, fmt.Errorf("rt: unrecognised time %q", v)
	}
	switch strings.TrimSpace(unit) {
	case "", "minute", "minutes", "min":
		return n, nil
	case "hour", "hours":
		return n * 60, nil
	}
	return 0, fmt.Errorf("rt: unrecognised time %q", v)
}

// parseObjectID parses "ticket/17" (want "ticket"), or a bare "17".
func parseObjectID(v, want string) (int, error) {
	v = strings.TrimSpace(v)
	s := v
	if typ, id, ok := strings.Cut(v, "/"); ok {
		if !strings.EqualFold(typ, want) {
			return 0, fmt.Errorf("rt: id %q is not a %s", v, want)
		}
		s = id
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("rt: malformed %s id %q", want, v)
	}
	return n, nil
}

// atoiField parses an optional integer field; absent or empty is 0.
func atoiField(rec form.Record, key string) (int, error) {
	v, ok := rec.Get(key)
	v = strings.TrimSpace(v)
	if !ok || v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("rt: field %s: malformed number %q", key, v)
	}
	return n, nil
}

func getTrim(rec form.Record, key string) string {
	v, _ := rec.Get(key)
	return strings.TrimSpace(v)
}

// splitPeople splits Requestors/Cc/AdminCc (RT wraps long lists).
func splitPeople(v string) []string {
	items := form.SplitList(v)
	out := items[:0]
	for _, it := range items {
		if it != "" {
			out = append(out, it)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// cfNameOf returns the custom-field name of a key: CF.{Name}, CF-Name,
// CustomField-Name (users and queues show the old form).
func cfNameOf(key string) (string, bool) {
	if len(key) > 5 && strings.EqualFold(key[:4], "CF.{") && key[len(key)-1] == '}' {
		return key[4 : len(key)-1], true
	}
	for _, p := range []string{"CustomField-", "CF-"} {
		if len(key) > len(p) && strings.EqualFold(key[:len(p)], p) {
			return key[len(p):], true
		}
	}
	return "", false
}

// decodeTicket decodes a ticket record (show, or one record of a format=l
// search). loc is the RT user's timezone for the display dates (nil: UTC).
// kinds says which custom fields are multi-valued (see cfKinds).
func decodeTicket(rec form.Record, loc *time.Location, kinds cfKinds) (*Ticket, error) {
	idv, ok := rec.Get("id")
	if !ok {
		return nil, fmt.Errorf("rt: ticket record without id")
	}
	id, err := parseObjectID(idv, "ticket")
	if err != nil {
		return nil, err
	}
	t := &Ticket{ID: id}
	t.Queue, t.Owner, t.Creator = getTrim(rec, "Queue"), getTrim(rec, "Owner"), getTrim(rec, "Creator")
	t.Subject, _ = rec.Get("Subject")
	t.Status = getTrim(rec, "Status")
	t.Requestors = splitPeople(getTrim(rec, "Requestors"))
	t.Cc = splitPeople(getTrim(rec, "Cc"))
	t.AdminCc = splitPeople(getTrim(rec, "AdminCc"))
	for _, f := range []struct {
		key string
		dst *int
	}{{"Priority", &t.Priority}, {"InitialPriority", &t.InitialPriority}, {"FinalPriority", &t.FinalPriority}} {
		if *f.dst, err = atoiField(rec, f.key); err != nil {
			return nil, err
		}
	}
	for _, f := range []struct {
		key string
		dst *int
	}{{"TimeEstimated", &t.TimeEstimated}, {"TimeWorked", &t.TimeWorked}, {"TimeLeft", &t.TimeLeft}} {
		if *f.dst, err = parseMinutes(getTrim(rec, f.key)); err != nil {
			return nil, fmt.Errorf("rt: field %s: %w", f.key, err)
		}
	}
	for _, f := range []struct {
		key string
		dst *time.Time
	}{{"Created", &t.Created}, {"Starts", &t.Starts}, {"Started", &t.Started}, {"Due", &t.Due},
		{"Resolved", &t.Resolved}, {"Told", &t.Told}, {"LastUpdated", &t.LastUpdated}} {
		if *f.dst, err = parseTicketDate(getTrim(rec, f.key), loc); err != nil {
			return nil, fmt.Errorf("rt: field %s: %w", f.key, err)
		}
	}
	for _, f := range rec.Fields {
		name, ok := cfNameOf(f.Key)
		if !ok {
			continue
		}
		if t.CustomFields == nil {
			t.CustomFields = map[string][]string{}
		}
		t.CustomFields[name] = append(t.CustomFields[name], kinds.values(name, f.Value)...)
	}
	return t, nil
}

// linkKeys maps the keys of a links record to LinkType.
var linkKeys = map[string]LinkType{
	"dependson": DependsOn, "dependedonby": DependedOnBy, "refersto": RefersTo,
	"referredtoby": ReferredToBy, "memberof": MemberOf, "members": Members, "hasmember": Members,
}

// decodeLinks decodes "id: ticket/N/links" and the link-type keys, each a
// (possibly wrapped) comma list of URIs.
func decodeLinks(rec form.Record) (*Links, error) {
	idv := getTrim(rec, "id")
	idv = strings.TrimSuffix(idv, "/links")
	id, err := parseObjectID(idv, "ticket")
	if err != nil {
		return nil, err
	}
	l := &Links{ID: id, Links: map[LinkType][]string{}}
	for _, f := range rec.Fields {
		lt, ok := linkKeys[strings.ToLower(f.Key)]
		if !ok {
			continue
		}
		for _, uri := range form.SplitList(f.Value) {
			if uri != "" {
				l.Links[lt] = append(l.Links[lt], uri)
			}
		}
	}
	return l, nil
}

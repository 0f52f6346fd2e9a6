package mailparse

import (
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/rtbridge/rtbridge/event"
)

// fillHeader sets the envelope fields of m from the top-level header.
func fillHeader(m *event.Mail, h header, problems *[]string) {
	m.Header = canonicalHeader(h)
	m.Subject = decodeHeader(h.get("Subject"))
	m.MessageID = NormalizeMessageID(h.get("Message-Id"))
	m.InReplyTo = msgIDs(h.get("In-Reply-To"))
	m.References = msgIDs(strings.Join(h.values("References"), " "))
	m.Date = parseDate(h.get("Date"))
	for _, a := range []struct {
		key string
		dst *[]event.Address
	}{{"From", &m.From}, {"To", &m.To}, {"Cc", &m.Cc}, {"Reply-To", &m.ReplyTo}} {
		for _, v := range h.values(a.key) {
			addrs, ok := ParseAddressList(v)
			*a.dst = append(*a.dst, addrs...)
			if !ok {
				*problems = append(*problems, fmt.Sprintf("malformed %s header; kept the addresses that could be read", a.key))
			}
		}
	}
}

// bracketed returns what stands in angle brackets, without blanks or
// brackets inside (the regexp <([^<>\s]+)>), by a scan: a References
// header can hold thousands of ids.
func bracketed(v string) []string {
	var out []string
	for i := strings.IndexByte(v, '<'); i >= 0; {
		j := i + 1
		for j < len(v) && !strings.ContainsRune("<> \t\n\f\r", rune(v[j])) {
			j++
		}
		if j < len(v) && v[j] == '>' && j > i+1 {
			out = append(out, v[i+1:j])
		}
		k := strings.IndexByte(v[j:], '<')
		if k < 0 {
			break
		}
		i = j + k
	}
	return out
}

// NormalizeMessageID strips blanks and angle brackets from a Message-ID;
// with several ids it takes the first.
func NormalizeMessageID(v string) string {
	if ids := msgIDs(v); len(ids) > 0 {
		return ids[0]
	}
	return ""
}

// msgIDs returns the message ids in a References/In-Reply-To value, without
// angle brackets. Values without brackets are split on blanks.
func msgIDs(v string) []string {
	v = oneLine(v)
	if v == "" {
		return nil
	}
	if out := bracketed(v); len(out) > 0 {
		return out
	}
	var out []string
	for _, f := range strings.Fields(v) {
		f = strings.Trim(f, "<>,;")
		if strings.Contains(f, "@") {
			out = append(out, f)
		}
	}
	return out
}

// ParseAddressList parses an address header. ok is false when part of it
// was malformed; the addresses that could be read are still returned.
func ParseAddressList(v string) ([]event.Address, bool) {
	if strings.TrimSpace(v) == "" {
		return nil, true
	}
	if !utf8.ValidString(v) {
		// Raw 8-bit names (no RFC 2047), as old mailers send them: read
		// them as Latin-1, like decodeHeader does, instead of failing.
		v = latin1([]byte(v))
	}
	p := mail.AddressParser{WordDecoder: newWordDecoder()}
	if list, err := p.ParseList(v); err == nil {
		return convert(list), true
	}
	// Parse item by item; salvage bare addresses from what still fails.
	var out []event.Address
	for _, item := range splitAddresses(v) {
		if strings.TrimSpace(item) == "" {
			continue
		}
		if a, err := p.Parse(item); err == nil {
			out = append(out, convert([]*mail.Address{a})...)
			continue
		}
		for _, s := range bareAddrs(item) {
			out = append(out, event.Address{Address: lowerDomain(s)})
		}
	}
	return out, false
}

// bareAddrs finds what looks like an address in text that did not parse:
// each run of characters that cannot delimit an address (the regexp
// [^\s<>,;:"()\[\]]+@[^\s<>,;:"()\[\]]+) with an @ inside it. A scan, not
// that regexp: the regexp engine costs about 100 ns per byte here, and the
// text is the sender's.
func bareAddrs(v string) []string {
	var out []string
	for i := 0; i < len(v); {
		if !addrByte(v[i]) {
			i++
			continue
		}
		j := i
		for j < len(v) && addrByte(v[j]) {
			j++
		}
		if j-i >= 3 && strings.IndexByte(v[i+1:j-1], '@') >= 0 { // not first, not last
			out = append(out, v[i:j])
		}
		i = j
	}
	return out
}

func addrByte(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\f', '\r', '<', '>', ',', ';', ':', '"', '(', ')', '[', ']':
		return false
	}
	return true
}

func convert(list []*mail.Address) []event.Address {
	out := make([]event.Address, 0, len(list))
	for _, a := range list {
		out = append(out, event.Address{Name: oneLine(a.Name), Address: lowerDomain(oneLine(a.Address))})
	}
	return out
}

func lowerDomain(a string) string {
	if i := strings.LastIndexByte(a, '@'); i >= 0 {
		return a[:i+1] + strings.ToLower(a[i+1:])
	}
	return a
}

// splitAddresses splits on commas outside quotes, comments and brackets.
func splitAddresses(v string) []string {
	var out []string
	depth, inQuote, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case inQuote:
		case c == '(' || c == '<':
			depth++
		case (c == ')' || c == '>') && depth > 0:
			depth--
		case (c == ',' || c == ';') && depth == 0:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

var dateLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04 -0700",
	"Mon Jan 2 15:04:05 2006",
	"Mon, 2 Jan 06 15:04:05 -0700",
	time.RFC3339,
}

// parseDate reads a Date header; an unreadable date is the zero time (the
// header itself stays in Mail.Header).
func parseDate(v string) time.Time {
	v = oneLine(v)
	if v == "" {
		return time.Time{}
	}
	if t, err := mail.ParseDate(v); err == nil {
		return t
	}
	// Drop a trailing comment such as "(PST)" and try common variants.
	if i := strings.IndexByte(v, '('); i > 0 {
		v = strings.TrimSpace(v[:i])
	}
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t
		}
	}
	return time.Time{}
}

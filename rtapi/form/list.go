package form

import (
	"fmt"
	"strings"
)

// SplitList splits a list value the way RT's vsplit does: on line ends, then
// on commas, trimming each item; an item may be quoted with "…" or '…'
// (backslash escapes) to contain commas, and the quotes are kept, as RT does
// for people and link fields. It also undoes RT's 70-column wrapping
// (",\n" + indentation). Empty items between commas are kept, like RT.
func SplitList(v string) []string { return vsplit(v, false) }

// splitCFValues splits a custom-field value list like SplitList but removes
// the quotes and backslash escapes, as RT reads CF values a client sends
// ("a,'b, c'" → ["a", "b, c"]): the model JoinCFValues is checked against.
func splitCFValues(v string) []string { return vsplit(v, true) }

func vsplit(v string, unquote bool) []string {
	var items []string
	for _, line := range strings.Split(v, "\n") {
		for hasNonSpace(line) {
			var item string
			item, line = vsplitItem(line, unquote)
			items = append(items, item)
		}
	}
	return items
}

func hasNonSpace(s string) bool { return leadingSpace(s) < len(s) }

// vsplitItem takes one item off the front of line and returns it with the rest
// of the line after its comma.
func vsplitItem(line string, unquote bool) (string, string) {
	line = line[leadingSpace(line):]
	if q := line[0]; q == '"' || q == '\'' {
		if end, ok := quotedEnd(line, q); ok {
			if rest, ok := afterItem(line[end+1:]); ok {
				if !unquote {
					return line[:end+1], rest
				}
				return unescape(line[1:end], q), rest
			}
		}
	}
	if len(line) >= 2 && line[0] == 'q' && line[1] == '{' {
		// RT's back-compat q{…} form (no nesting).
		if end := strings.IndexByte(line, '}'); end > 0 {
			if rest, ok := afterItem(line[end+1:]); ok {
				return line[2:end], rest
			}
		}
	}
	item, rest, _ := strings.Cut(line, ",")
	return strings.TrimRightFunc(item, isSpace), rest
}

// afterItem returns the rest of the line after a quoted item's comma, when
// only blanks stand between the item's closing character and the comma (or
// the end); ok=false when something else does, and the item is not quoted.
func afterItem(rest string) (string, bool) {
	rest = rest[leadingSpace(rest):]
	if rest != "" && rest[0] != ',' {
		return "", false
	}
	return strings.TrimPrefix(rest, ","), true
}

// quotedEnd returns the index of the quote closing the string that starts
// at s[0], honouring backslash escapes.
func quotedEnd(s string, q byte) (int, bool) {
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case q:
			return i, true
		}
	}
	return 0, false
}

func unescape(s string, q byte) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && (s[i+1] == '\\' || s[i+1] == q) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// JoinList joins people or link items ("a@example.com, b@example.com").
// RT keeps quotes verbatim for these fields, so an item that would need
// quoting (a comma, a line end, a leading quote, an empty item) is refused
// with ErrUnsafeValue rather than sent altered.
func JoinList(items []string) (string, error) {
	for _, it := range items {
		t := strings.TrimFunc(it, isSpace)
		if t == "" || strings.ContainsAny(t, ",\r\n") || t[0] == '"' || t[0] == '\'' || strings.HasPrefix(t, "q{") || strings.IndexFunc(t, isControl) >= 0 {
			return "", fmt.Errorf("%w: list item %q", ErrUnsafeValue, it)
		}
	}
	trimmed := make([]string, len(items))
	for i, it := range items {
		trimmed[i] = strings.TrimFunc(it, isSpace)
	}
	return strings.Join(trimmed, ", "), nil
}

// JoinCFValues joins custom-field values so that splitCFValues (RT's
// vsplit with unquoting) gives them back exactly: an item containing a
// comma, starting or ending with whitespace, starting with a quote or "q{",
// or empty is single-quoted, a backslash escaping backslashes and quotes. RT splits CF
// values on line ends first, so an item containing CR or LF is refused with
// ErrUnsafeValue (send a single multi-line value with Form.Add instead).
func JoinCFValues(items []string) (string, error) {
	var b strings.Builder
	for i, it := range items {
		if strings.ContainsAny(it, "\r\n") {
			return "", fmt.Errorf("%w: custom field value %q contains a line end", ErrUnsafeValue, it)
		}
		if i > 0 {
			b.WriteByte(',')
		}
		if !needsQuote(it) {
			b.WriteString(it)
			continue
		}
		b.WriteByte('\'')
		for j := 0; j < len(it); j++ {
			if it[j] == '\\' || it[j] == '\'' {
				b.WriteByte('\\')
			}
			b.WriteByte(it[j])
		}
		b.WriteByte('\'')
	}
	return b.String(), nil
}

func needsQuote(s string) bool {
	if s == "" || strings.ContainsRune(s, ',') || s[0] == '"' || s[0] == '\'' || strings.HasPrefix(s, "q{") {
		return true
	}
	return leadingSpace(s) > 0 || strings.TrimRightFunc(s, isSpace) != s
}

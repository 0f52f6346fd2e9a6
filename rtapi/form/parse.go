package form

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Status is RT's first body line, "RT/<version> <code> <text>".
type Status struct {
	Version string // opaque, e.g. "5.0.3+dfsg-3~deb12u6"
	Code    int
	Text    string // e.g. "Ok", "Bad request" (case varies between endpoints)
}

// Response is a parsed REST 1.0 answer.
type Response struct {
	Version string
	Code    int
	Text    string
	// Empty: the body was 0 bytes (no status line). RT sends this for an
	// edit that changed nothing and for an attachment list of a ticket
	// without attachments; Code is then 200.
	Empty   bool
	Records []Record
	Raw     []byte
}

// Status returns the status line fields.
func (r *Response) Status() Status { return Status{r.Version, r.Code, r.Text} }

// Comments returns the "#" lines of every record, in order.
func (r *Response) Comments() []string {
	var c []string
	for _, rec := range r.Records {
		c = append(c, rec.Comments...)
	}
	return c
}

// Record is one "--"-separated part of a body.
type Record struct {
	Comments []string // "#" lines with the "#" and following blanks removed
	Fields   []Field
	// Lines are the top-level lines that are neither fields nor comments:
	// "No matching results.", "ticket/42", "42: subject", ">> " echo lines.
	Lines []string
}

// Get returns the first value of key (case-insensitive, like RT).
func (r Record) Get(key string) (string, bool) {
	for _, f := range r.Fields {
		if strings.EqualFold(f.Key, key) {
			return f.Value, true
		}
	}
	return "", false
}

// All returns every value of key (case-insensitive).
func (r Record) All(key string) []string {
	var vs []string
	for _, f := range r.Fields {
		if strings.EqualFold(f.Key, key) {
			vs = append(vs, f.Value)
		}
	}
	return vs
}

// Form returns the record's fields as a Form.
func (r Record) Form() Form { return Form(r.Fields) }

var statusRe = regexp.MustCompile(`^RT/(\S+) (\d{3}) (.*)$`)

// ParseStatus parses a status line (without its line end).
func ParseStatus(line string) (Status, bool) {
	m := statusRe.FindStringSubmatch(strings.TrimSuffix(line, "\r"))
	if m == nil {
		return Status{}, false
	}
	code, _ := strconv.Atoi(m[2])
	return Status{Version: m[1], Code: code, Text: m[3]}, true
}

// Parse parses a whole REST 1.0 answer. A 0-byte body is a success without
// data (Empty). A body that does not start with an RT status line yields a
// *NotRTError (errors.Is(err, ErrNotRT)) with a short excerpt.
func Parse(body []byte) (*Response, error) {
	resp := &Response{Raw: body}
	if len(body) == 0 {
		resp.Empty, resp.Code, resp.Text = true, 200, "Ok"
		return resp, nil
	}
	text := string(body)
	first, rest, _ := strings.Cut(text, "\n")
	st, ok := ParseStatus(first)
	if !ok {
		return nil, &NotRTError{Excerpt: Excerpt(body)}
	}
	resp.Version, resp.Code, resp.Text = st.Version, st.Code, st.Text
	resp.Records = ParseRecords(rest)
	return resp, nil
}

// ParseRecords parses the body after the status line (or a request form) the
// way RT's form_parse does: split on LF only; a line exactly "--" separates
// records; "#" lines are comments; "Key: value" lines start a field and every
// following empty or whitespace-led line continues it, after which trailing
// empty lines are dropped, the shortest leading whitespace of the
// continuation lines is removed from every line, leading empty lines are
// dropped and the lines are joined with LF. Other lines go to Lines.
// Empty records (e.g. after a trailing "--") are omitted.
func ParseRecords(text string) []Record {
	var recs []Record
	var rec Record
	flush := func() {
		if len(rec.Comments)+len(rec.Fields)+len(rec.Lines) > 0 {
			recs = append(recs, rec)
		}
		rec = Record{}
	}
	for len(text) > 0 {
		var line string
		line, text, _ = strings.Cut(text, "\n")
		switch {
		case line == "":
		case line == "--":
			flush()
		case line[0] == '#':
			rec.Comments = append(rec.Comments, strings.TrimLeft(line[1:], " \t"))
		default:
			key, first, ok := matchField(line)
			if !ok {
				rec.Lines = append(rec.Lines, line)
				continue
			}
			var value string
			value, text = continuation(first, text)
			rec.Fields = append(rec.Fields, Field{Key: key, Value: value})
		}
	}
	flush()
	return recs
}

// continuation reads the continuation lines of a field whose first value
// line is first, and returns the value and the unread text.
func continuation(first, text string) (string, string) {
	// Fast path: the next line starts a new field (most fields).
	if text == "" || (text[0] != '\n' && leadingSpace(text) == 0) {
		return first, text
	}
	vals := []string{first}
	for len(text) > 0 {
		line, rest, _ := strings.Cut(text, "\n")
		if line != "" && leadingSpace(line) == 0 {
			break
		}
		vals = append(vals, line)
		text = rest
	}
	for len(vals) > 0 && vals[len(vals)-1] == "" {
		vals = vals[:len(vals)-1]
	}
	if len(vals) == 0 {
		return "", text
	}
	// RT keeps the shortest (in characters) leading whitespace run.
	ws, wsLen := "", 0
	for _, v := range vals[1:] {
		if n := leadingSpace(v); n > 0 {
			if c := utf8.RuneCountInString(v[:n]); ws == "" || c < wsLen {
				ws, wsLen = v[:n], c
			}
		}
	}
	if ws != "" {
		for i, v := range vals {
			vals[i] = strings.TrimPrefix(v, ws)
		}
	}
	for len(vals) > 0 && vals[0] == "" {
		vals = vals[1:]
	}
	return strings.Join(vals, "\n"), text
}

// matchField matches RT's field line, case-insensitively
// ^(NAME):(?:\s+(.*))?$ with NAME = [a-z][a-z0-9_-]* | CF\.\{[^,]+\} |
// C(?:ustom)?F(?:ield)?-[^,]+, tried in that order, the custom-field forms
// greedily (the last possible colon before the line's first comma wins),
// as Perl's backtracking does.
func matchField(line string) (key, value string, ok bool) {
	if n := simpleNameLen(line); n > 0 {
		if v, ok := afterColon(line[n:]); ok {
			return line[:n], v, true
		}
	}
	limit := strings.IndexByte(line, ',')
	if limit < 0 {
		limit = len(line)
	}
	if len(line) > 5 && strings.EqualFold(line[:4], "CF.{") {
		for p := strings.LastIndexByte(line[:limit], '}'); p > 4; p = strings.LastIndexByte(line[:p], '}') {
			if v, ok := afterColon(line[p+1:]); ok {
				return line[:p+1], v, true
			}
		}
	}
	for _, prefix := range [...]string{"CustomField-", "CustomF-", "CField-", "CF-"} {
		if len(line) <= len(prefix) || !strings.EqualFold(line[:len(prefix)], prefix) {
			continue
		}
		for p := strings.LastIndexByte(line[:limit], ':'); p > len(prefix); p = strings.LastIndexByte(line[:p], ':') {
			if v, ok := afterColon(line[p:]); ok {
				return line[:p], v, true
			}
		}
	}
	return "", "", false
}

// simpleNameLen returns the length of the [A-Za-z][A-Za-z0-9_-]* prefix of s.
func simpleNameLen(s string) int {
	if s == "" || !isLetter(s[0]) {
		return 0
	}
	i := 1
	for i < len(s) && (isLetter(s[i]) || s[i] >= '0' && s[i] <= '9' || s[i] == '_' || s[i] == '-') {
		i++
	}
	return i
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// afterColon matches :(?:\s+(.*))?$ at the start of s.
func afterColon(s string) (string, bool) {
	if s == "" || s[0] != ':' {
		return "", false
	}
	s = s[1:]
	if s == "" {
		return "", true
	}
	n := leadingSpace(s)
	if n == 0 {
		return "", false
	}
	return s[n:], true
}

// NotRTError is the answer of something other than RT's REST code: an HTML
// login or error page, a proxy's message, a redirect target.
type NotRTError struct {
	Excerpt string // the page title or first line, shortened, secrets masked
}

func (e *NotRTError) Error() string {
	return fmt.Sprintf("%s: %q", ErrNotRT.Error(), e.Excerpt)
}

// Is makes errors.Is(err, ErrNotRT) true.
func (e *NotRTError) Is(target error) bool { return target == ErrNotRT }

package rtapi

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/rtbridge/rtbridge/rtapi/form"
)

// RT signals most failures inside a "200 Ok" body (rt-rest.md §3.3), so the
// status line alone cannot be trusted. classify applies python-rtkit's table
// (matched against every "#" comment, not only the first line) plus the
// messages rtkit silently dropped, and RT's own non-200 codes.

// commentRule maps a "#" comment to an RT status.
type commentRule struct {
	re   *regexp.Regexp
	code int
	// second: use the next comment as the message when there is one
	// ("# Could not create ticket." + "# Could not create ticket. Queue not set").
	second bool
}

var commentRules = []commentRule{
	{re: regexp.MustCompile(`^Unknown object type: .+`), code: 400},
	{re: regexp.MustCompile(`^Invalid object specification: '.+'`), code: 400}, // '' is the answer to a login on REST/1.0/
	{re: regexp.MustCompile(`^\w+ \d+ does not exist\.?$`), code: 404},
	{re: regexp.MustCompile(`^No \w+ named .+ exists\.?$`), code: 404},
	{re: regexp.MustCompile(`^Objects of type \w+ must be specified by numeric id\.?$`), code: 400},
	{re: regexp.MustCompile(`^Could not create \w+\.?$`), code: 400, second: true},
	{re: regexp.MustCompile(`^You are not allowed to `), code: 403},
	{re: regexp.MustCompile(`^No attachment for `), code: 400},
	{re: regexp.MustCompile(`^Invalid attachment id: `), code: 404},
	{re: regexp.MustCompile(`^Transaction \d+ is not related to Ticket \d+`), code: 404},
	{re: regexp.MustCompile(`^Invalid custom field name `), code: 400},
	{re: regexp.MustCompile("^Invalid action: "), code: 400},
	{re: regexp.MustCompile(`^Empty comment with no attachments submitted`), code: 400},
	{re: regexp.MustCompile(`^Could not complete the merge`), code: 400},
	{re: regexp.MustCompile(`^Invalid (query|operator|field) specification`), code: 400},
}

// lineRules are RT messages without "#" (search, dhandler).
var lineRules = []commentRule{
	{re: regexp.MustCompile(`^Invalid query: `), code: 400},
	{re: regexp.MustCompile(`^Unknown listing format: `), code: 400},
	{re: regexp.MustCompile(`^Invalid (query|operator|field) specification`), code: 400},
	{re: regexp.MustCompile(`^Invalid object ID specified`), code: 400},
	{re: regexp.MustCompile(`^You may submit only one form`), code: 400},
	{re: regexp.MustCompile(`^No objects specified`), code: 400},
	{re: regexp.MustCompile(`^Permission denied$`), code: 403},
	{re: regexp.MustCompile(`^Unsupported object type`), code: 400},
}

var (
	// fieldErrRe is a per-field message of a 409: "queue: Queue Nope does not exist".
	fieldErrRe = regexp.MustCompile(`^([^:\s][^:]*): (.+)$`)
)

// classify turns a parsed RT answer into nil (success, including an empty
// body and "No matching results.") or an *Error with RT's code after mapping,
// its message, comments, per-field errors and Partial. op and path label the
// error; write says the request carried content (a failed write comes back
// as 400 where a read gets 200). A 401 is returned as Code 401 with Kind
// Auth: the client decides whether to log in again.
func classify(op, path string, resp *form.Response, write bool) error {
	if resp == nil || resp.Empty {
		return nil
	}
	comments := resp.Comments()
	e := &Error{Op: op, Path: path, Code: resp.Code, Comments: comments, Kind: Permanent}
	switch resp.Code {
	case 401:
		e.Kind = Auth
		e.Text = resp.Text
		if l := firstLine(resp); l != "" {
			e.Text += ": " + l
		}
		return e
	case 409:
		classify409(e, resp, comments)
		return e
	}
	if code, msg, ok := matchComments(comments); ok {
		e.Code, e.Text = code, msg
		if code == 400 && strings.HasPrefix(msg, "Invalid custom field name") {
			// RT created the ticket anyway ("# Ticket N created." follows).
			_, e.Partial = createdID(resp, "")
		}
		return e
	}
	if code, msg, ok := matchLines(resp); ok {
		e.Code, e.Text = code, msg
		return e
	}
	if resp.Code == 200 {
		if write && len(comments) > 0 && strings.HasPrefix(comments[0], "Could not ") {
			e.Code, e.Text = 400, trimDot(comments[0])
			return e
		}
		return nil
	}
	// Any other RT status (400, 403, 404, 500) without a known message.
	e.Text = resp.Text
	if len(comments) > 0 {
		e.Text = trimDot(comments[0])
	} else if l := firstLine(resp); l != "" {
		e.Text = l
	}
	return e
}

// classify409 fills a "409 Syntax Error": per-field errors ("# key: msg"),
// a form syntax error (">> " marks the offending line), and Partial when RT
// says the object was nevertheless updated or created.
func classify409(e *Error, resp *form.Response, comments []string) {
	var other []string
	for _, c := range comments {
		switch {
		case objectRe.MatchString(c):
			e.Partial = true
		case c == "Syntax error." || c == "Syntax error":
			other = append(other, c)
		case fieldErrRe.MatchString(c):
			m := fieldErrRe.FindStringSubmatch(c)
			e.FieldErrors = append(e.FieldErrors, FieldError{Field: m[1], Message: m[2]})
		default:
			other = append(other, c)
		}
	}
	for _, rec := range resp.Records {
		for _, l := range rec.Lines {
			if strings.HasPrefix(l, ">>") {
				e.FieldErrors = append(e.FieldErrors, FieldError{Field: "syntax", Message: strings.TrimSpace(strings.TrimPrefix(l, ">>"))})
			}
		}
	}
	e.Text = resp.Text
	if len(other) > 0 {
		e.Text = trimDot(strings.Join(other, " "))
	}
}

func matchComments(comments []string) (int, string, bool) {
	for i, c := range comments {
		for _, r := range commentRules {
			if !r.re.MatchString(c) {
				continue
			}
			msg := c
			if r.second && i+1 < len(comments) && !objectRe.MatchString(comments[i+1]) {
				msg = comments[i+1]
			}
			return r.code, trimDot(msg), true
		}
	}
	return 0, "", false
}

func matchLines(resp *form.Response) (int, string, bool) {
	for _, rec := range resp.Records {
		for _, l := range rec.Lines {
			for _, r := range lineRules {
				if r.re.MatchString(l) {
					return r.code, l, true
				}
			}
		}
	}
	return 0, "", false
}

// firstLine returns the first non-field, non-comment line of the answer.
func firstLine(resp *form.Response) string {
	for _, rec := range resp.Records {
		if len(rec.Lines) > 0 {
			return rec.Lines[0]
		}
	}
	return ""
}

// trimDot drops one trailing "." as rtkit does ("Ticket 1 does not exist").
func trimDot(s string) string { return strings.TrimSuffix(strings.TrimSpace(s), ".") }

// objectRe matches RT's comments that name the object an answer made or
// changed (its REST 1.0 forms): "Ticket 17 created.", "Ticket 17 updated.",
// "User 23 created.", "Queue 3 updated.", "Links for ticket 5 updated.".
var objectRe = regexp.MustCompile(`^(?:Links for )?(\w+) (\d+) (created|updated)\.?$`)

// namedObject is one object an answer names.
type namedObject struct {
	kind    string // lower case: "ticket", "user", "queue", "group"
	id      int
	created bool
}

// namedObjects returns the objects RT's comments name, in order. RT may
// print other comments first (e.g. "# Invalid custom field name (x)").
func namedObjects(resp *form.Response) []namedObject {
	if resp == nil {
		return nil
	}
	var out []namedObject
	for _, c := range resp.Comments() {
		m := objectRe.FindStringSubmatch(c)
		if m == nil {
			continue
		}
		if n, err := strconv.Atoi(m[2]); err == nil && n > 0 {
			out = append(out, namedObject{strings.ToLower(m[1]), n, m[3] == "created"})
		}
	}
	return out
}

// ObjectIDs returns the objects an RT answer says were created or updated,
// in python-rtkit's form ("ticket/17", "user/23"), in order, each once:
// rtkit turns "# Ticket 17 created." into the record [("id", "ticket/17")].
func ObjectIDs(resp *form.Response) []string {
	var out []string
	for _, o := range namedObjects(resp) {
		if id := o.kind + "/" + strconv.Itoa(o.id); !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// createdID finds "# <Type> <n> created."; kind ("ticket", "user",
// "queue") is matched case-insensitively, "" matches any type.
func createdID(resp *form.Response, kind string) (int, bool) { return namedID(resp, kind, true) }

// updatedID finds "# <Type> <n> updated." like createdID.
func updatedID(resp *form.Response, kind string) (int, bool) { return namedID(resp, kind, false) }

func namedID(resp *form.Response, kind string, created bool) (int, bool) {
	for _, o := range namedObjects(resp) {
		if o.created == created && (kind == "" || strings.EqualFold(o.kind, kind)) {
			return o.id, true
		}
	}
	return 0, false
}

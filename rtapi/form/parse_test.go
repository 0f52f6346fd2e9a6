package form

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func mustParse(t *testing.T, body []byte) *Response {
	t.Helper()
	r, err := Parse(body)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return r
}

func TestParseTicketShow(t *testing.T) {
	r := mustParse(t, transcript(t, "13"))
	if r.Version != "5.0.3+dfsg-3~deb12u6" || r.Code != 200 || r.Text != "Ok" || r.Empty {
		t.Fatalf("status = %q %d %q empty=%v", r.Version, r.Code, r.Text, r.Empty)
	}
	if len(r.Records) != 1 {
		t.Fatalf("records = %d", len(r.Records))
	}
	rec := r.Records[0]
	if len(rec.Fields) != 22 || len(rec.Comments) != 0 || len(rec.Lines) != 0 {
		t.Fatalf("fields/comments/lines = %d/%d/%d", len(rec.Fields), len(rec.Comments), len(rec.Lines))
	}
	want := map[string]string{"id": "ticket/1", "subject": "First ticket", "Requestors": "alice@example.com",
		"Cc": "", "Starts": "Not set", "Created": "Thu Nov 26 22:38:21 2026", "TimeLeft": "0"}
	for k, v := range want {
		if got, ok := rec.Get(k); !ok || got != v {
			t.Errorf("Get(%q) = %q, %v; want %q", k, got, ok, v)
		}
	}
	if _, ok := rec.Get("CF.{Nope}"); ok {
		t.Error("Get of a missing key succeeded")
	}
}

func TestParseMultiLineAndBinary(t *testing.T) {
	rec := mustParse(t, transcript(t, "20")).Records[0]
	h, _ := rec.Get("Headers")
	wantH := "Content-Transfer-Encoding: binary\nContent-Disposition: form-data; filename=\"file.txt\"; name=\"attachment_1\"\nContent-Type: text/plain; charset=\"utf-8\"; name=\"file.txt\"\nX-RT-Original-Encoding: utf-8\nContent-Length: 33"
	if h != wantH {
		t.Errorf("Headers = %q", h)
	}
	if c, _ := rec.Get("Content"); c != "attachment body\nline2 éè UTF-8" {
		t.Errorf("Content = %q", c)
	}
	if v, _ := rec.Get("Subject"); v != "" {
		t.Errorf("empty value with trailing space = %q", v)
	}
	// Binary metadata: control bytes survive, lines split on LF only.
	rec = mustParse(t, transcript(t, "22")).Records[0]
	c, _ := rec.Get("Content")
	if !strings.HasPrefix(c, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e") || !strings.HasSuffix(c, "\xff\r\n\x00end") {
		t.Errorf("binary Content = %q…%q", c[:16], c[len(c)-8:])
	}
}

func TestParseRecordsAndComments(t *testing.T) {
	r := mustParse(t, transcript(t, "43"))
	if len(r.Records) != 9 {
		t.Fatalf("history records = %d, want 9", len(r.Records))
	}
	first := r.Records[0]
	if !reflect.DeepEqual(first.Comments, []string{"1/9 (id/33/total)"}) {
		t.Errorf("comments = %q", first.Comments)
	}
	if v, _ := first.Get("Content"); v != "Hello world\nsecond line of text" {
		t.Errorf("Content = %q", v)
	}
	if v, _ := first.Get("Attachments"); v != "1: untitled (31b)" {
		t.Errorf("Attachments = %q", v)
	}
	if v, _ := first.Get("Created"); v != "2026-11-26 22:38:21" {
		t.Errorf("Created = %q", v)
	}
	// The auto-reply keeps its blank lines inside the value.
	if v, _ := r.Records[1].Get("Content"); !strings.HasPrefix(v, "Greetings,\n\nThis message has been") {
		t.Errorf("Content[1] = %q", v[:30])
	}
	r = mustParse(t, transcript(t, "35"))
	if len(r.Records) != 3 {
		t.Errorf("search l records = %d", len(r.Records))
	}
}

func TestParseLinesAndErrors(t *testing.T) {
	cases := []struct {
		name     string
		code     int
		text     string
		comments []string
		lines    []string
		fields   []Field
	}{
		{"05", 401, "Credentials required", nil, []string{"Your username or password is incorrect"}, nil},
		{"06", 401, "Credentials required", nil, nil, nil},
		{"09", 200, "Ok", nil, nil, nil},
		{"10", 200, "Ok", []string{"Ticket 1 created."}, nil, nil},
		{"38", 200, "Ok", nil, []string{"ticket/3", "ticket/1", "ticket/2"}, nil},
		{"36", 200, "Ok", nil, []string{"3: Third ticket, with file", "2: Second ticket (edited)", "1: First ticket"}, nil},
		{"40", 200, "Ok", nil, []string{"No matching results."}, nil},
		{"52", 200, "Ok", []string{"Could not create ticket.", "Could not create ticket. Queue not set"}, nil, nil},
		{"54", 409, "Syntax Error", []string{"bogusfield: Unknown field.", "Ticket 1 updated."}, nil,
			[]Field{{"id", ""}, {"Status", "stalled"}, {"BogusField", "1"}}},
		{"56", 400, "Bad Request", []string{"Ticket 9999 does not exist."}, nil, nil},
		{"58", 200, "Ok", []string{"No user named nosuchuser exists."}, nil, []Field{{"id", "user/nosuchuser"}}},
	}
	for _, c := range cases {
		r := mustParse(t, transcript(t, c.name))
		if r.Code != c.code || r.Text != c.text {
			t.Errorf("%s: status %d %q", c.name, r.Code, r.Text)
		}
		var comments, lines []string
		var fields []Field
		for _, rec := range r.Records {
			comments = append(comments, rec.Comments...)
			lines = append(lines, rec.Lines...)
			fields = append(fields, rec.Fields...)
		}
		if !reflect.DeepEqual(comments, c.comments) || !reflect.DeepEqual(lines, c.lines) || !reflect.DeepEqual(fields, c.fields) {
			t.Errorf("%s: comments %q lines %q fields %q", c.name, comments, lines, fields)
		}
	}
}

func TestParseSearchError(t *testing.T) {
	r := mustParse(t, transcript(t, "41"))
	if r.Code != 400 || r.Text != "Bad request" {
		t.Fatalf("status %d %q", r.Code, r.Text)
	}
	l := r.Records[0].Lines
	if len(l) == 0 || !strings.HasPrefix(l[0], "Invalid query: 'Incomplete query, last element (OPEN_PAREN)") {
		t.Errorf("lines = %q", l)
	}
}

func TestParseEmptyAndNotRT(t *testing.T) {
	r := mustParse(t, transcript(t, "55"))
	if !r.Empty || r.Code != 200 || len(r.Records) != 0 {
		t.Errorf("empty body: %+v", r)
	}
	for _, body := range []string{
		"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>",
		"Service Unavailable\n",
		"ok\n",
		"RT/5.0.3 20 Ok\n",
		"rt/5.0.3 200 Ok\n",
	} {
		_, err := Parse([]byte(body))
		var nr *NotRTError
		if !errors.Is(err, ErrNotRT) || !errors.As(err, &nr) {
			t.Errorf("Parse(%q) err = %v", body, err)
		}
	}
	_, err := Parse([]byte("<html><title>Login</title><form>pass=hunter2</form>"))
	if err == nil || err.Error() != `form: not an RT REST 1.0 answer: "Login"` {
		t.Errorf("err = %v", err)
	}
}

func TestExcerptMasksSecrets(t *testing.T) {
	for in, want := range map[string]string{
		"Proxy error: GET /REST/1.0/ticket/1?user=root&pass=hunter2 failed": "Proxy error: GET /REST/1.0/ticket/1?user=***&pass=***",
		"Authorization: token 1-14-abcdef\nmore":                            "Authorization: ***",
		"\n\n  <p>Bad\tGateway</p>\n":                                       "Bad Gateway",
		"":                                                                  "(empty)",
	} {
		if got := Excerpt([]byte(in)); got != want {
			t.Errorf("Excerpt(%q) = %q, want %q", in, got, want)
		}
	}
	long := strings.Repeat("x", 500)
	if got := Excerpt([]byte(long)); len([]rune(got)) != excerptMax+1 {
		t.Errorf("long excerpt has %d runes", len([]rune(got)))
	}
}

func TestMatchFieldGrammar(t *testing.T) {
	cases := []struct {
		line, key, value string
		ok               bool
	}{
		{"Subject: hi", "Subject", "hi", true},
		{"Subject:", "Subject", "", true},
		{"Subject: ", "Subject", "", true},
		{"Subject:hi", "", "", false}, // RT drops "Key:value" without a space
		{"Subject:\thi  ", "Subject", "hi  ", true},
		{"1: First ticket", "", "", false},
		{"CF.{Sev}: high", "CF.{Sev}", "high", true},
		{"CF.{a: b}: c", "CF.{a: b}", "c", true},
		{"CF.{Sev}: high}: low", "CF.{Sev}: high}", "low", true}, // why the encoder uses a block here
		{"CF.{a,b}: c", "", "", false},
		{"CF-My Field: x", "CF-My Field", "x", true},
		{"CF-a: b: c", "CF-a", "b: c", true},
		{"CustomField-x y: 1", "CustomField-x y", "1", true},
		{"Invalid query: 'x'.", "", "", false},
		{"  indented: x", "", "", false},
	}
	for _, c := range cases {
		k, v, ok := matchField(c.line)
		if k != c.key || v != c.value || ok != c.ok {
			t.Errorf("matchField(%q) = %q, %q, %v", c.line, k, v, ok)
		}
	}
}

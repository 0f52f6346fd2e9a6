package mailparse

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fixture files under testdata/mail cover what the shared corpus
// covers only when ../shared is present: a fresh clone tests them too.
func TestFixtureFiles(t *testing.T) {
	cases := []struct {
		file     string
		subject  string
		text     string // contained in TextBody
		html     string // contained in HTMLBody
		from     string
		problems bool
		atts     int
	}{
		{file: "html-only.eml", subject: "HTML only", html: "<b>world</b>"},
		{file: "missing-boundary.eml", subject: "no boundary parameter", problems: true},
		{file: "8bit-headers.eml", subject: "Grüße aus Köln", text: "Köln", from: "Jürgen Müller"},
		{file: "bad-charset.eml", subject: "unknown charset", text: "still readable", problems: true},
		// Characters outside the base64 alphabet are skipped (RFC 2045 6.8).
		{file: "broken-base64.eml", subject: "broken base64 attachment", text: "see attachment", atts: 1},
		{file: "empty-subject.eml", subject: "", text: "body"},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join("testdata", "mail", c.file))
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(bytesOpener(raw))
			if err != nil {
				t.Fatal(err)
			}
			if m.Subject != c.subject {
				t.Errorf("subject %q, want %q", m.Subject, c.subject)
			}
			if !strings.Contains(m.TextBody, c.text) || !strings.Contains(m.HTMLBody, c.html) {
				t.Errorf("bodies %q / %q, want %q / %q", m.TextBody, m.HTMLBody, c.text, c.html)
			}
			if c.from != "" && (len(m.From) != 1 || m.From[0].Name != c.from) {
				t.Errorf("from %+v, want %q", m.From, c.from)
			}
			if (len(m.ParseProblems) > 0) != c.problems {
				t.Errorf("problems %q, want some: %v", m.ParseProblems, c.problems)
			}
			if len(m.Attachments) != c.atts {
				t.Errorf("attachments %+v, want %d", m.Attachments, c.atts)
			}
			if m.MessageID == "" || m.RawSize != int64(len(raw)) {
				t.Errorf("message id %q, raw size %d of %d", m.MessageID, m.RawSize, len(raw))
			}
		})
	}
}

func TestHTMLToText(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "mail", "html-only.eml"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(bytesOpener(raw))
	if err != nil {
		t.Fatal(err)
	}
	got := HTMLToText(m.HTMLBody)
	want := "Hello world, see the page <https://example.com/x>.\n\n- one\n\n- two\n"
	if got != want {
		t.Errorf("HTMLToText:\n%q\nwant\n%q", got, want)
	}
	for _, in := range []string{"", "<", "<p>", "&amp;<!-- x -->", "<a href=x>unclosed", strings.Repeat("<div>", 10000)} {
		_ = HTMLToText(in) // never panics, any input
	}
	if got := HTMLToText("a&amp;b<br>c&lt;d"); got != "a&b\nc<d\n" {
		t.Errorf("entities/br: %q", got)
	}
}

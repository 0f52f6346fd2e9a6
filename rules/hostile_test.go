package rules

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rules/templates"
)

const hostileRules = `
templates:
  secret: 'SECRET-TEMPLATE-OUTPUT'
rules:
  - name: r
    key: 'k:{{ .Subject }}'
    do:
      - create:
          queue: '{{ .Subject }}'
          subject: '{{ .Subject }} {{ .FromName }}'
          owner: '{{ get .CommonLabels "x" }}{{ .Subject }}'
          status: '{{ .Body }}'
          requestor: '{{ .FromFull }}'
          cc: '{{ .Body }}'
          text: '{{ .Body }}'
          custom_fields: { CF: '{{ .Body }}' }
      - comment: { text: '{{ .Subject }}', cc: '{{ .Subject }}' }
      - edit: { status: '{{ .Body }}', fields: { Subject: '{{ .Subject }}' } }
`

// singleLines returns every single-line field of a plan.
func singleLines(p *plan.Plan) []string {
	var out []string
	out = append(out, p.Key)
	out = append(out, p.Keys...)
	for _, s := range p.Steps {
		out = append(out, s.Key)
		out = append(out, s.Record...)
		if c := s.Create; c != nil {
			out = append(out, c.Queue, c.Subject, c.Owner, c.Status, c.ContentType)
			out = append(out, c.Requestors...)
			out = append(out, c.Cc...)
			out = append(out, c.AdminCc...)
			for k, vs := range c.CustomFields {
				out = append(append(out, k), vs...)
			}
		}
		if m := s.Message; m != nil {
			out = append(out, m.Status, m.ContentType)
			out = append(append(out, m.Cc...), m.Bcc...)
		}
		if e := s.Edit; e != nil {
			for k, v := range e.Fields {
				out = append(out, k, v)
			}
		}
	}
	return out
}

func checkSingleLines(t *testing.T, p *plan.Plan) {
	t.Helper()
	for _, s := range singleLines(p) {
		if strings.ContainsFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '\u2028' || r == '\u2029' }) {
			t.Fatalf("single-line field carries a control character: %q", s)
		}
		if n := len([]rune(s)); n > templates.MaxLine+len("msgid:") {
			t.Fatalf("single-line field of %d runes", n)
		}
	}
}

func hostileMail(subject, name, body string) *event.Event {
	ev := mailEvent()
	ev.Mail.Subject, ev.Mail.TextBody = subject, body
	ev.Mail.From[0].Name = name
	ev.Mail.MessageID = subject
	return ev
}

func TestHostileInputs(t *testing.T) {
	rs := mustCompile(t, hostileRules)
	big := strings.Repeat("x", 100<<10)
	cases := []struct{ subject, name, body string }{
		{"Urgent\nQueue: Admin\r\nOwner: root", "Mallory\nX-Injected: 1", "Queue: Admin\nStatus: resolved\n"},
		{"{{ .Secret }} {{ template \"secret\" . }}", "{{ .From }}", "{{ template \"secret\" . }}"},
		{big, big, big + "\n" + big},
		{"\u2028line\u2029sep\x00nul\x1b[31m", "\t", "\r\n\r\n"},
		{"\xff\xfe invalid utf8", "", "\xff"},
	}
	for _, c := range cases {
		p := eval(t, rs, hostileMail(c.subject, c.name, c.body), nil)
		checkSingleLines(t, p)
		for _, s := range p.Steps {
			if s.Create != nil && strings.Contains(s.Create.Text, "SECRET-TEMPLATE-OUTPUT") {
				t.Fatal("data was executed as a template")
			}
		}
	}
	p := eval(t, rs, hostileMail("{{ .Secret }}", "", "{{ .Secret }}"), nil)
	if got := p.Steps[0].Create.Subject; got != "{{ .Secret }} Alice" && got != "{{ .Secret }}" {
		t.Fatalf("template syntax in data must render literally, got %q", got)
	}
	if got := p.Steps[0].Create.Text; got != "{{ .Secret }}" {
		t.Fatalf("text %q", got)
	}
	p = eval(t, rs, hostileMail(big, "", big), nil)
	c := p.Steps[0].Create
	if n := len(c.Subject); n != templates.MaxSubject || !strings.HasSuffix(c.Subject, "…") {
		t.Fatalf("subject of %d bytes %q…", n, c.Subject[:20])
	}
	if len(c.Text) != len(big) {
		t.Fatalf("a 100 KB text must pass whole, got %d bytes", len(c.Text))
	}
}

func TestTextLimit(t *testing.T) {
	rs := mustCompile(t, "rules:\n  - name: r\n    do: [ { create: { queue: Q, text: '{{ range .Alerts }}{{ .Status }}{{ end }}{{ .Body }}{{ .Body }}' } } ]\n")
	big := strings.Repeat("y", templates.MaxText)
	p := eval(t, rs, hostileMail("s", "", big), nil)
	if txt := p.Steps[0].Create.Text; len(txt) != templates.MaxText+len(templates.TruncMarker) || !strings.HasSuffix(txt, templates.TruncMarker) {
		t.Fatalf("text of %d bytes", len(txt))
	}
}

// FuzzSingleLine: whatever the subject, name and body, no single-line field
// of the plan carries a newline or control character.
func FuzzSingleLine(f *testing.F) {
	f.Add("a\nb", "c\rd", "e")
	f.Add("{{ .X }}", "\u2028", "\x00")
	f.Add(strings.Repeat("é", 300), "\xff", "")
	rs := mustCompile(f, hostileRules)
	f.Fuzz(func(t *testing.T, subject, name, body string) {
		ev := hostileMail(subject, name, body)
		p, err := rs.Evaluate(ev, plan.Facts{Ledger: memLedger{}})
		if err != nil {
			if subject == "" || strings.TrimSpace(templates.FoldLine(subject)) == "" {
				return // the queue rendered empty: refused, as it should be
			}
			t.Fatalf("evaluate: %v", err)
		}
		checkSingleLines(t, p)
	})
}

func FuzzCompile(f *testing.F) {
	f.Add(hostileRules)
	f.Add("rules:\n  - name: r\n    when: { labels: ['a=~\"b\"'], any: [ {kind: mail} ] }\n    do: [ { link: { type: MemberOf, target_key: x, create_if_missing: { queue: Q } } } ]\n")
	f.Add("rules: [ { name: x, do: [ { ignore: y } ] } ]\ntemplates: { a: '{{ template \"a\" . }}' }")
	f.Fuzz(func(t *testing.T, src string) {
		var doc struct{}
		_ = doc
		rs, err := compileYAMLNoFail(src)
		if err != nil || rs == nil {
			return
		}
		for _, ev := range []*event.Event{mailEvent(), alertEvent(), jsonEvent()} {
			_, _ = rs.Evaluate(ev, plan.Facts{Ledger: memLedger{}}) // must not panic
		}
	})
}

// A subject is cut to RT's 200 bytes on a character boundary, the marker
// kept: RT would otherwise cut a CJK subject itself, marker and all.
func TestSubjectCutOnBytes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int // bytes
	}{
		{strings.Repeat("漢", 100), 198},      // 3 bytes each: 65 + "…"
		{strings.Repeat("é", 150), 199},      // 2 bytes each: 98 + "…" = 199
		{strings.Repeat("a", 200), 200},      // fits: not cut
		{"a" + strings.Repeat("😀", 60), 200}, // 4 bytes each: 1 + 49*4 + 3
	} {
		got := templates.TruncateBytes(c.in, templates.MaxSubject)
		if len(got) != c.want || !utf8.ValidString(got) || len(c.in) > templates.MaxSubject && !strings.HasSuffix(got, "…") {
			t.Errorf("templates.TruncateBytes(%d bytes) = %d bytes %q", len(c.in), len(got), got)
		}
	}
	rs := mustCompile(t, "rules:\n  - name: r\n    do: [ { create: { queue: Q, subject: '{{ .Subject }}' } } ]\n")
	p := eval(t, rs, hostileMail(strings.Repeat("障害", 150), "", "x"), nil)
	if s := p.Steps[0].Create.Subject; len(s) > templates.MaxSubject || !strings.HasSuffix(s, "…") || utf8.RuneCountInString(s) != 66 {
		t.Fatalf("CJK subject: %d bytes, %d runes: %q", len(s), utf8.RuneCountInString(s), s)
	}
}

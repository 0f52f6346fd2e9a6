package rules

import (
	"fmt"
	"testing"
	"text/template"

	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/rules/templates"
)

// fastCases are templates inside the fast subset, on its edges and outside
// it (those must bail out to text/template).
var fastCases = []string{
	`{{ .From }}`, `mail:{{ .From }}`, `[{{ .Match.what }}] {{ .Subject }}`, `{{ .Match.missing }}`,
	`{{ .CommonLabels.severity }}/{{ .CommonLabels.nope }}`, `{{ .Header.Subject }}`, `x{{/* note */}}y`,
	`{{ if .Body }}{{ .Body }}{{ else }}{{ .HTML }}{{ end }}`, `{{- if eq .Kind "mail" -}} M {{- else -}} O {{- end -}}`,
	`{{ if eq .Kind "json" "mail" }}a{{ end }}`, `{{ if eq .Kind }}a{{ end }}`, `{{ if eq .Kind .Match.x }}a{{ end }}`,
	`{{ if eq .Match.what "Printer" .Match.missing }}a{{ end }}`, `{{ if not .Body }}empty{{ end }}`,
	`{{ if and (eq .Kind "mail") (not .Body) .HTML }}text/html{{ end }}`, `{{ if or .Title .Match.x }}t{{ end }}`,
	`{{ if and }}a{{ end }}`, `{{ if or .Subject .Match.missing }}short{{ end }}`, `{{ if not .Body .HTML }}a{{ end }}`,
	`{{ if eq (not .Body) true }}a{{ end }}`, `{{ and .From .Subject }}`, `{{ "lit" }}`, `{{ .Date }}`, `{{ .To }}`,
	`{{ .ReceivedAt }}`, `{{ .Subject.x }}`, `{{ $.From }}`, `{{ . }}`, `{{ upper .From }}`, `{{ .From | lower }}`,
	`{{ with .From }}{{ . }}{{ end }}`, `{{ range .To }}{{ . }},{{ end }}`, `{{ template "sig" . }}`,
	`{{ $x := .From }}{{ $x }}`, `{{ if $x := .From }}{{ $x }}{{ end }}`, `{{ if .Alerts }}a{{ else }}b{{ end }}`,
	`{{ if .Subject }}{{ if .Body }}{{ .Body }}{{ else }}{{ upper .HTML }}{{ end }}{{ end }}`,
	`{{ .Match.what }}{{ .Match.what }}{{ .Match.what }}{{ .Match.what }}{{ .Match.what }}{{ .Match.what }}{{ .Match.what }}{{ .Match.what }}{{ .Match.what }}`,
	`{{ .Body }} and {{ .Subject }}`,
}

// fastRoot is a template set configured like the compiler's.
func fastRoot(t testing.TB) *template.Template {
	root := templates.NewRoot()
	for _, b := range builtinTemplates {
		template.Must(root.New(b.name).Parse(b.src))
	}
	template.Must(root.New("sig").Parse(`-- {{ .From }}`))
	return root
}

// fastData are template data for every event kind, hostile ones included.
func fastData() []*Data {
	hostile := hostileMail("{{ .From }}\r\nX-Inject: 1", "Eve {{ template \"sig\" . }}", "body\x00\x1b[31m{{ .Body }}")
	noBody := mailEvent()
	noBody.Mail.TextBody, noBody.Mail.HTMLBody = "", "<p>hi</p>"
	var out []*Data
	for _, ev := range []*event.Event{benchMail(), mailEvent(), hostile, noBody, alertEvent(), jsonEvent(), {}} {
		d := newData(ev)
		out = append(out, d)
		with := *d
		with.Match = map[string]string{"what": "Printer", "x": "mail", "": "empty"}
		out = append(out, &with)
	}
	return out
}

// checkFast runs src fast and through text/template on every data value and
// limit, and fails when they differ. It returns whether src compiled fast.
func checkFast(t *testing.T, root *template.Template, name, src string, data []*Data) bool {
	t.Helper()
	pt, err := root.New(name).Parse(src)
	if err != nil {
		return false
	}
	fast := templates.New(pt, src, name, dataType)
	slow := templates.New(pt, src, name, nil) // no data type: text/template only
	for i, d := range data {
		for _, limit := range []int{0, 1, 7, 64, templates.MaxText} {
			s, tr, err := fast.Render(d, limit)
			ws, wtr, werr := slow.Render(d, limit)
			if s != ws || tr != wtr || fmt.Sprint(err) != fmt.Sprint(werr) {
				t.Fatalf("%s on data %d, limit %d: render (%q, %v, %v), text/template (%q, %v, %v)", src, i, limit, s, tr, err, ws, wtr, werr)
			}
		}
	}
	return fast.Fast()
}

func TestFastTemplatesAgree(t *testing.T) {
	root, data := fastRoot(t), fastData()
	accelerated := 0
	for i, src := range fastCases {
		if checkFast(t, root, fmt.Sprintf("case%d", i), src, data) {
			accelerated++
		}
	}
	for _, b := range builtinTemplates {
		checkFast(t, root, b.name+"-copy", b.src, data)
	}
	if accelerated < 20 {
		t.Errorf("only %d of %d cases run fast; the subset shrank", accelerated, len(fastCases))
	}
}

// TestFastCoversTheCommonShapes pins which templates take the fast path:
// the built-in defaults and plain field templates.
func TestFastCoversTheCommonShapes(t *testing.T) {
	root := fastRoot(t)
	for _, name := range []string{"default.subject", "default.text", "default.content_type"} {
		if !templates.New(root.Lookup(name), name, name, dataType).Fast() {
			t.Errorf("%s: no fast program", name)
		}
	}
	for _, src := range []string{`{{ .From }}`, `[{{ .Match.what }}] {{ .Subject }}`} {
		if !templates.New(template.Must(root.New(src).Parse(src)), src, src, dataType).Fast() {
			t.Errorf("%s: no fast program", src)
		}
	}
	for _, src := range []string{`{{ upper .From }}`, `{{ template "sig" . }}`, `{{ range .To }}{{ . }}{{ end }}`} {
		if templates.New(template.Must(root.New(src).Parse(src)), src, src, dataType).Fast() {
			t.Errorf("%s: compiled fast, but it is outside the subset", src)
		}
	}
}

func FuzzFastTemplate(f *testing.F) {
	for _, src := range fastCases {
		f.Add(src, "Printer broken", "a body\r\n", "Printer")
	}
	root := fastRoot(f)
	n := 0
	f.Fuzz(func(t *testing.T, src, subject, body, what string) {
		ev := mailEvent()
		ev.Mail.Subject, ev.Mail.TextBody = subject, body
		d := newData(ev)
		with := *d
		with.Match = map[string]string{"what": what}
		n++
		checkFast(t, root, fmt.Sprintf("fuzz%d", n), src, []*Data{d, &with})
	})
}

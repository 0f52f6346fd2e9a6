package rules

import (
	"github.com/rtbridge/rtbridge/rules/templates"
	"gopkg.in/yaml.v3"
)

// Built-in named templates used when a create or message step gives no
// subject or text. An operator overrides them by defining templates of the
// same name in the templates: section.
var builtinTemplates = []struct{ name, src string }{
	{"default.subject", `{{- if eq .Kind "mail" }}{{ .Subject }}
{{- else if .Title }}{{ .Title }}
{{- else if .Alerts }}[{{ upper .Status }}] {{ pairs .GroupLabels }}
{{- else }}{{ .Source }} event {{ .ID }}{{ end -}}`},
	{"default.text", `{{- if eq .Kind "mail" }}{{ if .Body }}{{ .Body }}{{ else }}{{ .HTML }}{{ end }}
{{- else if .Alerts }}{{ template "default.alerts" . }}
{{- else }}{{ toJSON .JSON }}{{ end -}}`},
	{"default.content_type", `{{ if and (eq .Kind "mail") (not .Body) .HTML }}text/html{{ end }}`},
	{"default.alerts", `{{ with .Title }}{{ . }}
{{ end }}Status: {{ .Status }}{{ with .ExternalURL }}
From: {{ . }}{{ end }}
{{ range .Alerts }}
[{{ .Status }}] {{ pairs .Labels }}
{{- range $k, $v := .Annotations }}
  {{ $k }}: {{ $v }}{{ end }}
  Starts: {{ date "rfc3339" .StartsAt }}{{ with .GeneratorURL }}
  Source: {{ . }}{{ end }}
{{ end }}`},
}

// defaults are the templates that fill omitted fields.
type defaults struct {
	subject, text, contentType *templates.Template
}

// compileDefaults adds the built-ins the operator did not define and
// compiles the three callers.
func (c *compiler) compileDefaults() *defaults {
	for _, b := range builtinTemplates {
		if c.named[b.name] != nil {
			continue
		}
		if _, err := c.root.New(b.name).Parse(b.src); err != nil {
			panic("rules: built-in template " + b.name + ": " + err.Error()) // a bug, caught by every test
		}
		c.named[b.name] = &yaml.Node{}
	}
	mk := func(name string) *templates.Template {
		t := c.root.Lookup(name)
		return templates.New(t, name, "template "+name, dataType)
	}
	return &defaults{mk("default.subject"), mk("default.text"), mk("default.content_type")}
}

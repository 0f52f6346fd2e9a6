package rules

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// compileProblems compiles src and returns every problem as text.
func compileProblems(t *testing.T, src string) string {
	t.Helper()
	_, err := compileYAMLNoFail(src)
	if err == nil {
		return ""
	}
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("not a CompileError: %v", err)
	}
	return ce.Error()
}

func TestTemplateFieldCheck(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"misspelt field, exact column", `
rules:
  - name: r
    do:
      - create: { queue: Ops, subject: '{{ .Subjct }}' }
`, `f.yaml:5:44: rule "r": template create.subject: unknown field .Subjct (did you mean .Subject?)`},
		{"plain scalar", `
rules:
  - name: r
    do:
      - ignore: skipped {{ .Sorce }}
`, `f.yaml:5:28: rule "r": template ignore: unknown field .Sorce (did you mean .Source?)`},
		{"inside if, nested struct", `
rules:
  - name: r
    key: k
    do:
      - create: { queue: Ops, text: '{{ if .Ticket.ID }}{{ .Ticket.Stauts }}{{ end }}' }
`, `rule "r": template create.text: unknown field .Ticket.Stauts (did you mean .Ticket.Status?)`},
		{"$ is the root inside range", `
rules:
  - name: r
    do:
      - create: { queue: Ops, text: '{{ range .Alerts }}{{ $.Recevier }}{{ end }}' }
`, `unknown field .Recevier (did you mean .Receiver?)`},
		{"field of another kind", `
rules:
  - name: r
    when: { kind: mail }
    do:
      - create: { queue: Ops, subject: '{{ .CommonLabels.alertname }}' }
`, `f.yaml:6:44: rule "r": template create.subject: .CommonLabels is never set for mail events`},
		{"block scalar reports the scalar", `
rules:
  - name: r
    do:
      - create:
          queue: Ops
          text: |
            Hello
            {{ .Bdy }}
`, `f.yaml:7:17: rule "r": template create.text: unknown field .Bdy (did you mean .Body?)`},
		{"named template called with the root", `
templates:
  sig: '-- {{ .Sourc }}'
rules:
  - name: r
    do:
      - create: { queue: Ops, text: '{{ template "sig" . }}' }
`, `f.yaml:3:15: template "sig": unknown field .Sourc (did you mean .Source?)`},
		{"unknown kind", `
rules:
  - name: r
    when: { kind: mial }
    do: [ { ignore: x } ]
`, `f.yaml:4:19: rule "r": kind: unknown kind "mial" (did you mean "mail"?); one of mail, alertmanager, grafana, json`},
		{"unknown kind in a list", `
rules:
  - name: r
    when: { kind: [ json, Grafana ] }
    do: [ { ignore: x } ]
`, `f.yaml:4:27: rule "r": kind: unknown kind "Grafana" (did you mean "grafana"?)`},
		{"unknown status", `
rules:
  - name: r
    when: { status: { not_equals: fireing } }
    do: [ { ignore: x } ]
`, `rule "r": status: unknown status "fireing" (did you mean "firing"?)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := compileProblems(t, tc.src)
			if !strings.Contains(got, tc.want) {
				t.Errorf("got:\n%s\nwant it to contain:\n%s", got, tc.want)
			}
		})
	}
}

// Valid references that must keep compiling: dot inside with/range is not
// the root, maps take any key, methods count, named templates called with
// something other than the root are not checked against Data.
func TestTemplateFieldCheckAccepts(t *testing.T) {
	src := `
templates:
  alert_line: '{{ .Labels.alertname }} {{ .Fingerprint }}'
  labels: '{{ .severity }}'
rules:
  - name: alerts
    when: { kind: [ alertmanager, grafana ], status: firing }
    do:
      - create:
          queue: Ops
          subject: '{{ .CommonLabels.alertname }} {{ len .Alerts.Firing }} {{ .Kind }} {{ .Match.x }}'
          text: '{{ range .Alerts }}{{ template "alert_line" . }}{{ .Status }}{{ end }}{{ with .Ticket }}{{ .ID }}{{ end }}{{ template "labels" .CommonLabels }}'
  - name: any
    when: { kind: '!=json', subject: '~x' }
    do: [ { ignore: '{{ .Subject }} {{ .JSON }} {{ $.From }} {{ with .Header }}{{ .Whatever }}{{ end }}' } ]
`
	if got := compileProblems(t, src); got != "" {
		t.Fatalf("valid templates refused:\n%s", got)
	}
}

// TestKindOnlyCoversData: every Data field is common or in kindOnly, and
// kindOnly names only real fields, so a new field is classified on purpose.
func TestKindOnlyCoversData(t *testing.T) {
	common := map[string]bool{"ID": true, "Source": true, "Kind": true, "ReceivedAt": true, "Match": true, "Key": true, "Ticket": true}
	typ := reflect.TypeFor[Data]()
	for i := 0; i < typ.NumField(); i++ {
		name := typ.Field(i).Name
		if !common[name] && fieldKind(name) == "" {
			t.Errorf("Data.%s is neither common nor in kindOnly", name)
		}
	}
	for k, names := range kindOnly {
		for _, n := range names {
			if _, ok := typ.FieldByName(n); !ok {
				t.Errorf("kindOnly[%s] names %s, not a Data field", k, n)
			}
		}
	}
}

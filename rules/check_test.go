package rules

import (
	"errors"
	"strings"
	"testing"
)

// Each case must be reported at the exact FILE:LINE:COL.
func TestCompileErrorsPinpoint(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"unknown key", `
rules:
  - name: r
    when: { kind: mail }
    colour: red
    do: [ { ignore: x } ]
`, `t.yaml:5:5: rule "r": unknown key "colour"`},
		{"unknown condition", `
rules:
  - name: r
    when: { knd: mail }
    do: [ { ignore: x } ]
`, `t.yaml:4:13: rule "r": unknown condition "knd"`},
		{"bad regex", `
rules:
  - name: r
    when:
      subject: '~foo(bar'
    do: [ { ignore: x } ]
`, "t.yaml:5:16: rule \"r\": bad regex \"foo(bar\": missing closing ): `foo(bar`"},
		{"bad label regex", `
rules:
  - name: r
    when:
      labels: [ 'a="b"', 'x=~"(("' ]
    do: [ { ignore: x } ]
`, `t.yaml:5:26: rule "r": label matcher`},
		{"bad template", `
rules:
  - name: r
    do:
      - create: { queue: Ops, subject: '{{ .Subject ' }
`, `t.yaml:5:40: rule "r": bad template in create.subject:`},
		{"unknown template name", `
rules:
  - name: r
    do:
      - create: { queue: Ops, text: '{{ template "nope" . }}' }
`, `t.yaml:5:37: rule "r": template create.text calls unknown template "nope"`},
		{"unknown function", `
rules:
  - name: r
    do:
      - create: { queue: Ops, text: '{{ shout .Subject }}' }
`, `t.yaml:5:37: rule "r": bad template in create.text:`},
		{"unknown action", `
rules:
  - name: r
    do:
      - explode: { queue: Ops }
`, `t.yaml:5:9: rule "r": unknown action "explode"`},
		{"missing queue", `
rules:
  - name: r
    do:
      - create: { subject: hi }
`, `t.yaml:5:9: rule "r": create: missing queue`},
		{"unknown link type", `
rules:
  - name: r
    key: k
    do:
      - link: { type: ParentOf, target: '7' }
`, `t.yaml:6:23: rule "r": link: unknown link type "ParentOf"`},
		{"unknown create key", `
rules:
  - name: r
    do:
      - create: { queue: Ops, sujbect: hi }
`, `t.yaml:5:31: rule "r": create: unknown key "sujbect"`},
		{"no ticket", `
rules:
  - name: r
    do:
      - comment: { text: hi }
`, `t.yaml:5:9: rule "r": comment has no ticket`},
		{"bad template section", `
templates:
  x: '{{ if }}'
rules:
  - name: r
    do: [ { ignore: x } ]
`, `t.yaml:3:6: template "x":`},
		{"duplicate rule", `
rules:
  - name: r
    do: [ { ignore: x } ]
  - name: r
    do: [ { ignore: x } ]
`, `t.yaml:5:5: rule "r": duplicate rule name "r"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := compileYAML(t, c.src)
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("want *CompileError, got %v", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error\n%s\ndoes not contain\n%s", err, c.want)
			}
		})
	}
}

func TestCompileReportsAllProblems(t *testing.T) {
	_, err := compileYAML(t, `
rules:
  - name: a
    when: { subject: '~(' }
    do: [ { create: { subject: x } } ]
  - name: b
    do: [ { frobnicate: {} } ]
`)
	var ce *CompileError
	if !errors.As(err, &ce) || len(ce.Problems) != 3 {
		t.Fatalf("want 3 problems, got %v", err)
	}
}

func TestWarnUnreachableAfterCatchAll(t *testing.T) {
	rs := mustCompile(t, `
rules:
  - name: all
    do: [ { ignore: x } ]
  - name: later
    when: { kind: mail }
    do: [ { ignore: y } ]
`)
	w := rs.Warnings()
	if len(w) != 1 || w[0].String() != `t.yaml:5:5: warning: rule "later": can never match: rule "all" before it matches every event and does not continue` {
		t.Fatalf("warnings: %v", w)
	}
	rs = mustCompile(t, "rules:\n  - name: m\n    when: {kind: mail}\n    do: [ { ignore: x } ]\n")
	if w := rs.Warnings(); len(w) != 1 || !strings.Contains(w[0].Msg, "no catch-all rule") {
		t.Fatalf("warnings: %v", w)
	}
}

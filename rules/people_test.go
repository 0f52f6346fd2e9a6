package rules

import (
	"slices"
	"testing"

	"github.com/rtbridge/rtbridge/event"
)

// A hostile local part renders quoted again, so a people list keeps it
// one value (which the people check then refuses whole) instead of two
// plain addresses.
func TestPeopleListKeepsQuotedLocalPartWhole(t *testing.T) {
	rs := mustCompile(t, `rules:
  - name: open
    do:
      - create: { queue: General, requestor: '{{ .From }}', cc: '{{ join "," .Cc }}' }
`)
	for _, c := range []struct{ from, want string }{
		{"victim@target.example,x@attacker.example", `"victim@target.example,x"@attacker.example`},
		{"x,victim@target.example,y@attacker.example", `"x,victim@target.example,y"@attacker.example`},
		{"g:victim@target.example;x@attacker.example", `"g:victim@target.example;x"@attacker.example`},
		{`x",victim@target.example,"y@attacker.example`, `"x\",victim@target.example,\"y"@attacker.example`},
		{"alice@example.org", "alice@example.org"},
	} {
		ev := mailEvent()
		ev.Mail.From[0].Address = c.from
		ev.Mail.Cc = []event.Address{{Address: c.from}, {Address: "carol@example.org"}}
		cr := eval(t, rs, ev, nil).Steps[0].Create
		if !slices.Equal(cr.Requestors, []string{c.want}) || !slices.Equal(cr.Cc, []string{c.want, "carol@example.org"}) {
			t.Errorf("From %s: requestors %q cc %q, want [%s]", c.from, cr.Requestors, cr.Cc, c.want)
		}
	}
}

func TestSplitList(t *testing.T) {
	for in, want := range map[string][]string{
		"a@x, b@y":      {"a@x", " b@y"},
		`"a,b"@x,c@y`:   {`"a,b"@x`, "c@y"},
		`"a\",b"@x,c@y`: {`"a\",b"@x`, "c@y"},
		"":              {""},
		`"unclosed,a@x`: {`"unclosed,a@x`},
	} {
		if got := splitList(in); !slices.Equal(got, want) {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}

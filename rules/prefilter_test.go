package rules

import (
	"regexp"
	"slices"
	"testing"
)

// A prefilter may only reject a value the regex cannot match.
func FuzzPrefilterNeverRejectsAMatch(f *testing.F) {
	for _, s := range [][2]string{
		{`(?i)status of kelvin`, "ſtatus of \u212Aelvin"},
		{`(?i)\border #12\b`, "Re: ORDER #12 late"},
		{`(?P<what>\w+) broken`, "Printer broken"},
		{`a\x{FFFD}b`, "a\xffb"},
		{`(?i)a\x{FFFD}b`, "A\xffB"},
		{`(?i)ǅx`, "ǆX"},
		{`^(?:Job1.*)$`, "Job12"},
		{`x(?i:y)z`, "xYz"},
		{`(ab)+c{2,}`, "ababcc"},
		{`(?i)straße`, "STRAẞE"},
		{`(?i)ΣΑΣ`, "σας"},
		{`é+`, "e\u0301"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, expr, s string) {
		re, err := regexp.Compile(expr)
		if err != nil {
			return
		}
		p := newPrefilter(expr)
		if p == nil || !re.MatchString(s) {
			return
		}
		if !p.mayMatch(s, func() string { return canonFold(s) }) {
			t.Fatalf("prefilter %+v rejects %q, which %q matches", p, s, expr)
		}
	})
}

func TestPrefilterLiterals(t *testing.T) {
	for _, c := range []struct {
		expr          string
		exact, folded []string
	}{
		{`(?i)\border #12\b`, nil, []string{"ORDER #12"}},
		{`(?P<what>\w+) broken`, []string{" broken"}, nil},
		{`@customer1\.example$`, []string{"@customer1.example"}, nil},
		{`x(?i:yz)w`, []string{"x", "w"}, []string{"YZ"}},
		{`(ab)+c?d`, []string{"ab", "d"}, nil},
		{`a|b`, nil, nil},
		{`a*`, nil, nil},
		{`a\x{FFFD}`, nil, nil}, // U+FFFD stands for any invalid byte: not searched
	} {
		p := newPrefilter(c.expr)
		var exact, folded []string
		if p != nil {
			exact, folded = p.exact, p.folded
		}
		slices.Sort(exact)
		slices.Sort(c.exact)
		if !slices.Equal(exact, c.exact) || !slices.Equal(folded, c.folded) {
			t.Errorf("%s: exact %q folded %q, want %q %q", c.expr, exact, folded, c.exact, c.folded)
		}
	}
}

package rules

import (
	"regexp"
	"testing"
)

// boundCases: regexes with \b next to a required literal, and texts around
// the boundary (ASCII, non-ASCII neighbours, folds that change word-ness).
var boundCases = [][2]string{
	{`(?i)\border #4\b`, "Re: Printer broken (order #4711 follow-up)"},
	{`(?i)\border #4\b`, "order #4"},
	{`(?i)\border #4\b`, "xorder #4 and ORDER #4."},
	{`(?i)\border #4\b`, "order #4é"},
	{`(?i)\bkelvin\b`, "\u212Aelvin"},
	{`(?i)\bkelvin\b`, "a\u212Aelvin"},
	{`(?i)\bss\b`, "ſs"},
	{`(?i)x\b`, "x\u212A"},
	{`\bfoo\b`, "foo\xff"},
	{`\bfoo\b`, "_foo"},
	{`\b#1\b`, "a#1"},
	{`\b#1\b`, " #1"},
	{`a\bb`, "ab"},
	{`(?i)\bab(?-i)cd\b`, "ABcd"},
	{`\b\bfoo\b\b`, "(foo)"},
	{`\b(?:foo)bar\b`, "foobar"},
}

func TestPrefilterBounds(t *testing.T) {
	for _, c := range boundCases {
		checkPrefilter(t, c[0], c[1])
	}
	// The false positive that made this worth doing: the subject regex of
	// "order #4" on a subject about order #4711 is not run.
	p := newPrefilter(`(?i)\border #4\b`)
	s := "Re: Printer broken (order #4711 follow-up)"
	if p == nil || p.mayMatch(s, func() string { return canonFold(s) }) {
		t.Errorf("prefilter %+v lets %q through", p, s)
	}
}

func FuzzPrefilterBounds(f *testing.F) {
	for _, c := range boundCases {
		f.Add(c[0], c[1])
	}
	f.Fuzz(checkPrefilter)
}

// checkPrefilter fails when the prefilter of expr rejects s although the
// regex matches it.
func checkPrefilter(t *testing.T, expr, s string) {
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
}

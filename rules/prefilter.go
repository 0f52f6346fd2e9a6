package rules

import (
	"regexp/syntax"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// prefilter holds literals that every match of a regex contains. A value
// that lacks one of them cannot match, so the regex is not run on it: a
// strings.Contains costs a fraction of an RE2 scan, and Go's regexp only
// skips ahead by a case-sensitive literal prefix, not by a literal in the
// middle or one under (?i).
//
// exact literals are searched in the value as is; folded ones (from (?i)
// parts) are kept in canonical case (see canonFold) and searched in the
// value's canonical form, which the view computes once per event.
//
// A literal that every match has next to a \b (`\border #4\b`) keeps
// that in exactBounds/foldedBounds: only an occurrence with a word
// boundary there counts, so "order #4711" no longer lets the regex of
// "order #4" run.
type prefilter struct {
	exact        []string
	folded       []string
	exactBounds  []bounds // parallel to exact
	foldedBounds []bounds // parallel to folded
}

// bounds says which ends of a required literal are word boundaries (\b)
// in every match.
type bounds uint8

const (
	boundLeft bounds = 1 << iota
	boundRight
)

// newPrefilter analyses expr (as regexp.Compile parses it) and returns nil
// when it finds no required literal.
func newPrefilter(expr string) *prefilter {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return nil
	}
	var exact, folded []boundedLit
	for _, l := range requiredLits(re.Simplify()) {
		s := string(l.runes)
		switch {
		case l.fold:
			folded = append(folded, boundedLit{canonFold(s), l.bounds})
		case strings.ContainsRune(s, utf8.RuneError):
			// regexp matches U+FFFD against any invalid byte: a byte search
			// for its encoding could miss; leave such a literal to the regex.
		default:
			exact = append(exact, boundedLit{s, l.bounds})
		}
	}
	if len(exact) == 0 && len(folded) == 0 {
		return nil
	}
	p := &prefilter{}
	// Longest first: the rarest, so most values fail on the first search.
	byLen := func(l []boundedLit, out *[]string, bs *[]bounds) {
		sort.SliceStable(l, func(i, j int) bool { return len(l[i].s) > len(l[j].s) })
		for _, x := range l {
			*out, *bs = append(*out, x.s), append(*bs, x.b)
		}
	}
	byLen(exact, &p.exact, &p.exactBounds)
	byLen(folded, &p.folded, &p.foldedBounds)
	return p
}

type boundedLit struct {
	s string
	b bounds
}

// mayMatch reports whether s (whose canonical form canon returns, only
// when needed) contains every required literal.
func (p *prefilter) mayMatch(s string, canon func() string) bool {
	for i, l := range p.exact {
		if !containsBounded(s, l, p.exactBounds[i]) {
			return false
		}
	}
	if len(p.folded) == 0 {
		return true
	}
	c := canon()
	for i, l := range p.folded {
		if !strings.Contains(c, l) {
			return false
		}
		// canonFold can turn a non-word rune into a word letter (the
		// Kelvin sign into K): boundaries are only checked for ASCII,
		// where it changes case and nothing else.
		if b := p.foldedBounds[i]; b != 0 && isASCII(s) && !containsBounded(c, l, b) {
			return false
		}
	}
	return true
}

// containsBounded reports whether l occurs in s with a word boundary (as
// regexp's \b: ASCII word characters; any other byte, like the text's
// ends, is a non-word) at each end that b names. Byte tests are exact for
// \b: every byte of a non-ASCII rune or an invalid sequence is >= 0x80.
func containsBounded(s, l string, b bounds) bool {
	if b == 0 {
		return strings.Contains(s, l)
	}
	for off := 0; off <= len(s); {
		i := strings.Index(s[off:], l)
		if i < 0 {
			return false
		}
		i += off
		if (b&boundLeft == 0 || wordBoundaryAt(s, i)) && (b&boundRight == 0 || wordBoundaryAt(s, i+len(l))) {
			return true
		}
		off = i + 1
	}
	return false
}

func wordBoundaryAt(s string, i int) bool {
	return (i > 0 && syntax.IsWordChar(rune(s[i-1]))) != (i < len(s) && syntax.IsWordChar(rune(s[i])))
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

type lit struct {
	runes  []rune
	fold   bool
	bounds bounds // \b right before / after it in the concatenation
}

// requiredLits returns literals that any text matching re contains. It is
// conservative: an alternation or optional part contributes nothing, and
// zero-width assertions split adjacent literals.
func requiredLits(re *syntax.Regexp) []lit {
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return nil
		}
		return []lit{{runes: re.Rune, fold: re.Flags&syntax.FoldCase != 0}}
	case syntax.OpCapture, syntax.OpPlus:
		return requiredLits(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return requiredLits(re.Sub[0])
		}
	case syntax.OpConcat:
		var out []lit
		var run lit
		flush := func() {
			if len(run.runes) > 0 {
				out = append(out, run)
			}
			run = lit{}
		}
		for k, sub := range re.Sub {
			if sub.Op != syntax.OpLiteral {
				if sub.Op == syntax.OpWordBoundary && len(run.runes) > 0 {
					run.bounds |= boundRight
				}
				flush()
				out = append(out, requiredLits(sub)...)
				continue
			}
			fold := sub.Flags&syntax.FoldCase != 0
			if len(run.runes) > 0 && run.fold != fold {
				flush()
			}
			if len(run.runes) == 0 && k > 0 && re.Sub[k-1].Op == syntax.OpWordBoundary {
				run.bounds |= boundLeft
			}
			run.fold = fold
			run.runes = append(run.runes[:len(run.runes):len(run.runes)], sub.Rune...)
		}
		flush()
		return out
	}
	return nil
}

// canonFold maps every rune of s to the smallest rune of its simple case
// folding orbit (the set RE2's (?i) treats as equal: k, K and the Kelvin
// sign K all become K), and an invalid byte to U+FFFD as regexp decodes it.
// Two texts are equal under (?i) exactly when their canonFold forms are, so
// a (?i) literal occurs in a text only if its canonFold occurs in the
// text's canonFold.
func canonFold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return asciiUpper(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s { // range yields U+FFFD for each invalid byte
		b.WriteRune(foldMin(r))
	}
	return b.String()
}

func asciiUpper(s string) string {
	i := 0
	for i < len(s) && !('a' <= s[i] && s[i] <= 'z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if 'a' <= b[i] && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

func foldMin(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			return r - ('a' - 'A')
		}
		return r
	}
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		m = min(m, f)
	}
	return m
}

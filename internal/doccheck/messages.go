package doccheck

import (
	"regexp"
	"strings"
)

// Messages holds the source's string literals as patterns, to tell whether
// a message the manual shows is one the code can print: a literal's format
// verbs (%s, %q, %d, %w, …) stand for any text, and a literal ending in a
// space or ": " may be followed by more (the code appends to it).
type Messages struct {
	exact map[string]bool
	pats  []msgPattern
}

type msgPattern struct {
	first string // the literal's first fixed text, to skip most patterns cheaply
	re    *regexp.Regexp
}

var (
	verbRe   = regexp.MustCompile(`%[-+# 0]*[0-9]*(?:\.[0-9]+)?[a-zA-Z]`)
	spacesRe = regexp.MustCompile(` {2,}`)
	quotedRe = regexp.MustCompile(`"[^"]*"`)
)

// NewMessages indexes lits (from Literals). A literal with fewer than four
// letters of fixed text ("%s: %w") explains nothing by itself.
func NewMessages(lits []string) *Messages {
	m := &Messages{exact: map[string]bool{}}
	for _, l := range lits {
		m.exact[l] = true
		if strings.ContainsAny(l, "\n\t") {
			l = strings.TrimRight(l, "\n")
			if strings.ContainsAny(l, "\n\t") {
				continue
			}
		}
		fixed := verbRe.Split(strings.ReplaceAll(l, "%%", "%"), -1)
		letters := 0
		for _, f := range fixed {
			for _, r := range f {
				if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
					letters++
				}
			}
		}
		if letters < 4 {
			continue
		}
		var b strings.Builder
		b.WriteString("^")
		for i, f := range fixed {
			if i > 0 {
				b.WriteString("(.*?)")
			}
			b.WriteString(regexp.QuoteMeta(normSpaces(f)))
		}
		if strings.HasSuffix(l, " ") || fixed[len(fixed)-1] == "" {
			b.WriteString("(.*)")
		}
		b.WriteString("$")
		first := strings.TrimSpace(normSpaces(fixed[0]))
		if first == "" && len(fixed) > 1 {
			first = strings.TrimSpace(normSpaces(fixed[1]))
		}
		m.pats = append(m.pats, msgPattern{first: first, re: regexp.MustCompile(b.String())})
	}
	return m
}

// Literal reports whether s is a string literal of the source, as is.
func (m *Messages) Literal(s string) bool { return m.exact[s] }

// Explains reports whether the shown text s is a message the source can
// produce: one literal matches all of it, and each part a verb stands for
// is a value (no spaces outside quotes), "…" (text the manual leaves out),
// or again such a message.
func (m *Messages) Explains(s string) bool { return m.explains(normSpaces(s), 0) }

func (m *Messages) explains(s string, depth int) bool {
	if depth > 4 {
		return false
	}
	for _, p := range m.pats {
		if !strings.Contains(s, p.first) {
			continue
		}
		// A regexp has one leftmost-first match: that split is the one tried.
		sm := p.re.FindStringSubmatch(s)
		if sm == nil {
			continue
		}
		ok := true
		for _, g := range sm[1:] {
			ok = ok && m.value(g, depth)
		}
		if ok {
			return true
		}
	}
	// Errors wrap errors: "op: cause" (fmt's "%s: %w", rtapi's
	// "rt: OP: CODE TEXT: cause"), where one side at least is a message
	// of the source and the other a value or one too.
	if c := codeRe.FindStringSubmatch(s); c != nil && m.explains(c[1], depth+1) {
		return true
	}
	for i := strings.Index(s, ": "); i >= 0; i = next(s, i) {
		l, r := s[:i], s[i+2:]
		le, re := m.explains(l, depth+1), m.explains(r, depth+1)
		if le && (re || m.value(r, depth)) || re && m.value(l, depth) {
			return true
		}
	}
	return false
}

var codeRe = regexp.MustCompile(`^[0-9]{3} (.+)$`)

// next is the index of the ": " after the one at i, -1 when none.
func next(s string, i int) int {
	j := strings.Index(s[i+2:], ": ")
	if j < 0 {
		return -1
	}
	return i + 2 + j
}

func (m *Messages) value(g string, depth int) bool {
	g = strings.TrimSpace(g)
	if g == "" || strings.Contains(g, "…") || !strings.Contains(quotedRe.ReplaceAllString(g, `""`), " ") {
		return true
	}
	return m.explains(g, depth+1)
}

func normSpaces(s string) string { return spacesRe.ReplaceAllString(s, " ") }

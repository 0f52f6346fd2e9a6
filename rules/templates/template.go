package templates

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"text/template"
	"text/template/parse"
	"unicode"
	"unicode/utf8"
)

// Output limits. Single-line values longer than their limit are cut with
// "…" (RT would reject or silently cut them); message text longer than
// MaxText is cut with TruncMarker.
const (
	MaxSubject  = 200 // bytes: RT's Tickets.Subject column (and the other ticket fields an edit sets)
	MaxLine     = 255 // queue, owner, status, addresses, CF values, keys
	MaxText     = 1 << 20
	TruncMarker = "\n\n[… truncated by rtbridge]"
)

// Template is one compiled template field. A field without "{{" is a constant
// and is never executed.
type Template struct {
	Src  string
	Pos  string // "rule "x" create.subject", for run-time errors
	t    *template.Template
	fast *fastProg // t's common shape without reflection (nil: none)
}

// Const is a field without "{{": it is never executed. pos names the field
// in run-time errors ("rule "x" create.subject").
func Const(src, pos string) *Template { return &Template{Src: src, Pos: pos} }

// New wraps t, parsed from src in a set made by NewRoot. data is the type
// the field is executed with (a pointer to it is passed to Render); its
// common shape then runs without text/template's reflection.
func New(t *template.Template, src, pos string, data reflect.Type) *Template {
	return &Template{Src: src, Pos: pos, t: t, fast: compileFast(t.Tree, data)}
}

// Fast says t's common shape runs without text/template's reflection.
func (t *Template) Fast() bool { return t != nil && t.fast != nil }

// NewRoot is an empty template set with the function set, failing on a
// missing map key.
func NewRoot() *template.Template {
	return template.New("").Funcs(funcMap(&regexCache{})).Option("missingkey=error")
}

// CleanErr drops text/template's "template: NAME:" prefix, which only
// repeats our own position.
func CleanErr(err error, name string) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "template: ")
	return strings.TrimPrefix(s, name+":")
}

// Refs lists the names of {{ template }} calls in a parse tree.
func Refs(n parse.Node) []string {
	var out []string
	var walk func(parse.Node)
	walk = func(n parse.Node) {
		switch x := n.(type) {
		case *parse.ListNode:
			if x == nil {
				return
			}
			for _, c := range x.Nodes {
				walk(c)
			}
		case *parse.TemplateNode:
			out = append(out, x.Name)
		case *parse.IfNode:
			walk(x.List)
			walk(x.ElseList)
		case *parse.RangeNode:
			walk(x.List)
			walk(x.ElseList)
		case *parse.WithNode:
			walk(x.List)
			walk(x.ElseList)
		}
	}
	walk(n)
	return out
}

// errLimit stops a template that writes more than its output limit.
var errLimit = errors.New("output limit reached")

// ErrRender is wrapped by the errors of a template that fails at run time.
var ErrRender = errors.New("rules: template failed")

type limitWriter struct {
	b      strings.Builder
	limit  int
	hit    bool
	budget budget
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if len(p) == 0 { // a tick (budget.go)
		return 0, w.budget.tick()
	}
	room := w.limit - w.b.Len()
	if len(p) > room {
		w.b.Write(p[:max(room, 0)])
		w.hit = true
		return max(room, 0), errLimit
	}
	return w.b.Write(p)
}

// Render executes t with data, returning at most limit bytes; truncated
// says the template produced more.
func (t *Template) Render(data any, limit int) (s string, truncated bool, err error) {
	if t == nil {
		return "", false, nil
	}
	if t.t == nil {
		if len(t.Src) > limit {
			return t.Src[:limit], true, nil
		}
		return t.Src, false, nil
	}
	if t.fast != nil {
		if s, truncated, ok := t.fast.exec(data, limit); ok {
			return s, truncated, nil
		}
	}
	w := &limitWriter{limit: limit}
	if err := t.t.Execute(w, data); err != nil && !w.hit {
		if errors.Is(err, ErrBudget) {
			return "", false, fmt.Errorf("%w: %s: %w: %s", ErrRender, t.Pos, ErrBudget, w.budget.over)
		}
		return "", false, fmt.Errorf("%w: %s: %s", ErrRender, t.Pos, CleanErr(err, t.t.Name()))
	}
	return w.b.String(), w.hit, nil
}

// Line renders a single-line field: control characters and line breaks
// fold to one space, invalid UTF-8 is replaced, and the result is cut to
// n runes with "…".
func (t *Template) Line(data any, n int) (string, error) {
	s, _, err := t.Render(data, 4*n+64)
	if err != nil {
		return "", err
	}
	return TruncateRunes(FoldLine(s), n), nil
}

// LineBytes is Line cut to n bytes (TruncateBytes), for RT columns that
// count bytes.
func (t *Template) LineBytes(data any, n int) (string, error) {
	s, _, err := t.Render(data, n+64)
	if err != nil {
		return "", err
	}
	return TruncateBytes(FoldLine(s), n), nil
}

// Text renders a multi-line field: CRLF becomes LF, other control
// characters except tab are dropped, and the result is cut at MaxText.
func (t *Template) Text(data any) (string, error) {
	s, truncated, err := t.Render(data, MaxText)
	if err != nil {
		return "", err
	}
	s = CleanText(s)
	if truncated {
		s = strings.ToValidUTF8(s, "") + TruncMarker
	}
	return s, nil
}

// FoldLine makes s safe for a one-line RT field.
func FoldLine(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c >= 0x80 {
			clean = false
			break
		}
	}
	if clean && !strings.HasPrefix(s, " ") && !strings.HasSuffix(s, " ") && !strings.Contains(s, "  ") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// CleanText normalises line ends and drops control characters RT's form
// encoding cannot carry.
func CleanText(s string) string {
	if isCleanText(s) {
		return s // nearly every body: nothing to change, nothing to copy
	}
	return cleanTextSlow(s)
}

// cleanTextSlow is CleanText for text that needs changes.
func cleanTextSlow(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return '\n'
		case r == utf8.RuneError, unicode.IsControl(r):
			if r == utf8.RuneError {
				return r
			}
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
}

// isCleanText reports whether CleanText would return s unchanged: valid
// UTF-8 without carriage returns or control characters other than LF and
// tab (unicode.IsControl is true only for C0, DEL and C1).
func isCleanText(s string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	for i := 0; i < len(s); {
		// Eight bytes at a time while they are printable ASCII: no high
		// bit, no byte below 0x20, no DEL (classic SWAR tests; they may
		// report a hit that is not there, never miss one, and a hit only
		// sends these bytes through the exact test below).
		for ; i+8 <= len(s); i += 8 {
			b := s[i : i+8]
			w := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
				uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
			del := w ^ (0x7f * ones)
			if (w|(w-0x20*ones)|((del-ones)&^del))&highs != 0 {
				break
			}
		}
		if i >= len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if size == 1 || r <= 0x9f { // invalid byte, or a C1 control
			return false
		}
		i += size
	}
	return true
}

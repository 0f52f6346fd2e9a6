package rules

import (
	"errors"
	"fmt"
	"strings"
	"text/template"
	"text/template/parse"
	"unicode"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// Output limits. Single-line values longer than their limit are cut with
// "…" (RT would reject or silently cut them); message text longer than
// maxText is cut with truncMarker.
const (
	maxSubject  = 200 // bytes: RT's Tickets.Subject column (and the other ticket fields an edit sets)
	maxLine     = 255 // queue, owner, status, addresses, CF values, keys
	maxText     = 1 << 20
	truncMarker = "\n\n[… truncated by rtbridge]"
)

// tmpl is one compiled template field. A field without "{{" is a constant
// and is never executed.
type tmpl struct {
	src  string
	t    *template.Template
	fast *fastProg // t's common shape without reflection (nil: none)
	pos  string    // "rule "x" create.subject", for run-time errors
}

// compileTmpl parses src as an associated template of the rule set's root
// (so it can call named templates). define/block are refused outside the
// templates: section, and every {{ template "name" }} must exist.
func (c *compiler) compileTmpl(n *yaml.Node, what string) *tmpl {
	src, ok := c.ps.scalar(n, what)
	if !ok {
		return nil
	}
	t := &tmpl{src: src, pos: fmt.Sprintf("rule %q %s", c.ps.rule, what)}
	if !strings.Contains(src, "{{") {
		return t
	}
	c.seq++
	name := fmt.Sprintf("%s#%d", what, c.seq)
	before := len(c.root.Templates())
	pt, err := c.root.New(name).Parse(src)
	if err != nil {
		c.ps.errorf(n, "bad template in %s: %v", what, cleanTmplErr(err, name))
		return nil
	}
	if len(c.root.Templates()) != before+1 {
		c.ps.errorf(n, "bad template in %s: define/block belong in the templates: section", what)
		return nil
	}
	for _, ref := range templateRefs(pt.Tree.Root) {
		if c.named[ref] == nil {
			c.ps.errorf(n, "template %s calls unknown template %q", what, ref)
			return nil
		}
	}
	c.checkFields(resolve(n), src, pt.Tree, c.kinds, what)
	t.t, t.fast = pt, compileFast(pt.Tree)
	insertTicks(pt.Tree.Root, false)
	return t
}

// cleanTmplErr drops text/template's "template: NAME:" prefix, which only
// repeats our own position.
func cleanTmplErr(err error, name string) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "template: ")
	return strings.TrimPrefix(s, name+":")
}

// templateRefs lists the names of {{ template }} calls in a parse tree.
func templateRefs(n parse.Node) []string {
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

// render executes t with data, returning at most limit bytes; truncated
// says the template produced more.
func (t *tmpl) render(data any, limit int) (s string, truncated bool, err error) {
	if t == nil {
		return "", false, nil
	}
	if t.t == nil {
		if len(t.src) > limit {
			return t.src[:limit], true, nil
		}
		return t.src, false, nil
	}
	if d, ok := data.(*Data); ok && d != nil && t.fast != nil {
		if s, truncated, ok := t.fast.exec(d, limit); ok {
			return s, truncated, nil
		}
	}
	w := &limitWriter{limit: limit}
	if err := t.t.Execute(w, data); err != nil && !w.hit {
		if errors.Is(err, errBudget) {
			return "", false, fmt.Errorf("%w: %s: %w: %s", ErrRender, t.pos, errBudget, w.budget.over)
		}
		return "", false, fmt.Errorf("%w: %s: %s", ErrRender, t.pos, cleanTmplErr(err, t.t.Name()))
	}
	return w.b.String(), w.hit, nil
}

// line renders a single-line field: control characters and line breaks
// fold to one space, invalid UTF-8 is replaced, and the result is cut to
// n runes with "…".
func (t *tmpl) line(data any, n int) (string, error) {
	s, _, err := t.render(data, 4*n+64)
	if err != nil {
		return "", err
	}
	return truncateRunes(foldLine(s), n), nil
}

// lineBytes is line cut to n bytes (truncateBytes), for RT columns that
// count bytes.
func (t *tmpl) lineBytes(data any, n int) (string, error) {
	s, _, err := t.render(data, n+64)
	if err != nil {
		return "", err
	}
	return truncateBytes(foldLine(s), n), nil
}

// text renders a multi-line field: CRLF becomes LF, other control
// characters except tab are dropped, and the result is cut at maxText.
func (t *tmpl) text(data any) (string, error) {
	s, truncated, err := t.render(data, maxText)
	if err != nil {
		return "", err
	}
	s = cleanText(s)
	if truncated {
		s = strings.ToValidUTF8(s, "") + truncMarker
	}
	return s, nil
}

// foldLine makes s safe for a one-line RT field.
func foldLine(s string) string {
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

// cleanText normalises line ends and drops control characters RT's form
// encoding cannot carry.
func cleanText(s string) string {
	if isCleanText(s) {
		return s // nearly every body: nothing to change, nothing to copy
	}
	return cleanTextSlow(s)
}

// cleanTextSlow is cleanText for text that needs changes.
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

// isCleanText reports whether cleanText would return s unchanged: valid
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

package mailparse

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// HTMLToText renders an HTML body as plain text for RT: block elements end
// lines, list items get "- ", links keep their target ("text <url>"),
// script, style and head content is dropped and runs of blanks collapse.
// It never fails: the tokenizer accepts any input. (golang.org/x/net/html's
// tokenizer is used rather than a regexp, which breaks on comments,
// attributes holding ">" and unclosed tags.)
func HTMLToText(src string) string {
	z := html.NewTokenizer(strings.NewReader(src))
	var b textBuilder
	skip := 0 // depth inside script/style/head
	var href []string
	for {
		switch z.Next() {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			if skip == 0 {
				b.text(string(z.Text()))
			}
		case html.StartTagToken, html.SelfClosingTagToken:
			tn, hasAttr := z.TagName()
			a := atom.Lookup(tn)
			switch a {
			case atom.Script, atom.Style, atom.Head, atom.Title:
				if z.Token().Type == html.StartTagToken {
					skip++
				}
			case atom.Br:
				b.newline()
			case atom.Li:
				b.block()
				b.raw("- ")
			case atom.A:
				link := ""
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "href" {
						link = string(v)
					}
				}
				href = append(href, link)
			case atom.Img:
				for hasAttr {
					var k, v []byte
					k, v, hasAttr = z.TagAttr()
					if string(k) == "alt" && len(v) > 0 {
						b.text("[" + string(v) + "]")
					}
				}
			default:
				if isBlock(a) {
					b.block()
				}
			}
		case html.EndTagToken:
			tn, _ := z.TagName()
			a := atom.Lookup(tn)
			switch a {
			case atom.Script, atom.Style, atom.Head, atom.Title:
				if skip > 0 {
					skip--
				}
			case atom.A:
				if n := len(href); n > 0 {
					if l := href[n-1]; l != "" && !strings.HasPrefix(l, "#") && !strings.HasPrefix(strings.ToLower(l), "javascript:") {
						b.text(" <" + l + ">")
					}
					href = href[:n-1]
				}
			default:
				if isBlock(a) {
					b.block()
				}
			}
		}
	}
}

func isBlock(a atom.Atom) bool {
	switch a {
	case atom.P, atom.Div, atom.Table, atom.Tr, atom.Ul, atom.Ol, atom.H1, atom.H2, atom.H3,
		atom.H4, atom.H5, atom.H6, atom.Blockquote, atom.Pre, atom.Hr, atom.Section, atom.Article,
		atom.Header, atom.Footer, atom.Dl, atom.Dt, atom.Dd, atom.Body, atom.Html:
		return true
	}
	return false
}

// textBuilder collapses blanks and keeps at most one empty line.
type textBuilder struct {
	sb      strings.Builder
	space   bool // a blank is pending before the next word
	newl    int  // line breaks at the end of sb
	started bool
}

func (t *textBuilder) text(s string) {
	if len(s) > 0 && isBlank(rune(s[0])) {
		t.space = true
	}
	for _, f := range strings.FieldsFunc(s, isBlank) {
		if t.space && t.newl == 0 && t.started {
			t.sb.WriteByte(' ')
		}
		t.raw(f)
		t.space = true
	}
	if len(s) > 0 && isBlank(rune(s[len(s)-1])) {
		t.space = true
	} else if len(s) > 0 && strings.TrimFunc(s, isBlank) != "" {
		t.space = false
	}
}

func (t *textBuilder) raw(s string) {
	t.sb.WriteString(s)
	t.newl, t.started, t.space = 0, true, false
}

func (t *textBuilder) newline() {
	if !t.started {
		return
	}
	if t.newl < 2 {
		t.sb.WriteByte('\n')
		t.newl++
	}
	t.space = false
}

// block ends the current line and leaves one empty line.
func (t *textBuilder) block() {
	if !t.started {
		return
	}
	for t.newl < 2 {
		t.sb.WriteByte('\n')
		t.newl++
	}
	t.space = false
}

func (t *textBuilder) String() string {
	s := strings.TrimSpace(t.sb.String())
	if s == "" {
		return ""
	}
	return s + "\n"
}

func isBlank(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\u00a0'
}

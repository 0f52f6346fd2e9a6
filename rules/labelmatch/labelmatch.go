// Package labelmatch parses Alertmanager-style label matchers, the
// `labels:` conditions of a rule: name="v", name!="v", name=~"re" and
// name!~"re", one or several, optionally in braces. As in Alertmanager a
// regex is anchored (it must match the whole value) and a missing label has
// the value "". The rules compile a matcher into their own condition form,
// which is why this package parses and prints but does not match.
package labelmatch

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Matcher is one Alertmanager-style label matcher: name="v",
// name!="v", name=~"re" or name!~"re". As in Alertmanager, a regex must
// match the whole value (it is anchored) and a missing label has the
// value "".
type Matcher struct {
	Name  string
	Op    string // =, !=, =~, !~
	Value string
	re    *regexp.Regexp
}

func (m *Matcher) String() string {
	name := m.Name
	for i := 0; i < len(name); i++ {
		if !isLabelChar(name[i], i == 0) {
			name = strconv.Quote(name)
			break
		}
	}
	return name + m.Op + strconv.Quote(m.Value)
}

// Regexp is the anchored regex of an =~ or !~ matcher (nil for = and !=).
func (m *Matcher) Regexp() *regexp.Regexp { return m.re }

// Parse parses one matcher string: a single matcher
// (`severity="critical"`), or several separated by commas, optionally in
// braces (`{severity="critical", alertname=~"Disk.*"}`). Values are
// double-quoted with Go escapes (\" \\ \n), or bare up to the next comma.
func Parse(s string) ([]*Matcher, error) {
	p := &lmParser{s: strings.TrimSpace(s)}
	if strings.HasPrefix(p.s, "{") {
		if !strings.HasSuffix(p.s, "}") {
			return nil, fmt.Errorf("label matcher %q: missing closing brace", s)
		}
		p.s = strings.TrimSpace(p.s[1 : len(p.s)-1])
	}
	var out []*Matcher
	for {
		p.space()
		if p.done() {
			break
		}
		m, err := p.matcher()
		if err != nil {
			return nil, fmt.Errorf("label matcher %q: %w", s, err)
		}
		out = append(out, m)
		p.space()
		if p.done() {
			break
		}
		if p.s[p.i] != ',' {
			return nil, fmt.Errorf("label matcher %q: unexpected %q at offset %d, want ','", s, p.s[p.i], p.i)
		}
		p.i++
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("label matcher %q: empty", s)
	}
	return out, nil
}

type lmParser struct {
	s string
	i int
}

func (p *lmParser) done() bool { return p.i >= len(p.s) }

func (p *lmParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *lmParser) matcher() (*Matcher, error) {
	var name string
	if p.s[p.i] == '"' {
		v, err := p.quoted()
		if err != nil {
			return nil, err
		}
		name = v
	} else {
		start := p.i
		for p.i < len(p.s) && isLabelChar(p.s[p.i], p.i == start) {
			p.i++
		}
		name = p.s[start:p.i]
	}
	if name == "" {
		return nil, fmt.Errorf("missing label name at offset %d", p.i)
	}
	p.space()
	var op string
	rest := p.s[p.i:]
	switch {
	case strings.HasPrefix(rest, "=~"):
		op = "=~"
	case strings.HasPrefix(rest, "!~"):
		op = "!~"
	case strings.HasPrefix(rest, "!="):
		op = "!="
	case strings.HasPrefix(rest, "="):
		op = "="
	default:
		return nil, fmt.Errorf("label %q: want one of = != =~ !~ at offset %d", name, p.i)
	}
	p.i += len(op)
	p.space()
	var value string
	if p.i < len(p.s) && p.s[p.i] == '"' {
		v, err := p.quoted()
		if err != nil {
			return nil, err
		}
		value = v
	} else {
		start := p.i
		for p.i < len(p.s) && p.s[p.i] != ',' {
			if p.s[p.i] == '"' {
				return nil, fmt.Errorf("label %q: stray quote in unquoted value at offset %d", name, p.i)
			}
			p.i++
		}
		value = strings.TrimSpace(p.s[start:p.i])
	}
	if !utf8.ValidString(name) || !utf8.ValidString(value) {
		return nil, fmt.Errorf("label %q: not valid UTF-8", name)
	}
	m := &Matcher{Name: name, Op: op, Value: value}
	if op == "=~" || op == "!~" {
		re, err := regexp.Compile("^(?:" + value + ")$")
		if err != nil {
			return nil, fmt.Errorf("label %q: bad regex: %w", name, err)
		}
		m.re = re
	}
	return m, nil
}

// quoted reads a double-quoted string with Go escapes.
func (p *lmParser) quoted() (string, error) {
	start := p.i
	p.i++ // opening quote
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case '\\':
			p.i += 2
			continue
		case '"':
			p.i++
			v, err := strconv.Unquote(p.s[start:p.i])
			if err != nil {
				return "", fmt.Errorf("bad quoted string %s: %w", p.s[start:p.i], err)
			}
			if !utf8.ValidString(v) {
				return "", fmt.Errorf("quoted string %s is not valid UTF-8", p.s[start:p.i])
			}
			return v, nil
		}
		p.i++
	}
	return "", fmt.Errorf("unterminated quoted string at offset %d", start)
}

func isLabelChar(c byte, first bool) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || !first && c >= '0' && c <= '9'
}

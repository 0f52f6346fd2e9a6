package rules

import (
	"errors"
	"fmt"
	"maps"
	"net/textproto"
	"regexp"
	"regexp/syntax"
	"slices"
	"strings"

	"github.com/rtbridge/rtbridge/rules/jsonpath"
	"github.com/rtbridge/rtbridge/rules/labelmatch"
	"gopkg.in/yaml.v3"
)

// cond is a compiled `when:` condition. match adds named regex captures to
// caps (which may be nil when the rule uses none).
type cond interface {
	match(v *view, caps map[string]string) bool
}

type allCond []cond

func (a allCond) match(v *view, caps map[string]string) bool {
	for _, c := range a {
		if !c.match(v, caps) {
			return false
		}
	}
	return true
}

type anyCond []cond

func (a anyCond) match(v *view, caps map[string]string) bool {
	for _, c := range a {
		if caps == nil {
			if c.match(v, nil) {
				return true
			}
			continue
		}
		// Captures of a failed branch must not leak into the rule.
		tmp := map[string]string{}
		if c.match(v, tmp) {
			for k, s := range tmp {
				caps[k] = s
			}
			return true
		}
	}
	return false
}

type notCond struct{ c cond }

func (n notCond) match(v *view, _ map[string]string) bool { return !n.c.match(v, nil) }

// op is one value test.
type op int

const (
	opEq op = iota
	opNe
	opRe
	opNotRe
	opPresent
	opAbsent
)

type test struct {
	op   op
	s    string
	re   *regexp.Regexp
	caps bool       // re has named groups
	pre  *prefilter // literals every match of re contains; nil: none known
}

// fieldCond tests one field. With anyOf a single passing test suffices
// (a YAML list); otherwise all tests must pass (a mapping or one value).
type fieldCond struct {
	name  string // the when: key (kind, source, header, …), for the view's caches and the rule index
	get   getter
	arg   string
	path  []jsonpath.Elem
	fold  bool
	label bool // Alertmanager semantics: a missing label is ""
	tests []test
	anyOf bool
}

func (f *fieldCond) match(v *view, caps map[string]string) bool {
	vals, present := f.get(v, f.arg, f.path)
	if f.label && !present {
		vals, present = []string{""}, false
	}
	for i := range f.tests {
		ok := f.tests[i].eval(v, f, vals, present, caps)
		if f.anyOf && ok {
			return true
		}
		if !f.anyOf && !ok {
			return false
		}
	}
	return !f.anyOf
}

func (t *test) eval(v *view, f *fieldCond, vals []string, present bool, caps map[string]string) bool {
	switch t.op {
	case opPresent:
		return present
	case opAbsent:
		return !present
	case opEq, opNe:
		eq := false
		for _, s := range vals {
			if s == t.s || f.fold && strings.EqualFold(s, t.s) {
				eq = true
				break
			}
		}
		return eq == (t.op == opEq)
	default:
		found := false
		for i, s := range vals {
			if t.pre != nil && !t.pre.mayMatch(s, func() string { return v.canon(f, vals, i) }) {
				continue // s lacks a literal every match contains
			}
			if !t.caps || caps == nil || t.op == opNotRe {
				if t.re.MatchString(s) {
					found = true
					break
				}
				continue
			}
			if m := t.re.FindStringSubmatch(s); m != nil {
				for i, name := range t.re.SubexpNames() {
					if name != "" && i < len(m) {
						caps[name] = m[i]
					}
				}
				found = true
				break
			}
		}
		return found == (t.op == opRe)
	}
}

// compileWhen compiles a `when:` mapping: every key must hold. It reports
// whether the rule uses captures (so Evaluate allocates a map only then).
func (c *compiler) compileWhen(n *yaml.Node) cond {
	pairs, ok := c.ps.mapping(n, "when")
	if !ok {
		return nil
	}
	var all allCond
	for _, p := range pairs {
		if cd := c.compileWhenKey(p); cd != nil {
			all = append(all, cd)
		}
	}
	return conjunction(all)
}

func (c *compiler) compileWhenKey(p pair) cond {
	switch p.key {
	case "all", "any":
		if p.v == nil || p.v.Kind != yaml.SequenceNode {
			c.ps.errorf(p.v, "%s must be a list of conditions", p.key)
			return nil
		}
		var list []cond
		for _, item := range p.v.Content {
			if cd := c.compileWhen(item); cd != nil {
				list = append(list, cd)
			}
		}
		if p.key == "all" {
			return conjunction(list)
		}
		return anyCond(list)
	case "not":
		if cd := c.compileWhen(p.v); cd != nil {
			return notCond{cd}
		}
		return nil
	}
	f, known := fields[p.key]
	if !known {
		c.ps.errorf(p.kn, "unknown condition %q (fields: %s; groups: all, any, not)", p.key, fieldNames())
		return nil
	}
	if !f.keyed {
		c.checkClosed(p.key, p.v)
		fc := c.compileTests(p.v, p.key)
		if fc == nil {
			return nil
		}
		fc.name, fc.get, fc.fold = p.key, f.get, f.fold
		return fc
	}
	// Keyed fields: a mapping name → tests; labels also take a list of
	// Alertmanager matcher strings.
	if (p.key == "labels" || p.key == "group_labels") && p.v != nil && p.v.Kind != yaml.MappingNode {
		return c.compileLabelMatchers(p, f.get)
	}
	pairs, ok := c.ps.mapping(p.v, p.key)
	if !ok {
		return nil
	}
	var all allCond
	for _, q := range pairs {
		fc := c.compileTests(q.v, p.key+"."+q.key)
		if fc == nil {
			continue
		}
		fc.name, fc.get, fc.fold, fc.arg = p.key, f.get, f.fold, q.key
		switch p.key {
		case "header":
			fc.arg = textproto.CanonicalMIMEHeaderKey(q.key)
		case "mta":
			if !mtaKey(q.key) {
				c.ps.errorf(q.kn, "mta: unknown key %q (keys: %s)", q.key, strings.Join(mtaKeys, ", "))
				continue
			}
		case "json":
			path, err := jsonpath.Parse(q.key)
			if err != nil {
				c.ps.errorf(q.kn, "%v", err)
				continue
			}
			fc.path = path
		}
		all = append(all, fc)
	}
	return all
}

func (c *compiler) compileLabelMatchers(p pair, get getter) cond {
	strs, nodes, ok := c.ps.scalars(p.v, p.key)
	if !ok {
		return nil
	}
	var all allCond
	for i, s := range strs {
		ms, err := labelmatch.Parse(s)
		if err != nil {
			c.ps.errorf(nodes[i], "%v", err)
			continue
		}
		for _, m := range ms {
			t := test{s: m.Value, re: m.Regexp()}
			switch m.Op {
			case "=":
				t.op = opEq
			case "!=":
				t.op = opNe
			case "=~":
				t.op, t.caps = opRe, hasNames(m.Regexp())
			default:
				t.op = opNotRe
			}
			if t.re != nil {
				t.pre = newPrefilter(t.re.String())
			}
			c.usesCaps = c.usesCaps || t.caps
			all = append(all, &fieldCond{name: p.key, get: get, arg: m.Name, label: true, tests: []test{t}})
		}
	}
	return all
}

// compileTests compiles the value side of a field condition: a string
// (shorthand), a list of strings (any of), or a mapping of explicit tests.
func (c *compiler) compileTests(n *yaml.Node, what string) *fieldCond {
	n = resolve(n)
	fc := &fieldCond{}
	switch {
	case n != nil && n.Kind == yaml.SequenceNode:
		fc.anyOf = true
		for _, item := range n.Content {
			s, ok := c.ps.scalar(item, what)
			if ok {
				if t, ok := c.shorthand(resolve(item), s); ok {
					fc.tests = append(fc.tests, t)
				}
			}
		}
		if len(n.Content) == 0 {
			c.ps.errorf(n, "%s: empty list matches nothing", what)
		}
	case n != nil && n.Kind == yaml.MappingNode:
		pairs, _ := c.ps.mapping(n, what)
		for _, q := range pairs {
			if t, ok := c.explicit(q, what); ok {
				fc.tests = append(fc.tests, t)
			}
		}
	default:
		s, ok := c.ps.scalar(n, what)
		if !ok {
			return nil
		}
		t, ok := c.shorthand(n, s)
		if !ok {
			return nil
		}
		fc.tests = []test{t}
	}
	if len(fc.tests) == 0 {
		return nil
	}
	return fc
}

// shorthand parses `value`, `=value`, `!=value`, `~regex`, `!~regex`.
func (c *compiler) shorthand(n *yaml.Node, s string) (test, bool) {
	switch {
	case strings.HasPrefix(s, "!~"):
		return c.regexTest(n, opNotRe, s[2:])
	case strings.HasPrefix(s, "~"):
		return c.regexTest(n, opRe, s[1:])
	case strings.HasPrefix(s, "!="):
		return test{op: opNe, s: s[2:]}, true
	case strings.HasPrefix(s, "="):
		return test{op: opEq, s: s[1:]}, true
	}
	return test{op: opEq, s: s}, true
}

func (c *compiler) explicit(q pair, what string) (test, bool) {
	switch q.key {
	case "equals", "not_equals", "regex", "not_regex":
		s, ok := c.ps.scalar(q.v, what+"."+q.key)
		if !ok {
			return test{}, false
		}
		switch q.key {
		case "equals":
			return test{op: opEq, s: s}, true
		case "not_equals":
			return test{op: opNe, s: s}, true
		case "regex":
			return c.regexTest(q.v, opRe, s)
		default:
			return c.regexTest(q.v, opNotRe, s)
		}
	case "present", "absent":
		b, ok := c.ps.boolean(q.v, what+"."+q.key)
		if !ok {
			return test{}, false
		}
		if b == (q.key == "present") {
			return test{op: opPresent}, true
		}
		return test{op: opAbsent}, true
	}
	c.ps.errorf(q.kn, "%s: unknown test %q (equals, not_equals, regex, not_regex, present, absent)", what, q.key)
	return test{}, false
}

func (c *compiler) regexTest(n *yaml.Node, o op, expr string) (test, bool) {
	re, err := regexp.Compile(expr)
	if err != nil {
		c.ps.errorf(n, "bad regex %q: %v", expr, unwrapRegexErr(err))
		return test{}, false
	}
	t := test{op: o, re: re, caps: hasNames(re), pre: newPrefilter(expr)}
	c.usesCaps = c.usesCaps || t.caps
	return t, true
}

func unwrapRegexErr(err error) string {
	var e *syntax.Error
	if errors.As(err, &e) {
		return e.Code.String() + ": `" + e.Expr + "`"
	}
	return err.Error()
}

func hasNames(re *regexp.Regexp) bool {
	for _, n := range re.SubexpNames() {
		if n != "" {
			return true
		}
	}
	return false
}

func fieldNames() string {
	return strings.Join(slices.Sorted(maps.Keys(fields)), ", ")
}

// closedValues are the when: fields whose values come from a fixed set: an
// equality test against anything else never matches (kind: mial), or
// always does with !=, so it is refused.
var closedValues = map[string][]string{
	"kind":   eventKinds,
	"status": {"firing", "resolved"}, // Alertmanager's and Grafana's notification status
}

// checkClosed refuses equality tests of a closed-set field whose value is
// not in the set. Regex tests are left alone.
func (c *compiler) checkClosed(key string, n *yaml.Node) {
	set := closedValues[key]
	if key == "source" {
		set = c.sources
	}
	if set == nil {
		return
	}
	check := func(item *yaml.Node, s string) {
		if slices.Contains(set, s) {
			return
		}
		hint := ""
		for _, v := range set {
			if strings.EqualFold(v, s) || editDistance(v, strings.ToLower(s)) <= 2 {
				hint = fmt.Sprintf(" (did you mean %q?)", v)
				break
			}
		}
		known := "one of " + strings.Join(set, ", ")
		if len(set) == 0 {
			known = "none is configured"
		}
		c.ps.errorf(item, "%s: unknown %s %q%s; %s", key, key, s, hint, known)
	}
	shorthand := func(item *yaml.Node) {
		item = resolve(item)
		if item == nil || item.Kind != yaml.ScalarNode || strings.HasPrefix(item.Value, "~") || strings.HasPrefix(item.Value, "!~") {
			return
		}
		s := strings.TrimPrefix(strings.TrimPrefix(item.Value, "!="), "=")
		if s != item.Value && (strings.HasPrefix(s, "~") || strings.HasPrefix(s, "!")) {
			return // "=~x" is the escape for a literal "~x": written on purpose
		}
		check(item, s)
	}
	n = resolve(n)
	switch {
	case n == nil:
	case n.Kind == yaml.ScalarNode:
		shorthand(n)
	case n.Kind == yaml.SequenceNode:
		for _, item := range n.Content {
			shorthand(item)
		}
	case n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i].Value; k == "equals" || k == "not_equals" {
				if v := resolve(n.Content[i+1]); v != nil && v.Kind == yaml.ScalarNode {
					check(v, v.Value)
				}
			}
		}
	}
}

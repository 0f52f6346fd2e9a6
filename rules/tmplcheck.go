package rules

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"text/template/parse"

	"gopkg.in/yaml.v3"
)

// Static checks of template field references (issue 3): a misspelt
// {{ .Subjct }} is reported by `rtbridge check`, not by the first event.
// Only chains on the root data are checked (.X where dot is the root, and
// $.X): inside with/range dot changes, and map values (.CommonLabels.x,
// .JSON.x) have no fixed keys.

// kindOnly names the Data fields a single kind of event fills; every other
// field is common (TestKindOnlyCoversData keeps this in step with Data).
var kindOnly = map[string][]string{
	"mail": {"From", "FromName", "FromFull", "To", "Cc", "ReplyTo", "Subject", "MessageID", "InReplyTo",
		"References", "Date", "Body", "HTML", "Header", "Headers", "Attachments", "ParseProblems", "MTA"},
	"alert": {"Status", "Receiver", "GroupKey", "GroupLabels", "CommonLabels", "CommonAnnotations",
		"ExternalURL", "Alerts", "TruncatedAlerts", "OrgID", "Title", "State", "Message"},
	"json": {"JSON", "RequestHeader", "Path"},
}

// eventKinds are the values of the when: kind condition.
var eventKinds = []string{"mail", "alertmanager", "grafana", "json"}

// fieldKind returns which kindOnly group fills name ("" for common fields).
func fieldKind(name string) string {
	for k, names := range kindOnly {
		if slices.Contains(names, name) {
			return k
		}
	}
	return ""
}

// ruleKinds returns the event kinds a rule's top-level `kind:` condition
// allows, or nil when it does not restrict them plainly.
func ruleKinds(when *yaml.Node) []string {
	vals := whenEquals(when, "kind")
	for _, s := range vals {
		if !slices.Contains(eventKinds, s) {
			return nil
		}
	}
	return vals
}

// whenEquals returns the values a rule's top-level condition on key
// allows when it is plain equality (a value, a list of values, or
// {equals: v}), or nil when the key is absent or tested otherwise.
func whenEquals(when *yaml.Node, key string) []string {
	when = resolve(when)
	if when == nil || when.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(when.Content); i += 2 {
		if when.Content[i].Value != key {
			continue
		}
		v := resolve(when.Content[i+1])
		var vals []*yaml.Node
		switch {
		case v == nil:
			return nil
		case v.Kind == yaml.ScalarNode:
			vals = []*yaml.Node{v}
		case v.Kind == yaml.SequenceNode:
			vals = v.Content
		case v.Kind == yaml.MappingNode && len(v.Content) == 2 && v.Content[0].Value == "equals":
			vals = []*yaml.Node{v.Content[1]}
		default:
			return nil
		}
		var out []string
		for _, n := range vals {
			n = resolve(n)
			if n == nil || n.Kind != yaml.ScalarNode {
				return nil
			}
			s := n.Value
			if strings.HasPrefix(s, "~") || strings.HasPrefix(s, "!") {
				return nil // a regex or a negation: not a plain set
			}
			out = append(out, strings.TrimPrefix(s, "="))
		}
		return out
	}
	return nil
}

// kindAllows reports whether a field of group g is filled for some kind in kinds.
func kindAllows(kinds []string, g string) bool {
	if g == "" || kinds == nil {
		return true
	}
	for _, k := range kinds {
		if k == g || g == "alert" && (k == "alertmanager" || k == "grafana") {
			return true
		}
	}
	return false
}

// fieldRef is one checked reference: the chain, its text ("$.X.Y" or
// ".X.Y") and the parser's position (which may point at its last element).
type fieldRef struct {
	chain []string
	text  string
	pos   parse.Pos
}

// offset finds where r starts in src: the last occurrence of its text
// that ends no later than the parser's position allows.
func (r fieldRef) offset(src string) int {
	end := min(len(src), int(r.pos)+len(r.text)+1)
	if end < 0 {
		return -1
	}
	return strings.LastIndex(src[:end], r.text)
}

// tmplCall is a {{ template }} call and whether it passes the root data.
type tmplCall struct {
	name string
	root bool
}

// rootRefs walks a template tree and returns the field chains evaluated on
// the root data, and its {{ template }} calls.
func rootRefs(tree *parse.Tree) (refs []fieldRef, calls []tmplCall) {
	var walk func(n parse.Node, root bool)
	isRoot := func(p *parse.PipeNode, root bool) bool {
		if p == nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
			return false
		}
		switch a := p.Cmds[0].Args[0].(type) {
		case *parse.DotNode:
			return root
		case *parse.VariableNode:
			return len(a.Ident) == 1 && a.Ident[0] == "$"
		}
		return false
	}
	walk = func(n parse.Node, root bool) {
		switch x := n.(type) {
		case *parse.ListNode:
			if x == nil {
				return
			}
			for _, c := range x.Nodes {
				walk(c, root)
			}
		case *parse.ActionNode:
			walk(x.Pipe, root)
		case *parse.PipeNode:
			if x == nil {
				return
			}
			for _, c := range x.Cmds {
				walk(c, root)
			}
		case *parse.CommandNode:
			for _, a := range x.Args {
				walk(a, root)
			}
		case *parse.ChainNode:
			walk(x.Node, root)
		case *parse.FieldNode:
			if root {
				refs = append(refs, fieldRef{x.Ident, "." + strings.Join(x.Ident, "."), x.Pos})
			}
		case *parse.VariableNode:
			if len(x.Ident) > 1 && x.Ident[0] == "$" {
				refs = append(refs, fieldRef{x.Ident[1:], strings.Join(x.Ident, "."), x.Pos})
			}
		case *parse.IfNode:
			walk(x.Pipe, root)
			walk(x.List, root)
			walk(x.ElseList, root)
		case *parse.WithNode:
			walk(x.Pipe, root)
			walk(x.List, false)
			walk(x.ElseList, root)
		case *parse.RangeNode:
			walk(x.Pipe, root)
			walk(x.List, false)
			walk(x.ElseList, root)
		case *parse.TemplateNode:
			walk(x.Pipe, root)
			calls = append(calls, tmplCall{x.Name, isRoot(x.Pipe, root)})
		}
	}
	walk(tree.Root, true)
	return refs, calls
}

// checkChain follows chain through Data's struct types and returns a
// message for the first name that is neither a field nor a method.
func checkChain(chain []string, kinds []string) string {
	t := reflect.TypeFor[Data]()
	for i, name := range chain {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if _, ok := reflect.PointerTo(t).MethodByName(name); ok {
			return "" // a method's result is not followed further
		}
		if t.Kind() != reflect.Struct {
			return "" // a map, slice or any: keys are data
		}
		f, ok := t.FieldByName(name)
		if !ok || !f.IsExported() {
			ref := "." + strings.Join(chain[:i+1], ".")
			if s := suggest(name, t); s != "" {
				return fmt.Sprintf("unknown field %s (did you mean .%s?)", ref, strings.Join(append(slices.Clone(chain[:i]), s), "."))
			}
			return "unknown field " + ref
		}
		if i == 0 && !kindAllows(kinds, fieldKind(name)) {
			return fmt.Sprintf(".%s is never set for %s events (the rule matches kind: %s)", name, strings.Join(kinds, ", "), strings.Join(kinds, ", "))
		}
		t = f.Type
	}
	return ""
}

// suggest returns the field or method of t closest to name, if close.
func suggest(name string, t reflect.Type) string {
	var cands []string
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).IsExported() {
			cands = append(cands, t.Field(i).Name)
		}
	}
	pt := reflect.PointerTo(t)
	for i := 0; i < pt.NumMethod(); i++ {
		cands = append(cands, pt.Method(i).Name)
	}
	best, bestD := "", 3
	for _, c := range cands {
		if strings.EqualFold(c, name) {
			return c
		}
		if d := editDistance(strings.ToLower(c), strings.ToLower(name)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// refNode returns a node positioned at byte off of the template in scalar
// n, when the scalar's text is the template verbatim on one line; else n.
func refNode(n *yaml.Node, src string, off int) *yaml.Node {
	if n == nil || strings.Contains(src, "\n") || off < 0 || off > len(src) {
		return n
	}
	col := n.Column + off
	switch n.Style {
	case 0:
	case yaml.SingleQuotedStyle:
		if strings.Contains(src, "'") {
			return n
		}
		col++
	case yaml.DoubleQuotedStyle:
		if strings.ContainsAny(src, `"\`) {
			return n
		}
		col++
	default:
		return n
	}
	return &yaml.Node{Line: n.Line, Column: col}
}

// checkFields reports the unknown root field references of a template
// parsed from scalar n; what names it in the message.
func (c *compiler) checkFields(n *yaml.Node, src string, tree *parse.Tree, kinds []string, what string) {
	refs, _ := rootRefs(tree)
	for _, r := range refs {
		if msg := checkChain(r.chain, kinds); msg != "" {
			c.ps.errorf(refNode(n, src, r.offset(src)), "template %s: %s", what, msg)
		}
	}
}

// checkNamedTemplates checks the templates: section once every caller is
// known: a named template is checked against Data only when every
// {{ template }} call of it passes the root data (else its dot is unknown).
func (c *compiler) checkNamedTemplates() {
	root := map[string]bool{}
	for name := range c.namedSrc {
		root[name] = true
	}
	for changed := true; changed; {
		changed = false
		for _, t := range c.root.Templates() {
			if t.Tree == nil {
				continue
			}
			_, named := c.named[t.Name()]
			callerRoot := !named || root[t.Name()]
			_, calls := rootRefs(t.Tree)
			for _, call := range calls {
				if (!call.root || !callerRoot) && root[call.name] {
					root[call.name], changed = false, true
				}
			}
		}
	}
	rule := c.ps.rule
	c.ps.rule = ""
	defer func() { c.ps.rule = rule }()
	for _, name := range slices.Sorted(maps.Keys(c.namedSrc)) {
		t := c.root.Lookup(name)
		if !root[name] || t == nil || t.Tree == nil {
			continue
		}
		n := c.namedSrc[name]
		c.checkFields(n, n.Value, t.Tree, nil, fmt.Sprintf("%q", name))
	}
}

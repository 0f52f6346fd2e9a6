package rules

import (
	"errors"
	"fmt"
	"strings"

	"github.com/rtbridge/rtbridge/rules/templates"
	"gopkg.in/yaml.v3"
)

// Problem is one finding of Compile, positioned in the config file.
type Problem struct {
	File    string
	Line    int
	Col     int
	Rule    string // rule name, "" outside a rule (e.g. a named template)
	Msg     string
	Warning bool // a warning does not stop the rule set from loading
}

func (p Problem) String() string {
	var b strings.Builder
	if p.File != "" {
		b.WriteString(p.File)
		b.WriteByte(':')
	}
	fmt.Fprintf(&b, "%d:%d: ", p.Line, p.Col)
	if p.Warning {
		b.WriteString("warning: ")
	}
	if p.Rule != "" {
		fmt.Fprintf(&b, "rule %q: ", p.Rule)
	}
	b.WriteString(p.Msg)
	return b.String()
}

// CompileError is every error Compile found (warnings are on the RuleSet).
type CompileError struct {
	Problems []Problem
}

func (e *CompileError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// ErrNoTicket is returned by Evaluate when a step needs a ticket that
// neither the ledger nor an earlier step provides.
var ErrNoTicket = errors.New("rules: step has no ticket to act on")

// ErrRender is wrapped by Evaluate's errors when a template fails at run
// time (a missing key, a value that is not a number, …).
var ErrRender = templates.ErrRender

// problems collects findings while compiling; rule is the rule in progress.
type problems struct {
	file string
	rule string
	list []Problem
}

func (ps *problems) add(n *yaml.Node, warn bool, format string, args ...any) {
	p := Problem{File: ps.file, Rule: ps.rule, Msg: fmt.Sprintf(format, args...), Warning: warn}
	if n != nil {
		p.Line, p.Col = n.Line, n.Column
	}
	ps.list = append(ps.list, p)
}

func (ps *problems) errorf(n *yaml.Node, format string, args ...any) {
	ps.add(n, false, format, args...)
}

func (ps *problems) warnf(n *yaml.Node, format string, args ...any) {
	ps.add(n, true, format, args...)
}

func (ps *problems) errors() []Problem {
	var out []Problem
	for _, p := range ps.list {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

func (ps *problems) warnings() []Problem {
	var out []Problem
	for _, p := range ps.list {
		if p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// resolve follows aliases and document nodes so callers see the value.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && (n.Kind == yaml.AliasNode || n.Kind == yaml.DocumentNode) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		} else if len(n.Content) > 0 {
			n = n.Content[0]
		} else {
			return nil
		}
	}
	return n
}

// isNull reports whether n is absent or an explicit null.
func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || n.Kind == 0 || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// pair is one key/value of a mapping node.
type pair struct {
	key   string
	kn, v *yaml.Node
}

// mapping returns the pairs of a mapping node, reporting a non-mapping and
// duplicate keys.
func (ps *problems) mapping(n *yaml.Node, what string) ([]pair, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		ps.errorf(n, "%s must be a mapping", what)
		return nil, false
	}
	seen := make(map[string]bool, len(n.Content)/2)
	out := make([]pair, 0, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := resolve(n.Content[i])
		if k == nil || k.Kind != yaml.ScalarNode {
			ps.errorf(n.Content[i], "%s: keys must be strings", what)
			continue
		}
		if seen[k.Value] {
			ps.errorf(k, "%s: duplicate key %q", what, k.Value)
			continue
		}
		seen[k.Value] = true
		out = append(out, pair{k.Value, k, resolve(n.Content[i+1])})
	}
	return out, true
}

// scalar returns the text of a scalar node.
func (ps *problems) scalar(n *yaml.Node, what string) (string, bool) {
	n = resolve(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		ps.errorf(n, "%s must be a single value", what)
		return "", false
	}
	if n.Tag == "!!null" {
		return "", true
	}
	return n.Value, true
}

// scalars accepts one scalar or a sequence of scalars.
func (ps *problems) scalars(n *yaml.Node, what string) ([]string, []*yaml.Node, bool) {
	n = resolve(n)
	if n != nil && n.Kind == yaml.SequenceNode {
		var out []string
		var nodes []*yaml.Node
		ok := true
		for _, c := range n.Content {
			s, good := ps.scalar(c, what)
			ok = ok && good
			out = append(out, s)
			nodes = append(nodes, resolve(c))
		}
		return out, nodes, ok
	}
	s, ok := ps.scalar(n, what)
	return []string{s}, []*yaml.Node{n}, ok
}

func (ps *problems) boolean(n *yaml.Node, what string) (bool, bool) {
	n = resolve(n)
	var b bool
	if n == nil || n.Kind != yaml.ScalarNode || n.Decode(&b) != nil {
		ps.errorf(n, "%s must be true or false", what)
		return false, false
	}
	return b, true
}

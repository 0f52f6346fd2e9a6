package rules

import (
	"fmt"
	"strings"
	"text/template"

	"github.com/rtbridge/rtbridge/rules/templates"
	"gopkg.in/yaml.v3"
)

// Source is what Compile reads: the rules and templates sections of the
// config file (either may be nil), and the file name for positions.
type Source struct {
	File      string
	Rules     *yaml.Node
	Templates *yaml.Node
	NoMatch   *yaml.Node // the top-level no_match: setting (nomatch.go)
	// Sources are the configured source names; when not nil, a `source:`
	// equality test naming none of them is an error (it would never match).
	Sources []string
	// Deliver maps each mail source to how its mail reaches RT when a rule
	// does not say (deliver: rest or gateway); nil when not known, which
	// skips the checks that need it.
	Deliver map[string]string
	// GatewayProblem, when set, says why RT's mail gateway cannot be used
	// (e.g. rt.auth cannot search RT over REST2 for a post nobody
	// answered): a rule saying deliver: gateway is refused with it.
	GatewayProblem string
}

// RuleSet is a compiled, immutable rule set: safe for concurrent use, and
// swapped whole by the daemon on reload.
type RuleSet struct {
	rules    []*rule
	defaults *defaults
	index    *ruleIndex // candidate rules by kind and source (matchindex.go)
	noMatch  *noMatch   // what an event no rule matches gets (nomatch.go)
	warnings []Problem
	storm    *stormCounter     // alert rules' new tickets per minute (alert_describe.go)
	deliver  map[string]string // Source.Deliver (gateway.go)
}

// Warnings returns what Compile found suspicious but accepted (e.g. a rule
// that can never match because a catch-all precedes it).
func (rs *RuleSet) Warnings() []Problem { return rs.warnings }

// Len returns the number of rules.
func (rs *RuleSet) Len() int { return len(rs.rules) }

// Summaries returns one line per rule, for `rtbridge check -v`.
func (rs *RuleSet) Summaries() []string {
	out := make([]string, len(rs.rules))
	for i, r := range rs.rules {
		out[i] = fmt.Sprintf("%d:%d: rule %q: %s", r.line, r.col, r.name, r.summary())
	}
	return out
}

type rule struct {
	name      string
	line, col int
	when      cond // nil matches every event
	whenSrc   []string
	usesCaps  bool
	key       *templates.Template
	thread    bool
	cont      bool
	skipReps  bool
	do        []*stepSpec
	ifExists  []*stepSpec
	ifMissing []*stepSpec
	alert     *alertSpec // the alert lifecycle (alert_*.go), nil for a plain rule
	// deliver is the rule's deliver: ("" takes the source's; gateway.go).
	deliver     string
	deliverNode *yaml.Node
}

func (r *rule) summary() string {
	var b strings.Builder
	if r.when == nil {
		b.WriteString("every event")
	} else {
		b.WriteString("when " + strings.Join(r.whenSrc, ", "))
	}
	if r.key != nil {
		fmt.Fprintf(&b, "; key %q", r.key.Src)
	}
	if r.thread {
		b.WriteString("; threads mail")
	}
	if r.deliver != "" {
		b.WriteString("; deliver " + r.deliver)
	}
	list := func(name string, steps []*stepSpec) {
		if len(steps) == 0 {
			return
		}
		acts := make([]string, len(steps))
		for i, s := range steps {
			acts[i] = s.kind
		}
		fmt.Fprintf(&b, "; %s: %s", name, strings.Join(acts, ", "))
	}
	list("if_exists", r.ifExists)
	list("if_missing", r.ifMissing)
	list("do", r.do)
	if r.alert != nil {
		fmt.Fprintf(&b, "; alert lifecycle per %s", r.alert.granularity)
	}
	if r.cont {
		b.WriteString("; continue")
	}
	return b.String()
}

// compiler holds the state of one Compile call.
type compiler struct {
	ps       problems
	root     *template.Template
	named    map[string]*yaml.Node
	seq      int
	usesCaps bool // set by regex tests of the rule being compiled
	// namedSrc holds the value node of each templates: entry that parsed,
	// for the field check once all callers are known (tmplcheck.go).
	namedSrc map[string]*yaml.Node
	// kinds are the event kinds the rule being compiled can match (nil:
	// any), for the template field check.
	kinds []string
	// sources are Source.Sources, the closed set of `source:` values.
	sources []string
	// deliver and gatewayProblem are Source.Deliver and GatewayProblem.
	deliver        map[string]string
	gatewayProblem string
}

// Compile checks and compiles a rule set, reporting every problem it finds
// (not just the first) as a *CompileError.
func Compile(src Source) (*RuleSet, error) {
	c := &compiler{ps: problems{file: src.File}, named: map[string]*yaml.Node{}, namedSrc: map[string]*yaml.Node{}, sources: src.Sources,
		deliver: src.Deliver, gatewayProblem: src.GatewayProblem}
	c.root = templates.NewRoot()
	c.compileTemplates(src.Templates)
	rs := &RuleSet{defaults: c.compileDefaults(), storm: &stormCounter{}, deliver: src.Deliver}
	if !isNull(src.Rules) {
		n := resolve(src.Rules)
		if n.Kind != yaml.SequenceNode {
			c.ps.errorf(n, "rules must be a list")
		} else {
			rs.rules = c.compileRules(n)
		}
	}
	rs.noMatch = c.compileNoMatch(src, rs.rules)
	c.checkNamedTemplates()
	rs.index = buildIndex(rs.rules)
	if errs := c.ps.errors(); len(errs) > 0 {
		return nil, &CompileError{Problems: errs}
	}
	rs.warnings = c.ps.warnings()
	return rs, nil
}

func (c *compiler) compileTemplates(n *yaml.Node) {
	if isNull(n) {
		return
	}
	pairs, ok := c.ps.mapping(n, "templates")
	if !ok {
		return
	}
	for _, p := range pairs {
		c.named[p.key] = p.kn
	}
	for _, p := range pairs {
		src, ok := c.ps.scalar(p.v, "template "+p.key)
		if !ok {
			continue
		}
		before := len(c.root.Templates())
		t, err := c.root.New(p.key).Parse(src)
		if err != nil {
			c.ps.errorf(p.v, "template %q: %v", p.key, templates.CleanErr(err, p.key))
			continue
		}
		if len(c.root.Templates()) != before+1 {
			c.ps.errorf(p.v, "template %q: define/block are not needed here: each entry is one named template", p.key)
			continue
		}
		for _, ref := range templates.Refs(t.Tree.Root) {
			if c.named[ref] == nil {
				c.ps.errorf(p.v, "template %q calls unknown template %q", p.key, ref)
			}
		}
		c.namedSrc[p.key] = resolve(p.v)
		templates.InsertTicks(t.Tree.Root, true)
	}
}

func (c *compiler) compileRules(n *yaml.Node) []*rule {
	var out []*rule
	names := map[string]bool{}
	var catchAll *rule
	for _, item := range n.Content {
		item = resolve(item)
		c.ps.rule = ""
		r := c.compileRule(item)
		if r == nil {
			continue
		}
		if names[r.name] {
			c.ps.errorf(item, "duplicate rule name %q", r.name)
		}
		names[r.name] = true
		if catchAll != nil {
			c.ps.rule = r.name
			c.ps.warnf(item, "can never match: rule %q before it matches every event and does not continue", catchAll.name)
		}
		if r.when == nil && !r.cont && catchAll == nil {
			catchAll = r
		}
		out = append(out, r)
	}
	c.ps.rule = ""
	return out
}

const ruleKeyNames = "name, description, when, key, thread, continue, skip_repeats, deliver, do, if_exists, if_missing, alert"

func (c *compiler) compileRule(n *yaml.Node) *rule {
	pairs, ok := c.ps.mapping(n, "rule")
	if !ok {
		return nil
	}
	r := &rule{line: n.Line, col: n.Column}
	for _, p := range pairs {
		if p.key == "name" {
			r.name, _ = c.ps.scalar(p.v, "name")
		}
	}
	if r.name == "" {
		c.ps.errorf(n, "rule without a name")
		r.name = fmt.Sprintf("#%d:%d", n.Line, n.Column)
	}
	c.ps.rule = r.name
	c.usesCaps = false
	c.kinds = nil
	for _, p := range pairs {
		if p.key == "when" {
			c.kinds = ruleKinds(p.v)
		}
	}
	defer func() { c.kinds = nil }()
	for _, p := range pairs {
		switch p.key {
		case "name", "description":
		case "when":
			if !isNull(p.v) {
				r.when = c.compileWhen(p.v)
				r.whenSrc = whenSummary(p.v)
				if r.when == nil {
					r.when = allCond(nil) // keep the rule from looking like a catch-all
				}
			}
		case "key":
			r.key = c.compileTmpl(p.v, "key")
		case "thread":
			r.thread, _ = c.ps.boolean(p.v, "thread")
		case "continue":
			r.cont, _ = c.ps.boolean(p.v, "continue")
		case "skip_repeats":
			r.skipReps, _ = c.ps.boolean(p.v, "skip_repeats")
		case "deliver":
			r.deliver, r.deliverNode = c.compileDeliver(p.v), p.v
		case "do":
			r.do = c.compileSteps(p.v, "do")
		case "if_exists":
			r.ifExists = c.compileSteps(p.v, "if_exists")
		case "if_missing":
			r.ifMissing = c.compileSteps(p.v, "if_missing")
		case "alert":
			r.alert = c.compileAlert(p.v)
		default:
			c.ps.errorf(p.kn, "unknown key %q (rule keys: %s)", p.key, ruleKeyNames)
		}
	}
	r.usesCaps = c.usesCaps
	hasSteps := false
	for _, p := range pairs {
		hasSteps = hasSteps || p.key == "do" || p.key == "if_exists" || p.key == "if_missing"
		if p.key == "alert" {
			c.checkAlertRule(n, r, pairs)
			hasSteps = true
		}
	}
	if !hasSteps {
		c.ps.errorf(n, "rule has no steps: give do:, if_exists: or if_missing:")
	}
	if (len(r.ifExists) > 0 || len(r.ifMissing) > 0) && r.key == nil && !r.thread {
		c.ps.errorf(n, "if_exists/if_missing need a key: or thread: true to look up")
	}
	if r.skipReps && r.key == nil {
		c.ps.errorf(n, "skip_repeats needs a key:")
	}
	c.checkTargets(r)
	var when *yaml.Node
	for _, p := range pairs {
		if p.key == "when" {
			when = p.v
		}
	}
	if r.alert == nil {
		c.checkDeliver(r, when)
	} else if r.deliver != "" {
		c.ps.errorf(r.deliverNode, "deliver: an alert rule files no mail")
	}
	return r
}

// checkTargets refuses a step that can have no ticket: a comment, link or
// edit without ticket:/key:, in a rule without key or thread, before any
// create.
func (c *compiler) checkTargets(r *rule) {
	hasKey := r.key != nil || r.thread
	check := func(steps []*stepSpec, created bool) {
		for _, s := range steps {
			if s.kind == "create" {
				created = true
			}
			if s.needsTicket() && s.ticket == nil && s.tkey == nil && !hasKey && !created {
				c.ps.errorf(s.node, "%s has no ticket: give ticket: or key:, a rule key:, or an earlier create", s.kind)
			}
		}
	}
	check(r.ifExists, false)
	check(r.ifMissing, false)
	check(r.do, false)
}

// whenSummary is a compact text of a when: mapping for check -v.
func whenSummary(n *yaml.Node) []string {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	var out []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		v := resolve(n.Content[i+1])
		s := "…"
		if v != nil && v.Kind == yaml.ScalarNode {
			s = v.Value
		} else if b, err := yaml.Marshal(v); err == nil {
			s = strings.Join(strings.Fields(string(b)), " ")
		}
		out = append(out, n.Content[i].Value+"="+templates.TruncateRunes(s, 60))
	}
	return out
}

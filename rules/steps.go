package rules

import (
	"path"
	"strings"

	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rules/templates"
	"gopkg.in/yaml.v3"
)

// stepSpec is one compiled step of a rule.
type stepSpec struct {
	kind string // create, comment, correspond, link, unlink, edit, ignore
	node *yaml.Node

	ticket *templates.Template // target ticket id (comment, correspond, link, unlink, edit)
	tkey   *templates.Template // target by correlation key
	key    *templates.Template // create: key to record the new ticket under

	create  *createSpec
	msg     *msgSpec
	link    *linkSpec
	edit    *editSpec
	reason  *templates.Template // ignore
	attach  plan.Attachments
	hasAtts bool
}

func (s *stepSpec) needsTicket() bool {
	switch s.kind {
	case "comment", "correspond", "link", "unlink", "edit":
		return true
	}
	return false
}

type createSpec struct {
	queue, subject, owner, status, text, contentType *templates.Template
	requestors, cc, adminCc                          []*templates.Template
	priority, initialPriority, finalPriority         *templates.Template
	timeWorked, timeEstimated, timeLeft              *templates.Template
	due, starts                                      *templates.Template
	cfs                                              []cfSpec
}

type cfSpec struct {
	name string
	vals []*templates.Template
}

type msgSpec struct {
	text, contentType, status, timeWorked *templates.Template
	cc, bcc                               []*templates.Template
}

type linkSpec struct {
	typ       plan.LinkType
	target    *templates.Template // id
	targetKey *templates.Template
	ifMissing *createSpec
}

type editSpec struct {
	fields                  []fieldSpec
	cfs                     []cfSpec
	requestors, cc, adminCc []*templates.Template
	setReq, setCc, setAdmin bool
}

type fieldSpec struct {
	name string
	val  *templates.Template
}

// linkTypes are the RT link types a rule may name (rtapi's set).
var linkTypes = []plan.LinkType{plan.DependsOn, plan.DependedOnBy, plan.RefersTo, plan.ReferredToBy, plan.MemberOf, plan.Members}

const actions = "create, comment, correspond, link, unlink, edit, ignore"

func (c *compiler) compileSteps(n *yaml.Node, what string) []*stepSpec {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		c.ps.errorf(n, "%s must be a list of steps", what)
		return nil
	}
	var out []*stepSpec
	for i, item := range n.Content {
		if s := c.compileStep(resolve(item)); s != nil {
			if s.kind == "ignore" && len(n.Content) > 1 {
				c.ps.errorf(item, "ignore must be the only step of %s", what)
			}
			out = append(out, s)
		}
		_ = i
	}
	return out
}

// compileStep compiles `{ ACTION: { … } }`: a mapping with exactly one key.
func (c *compiler) compileStep(n *yaml.Node) *stepSpec {
	pairs, ok := c.ps.mapping(n, "step")
	if !ok {
		return nil
	}
	if len(pairs) != 1 {
		c.ps.errorf(n, "a step is a mapping with exactly one action (%s)", actions)
		return nil
	}
	p := pairs[0]
	s := &stepSpec{kind: p.key, node: p.kn}
	switch p.key {
	case "ignore":
		s.reason = c.compileTmpl(p.v, "ignore")
		return s
	case "create", "comment", "correspond", "link", "unlink", "edit":
	default:
		c.ps.errorf(p.kn, "unknown action %q (actions: %s)", p.key, actions)
		return nil
	}
	body, ok := c.ps.mapping(p.v, p.key)
	if !ok {
		return nil
	}
	switch p.key {
	case "create":
		s.create = c.compileCreate(p.kn, body, "create", s)
	case "comment", "correspond":
		s.msg = c.compileMessage(body, p.key, s)
	case "link", "unlink":
		s.link = c.compileLink(p.kn, body, p.key, s)
	case "edit":
		s.edit = c.compileEdit(body, s)
	}
	return s
}

// common handles the keys every step kind may share; it reports whether
// key was one of them.
func (c *compiler) common(q pair, what string, s *stepSpec, target bool) bool {
	switch {
	case q.key == "attachments" && s.kind != "link" && s.kind != "unlink" && s.kind != "edit":
		s.attach, s.hasAtts = c.compileAttachments(q.v, what+".attachments"), true
	case q.key == "ticket" && target:
		s.ticket = c.compileTmpl(q.v, what+".ticket")
	case q.key == "key":
		if target {
			s.tkey = c.compileTmpl(q.v, what+".key")
		} else {
			s.key = c.compileTmpl(q.v, what+".key")
		}
	default:
		return false
	}
	if target && s.ticket != nil && s.tkey != nil {
		c.ps.errorf(q.kn, "%s: give ticket: or key:, not both", what)
	}
	return true
}

var createKeys = "queue, subject, text, content_type, requestor(s), cc, admin_cc, owner, status, priority, initial_priority, final_priority, time_worked, time_estimated, time_left, due, starts, custom_fields, attachments, key"

func (c *compiler) compileCreate(at *yaml.Node, body []pair, what string, s *stepSpec) *createSpec {
	cs := &createSpec{}
	for _, q := range body {
		if s != nil && c.common(q, what, s, false) {
			continue
		}
		f := what + "." + q.key
		switch q.key {
		case "queue":
			cs.queue = c.compileTmpl(q.v, f)
		case "subject":
			cs.subject = c.compileTmpl(q.v, f)
		case "text":
			cs.text = c.compileTmpl(q.v, f)
		case "content_type":
			cs.contentType = c.compileTmpl(q.v, f)
		case "owner":
			cs.owner = c.compileTmpl(q.v, f)
		case "status":
			cs.status = c.compileTmpl(q.v, f)
		case "requestor", "requestors":
			cs.requestors = append(cs.requestors, c.compileList(q.v, f)...)
		case "cc":
			cs.cc = c.compileList(q.v, f)
		case "admin_cc":
			cs.adminCc = c.compileList(q.v, f)
		case "priority":
			cs.priority = c.compileTmpl(q.v, f)
		case "initial_priority":
			cs.initialPriority = c.compileTmpl(q.v, f)
		case "final_priority":
			cs.finalPriority = c.compileTmpl(q.v, f)
		case "time_worked":
			cs.timeWorked = c.compileTmpl(q.v, f)
		case "time_estimated":
			cs.timeEstimated = c.compileTmpl(q.v, f)
		case "time_left":
			cs.timeLeft = c.compileTmpl(q.v, f)
		case "due":
			cs.due = c.compileTmpl(q.v, f)
		case "starts":
			cs.starts = c.compileTmpl(q.v, f)
		case "custom_fields":
			cs.cfs = c.compileCFs(q.v, f)
		default:
			c.ps.errorf(q.kn, "%s: unknown key %q (%s)", what, q.key, createKeys)
		}
	}
	if cs.queue == nil {
		c.ps.errorf(at, "%s: missing queue", what)
	}
	return cs
}

func (c *compiler) compileMessage(body []pair, what string, s *stepSpec) *msgSpec {
	ms := &msgSpec{}
	for _, q := range body {
		if c.common(q, what, s, true) {
			continue
		}
		f := what + "." + q.key
		switch q.key {
		case "text":
			ms.text = c.compileTmpl(q.v, f)
		case "content_type":
			ms.contentType = c.compileTmpl(q.v, f)
		case "status":
			ms.status = c.compileTmpl(q.v, f)
		case "time_worked":
			ms.timeWorked = c.compileTmpl(q.v, f)
		case "cc":
			ms.cc = c.compileList(q.v, f)
		case "bcc":
			ms.bcc = c.compileList(q.v, f)
		default:
			c.ps.errorf(q.kn, "%s: unknown key %q (ticket, key, text, content_type, cc, bcc, status, time_worked, attachments)", what, q.key)
		}
	}
	return ms
}

func (c *compiler) compileLink(at *yaml.Node, body []pair, what string, s *stepSpec) *linkSpec {
	ls := &linkSpec{}
	for _, q := range body {
		if c.common(q, what, s, true) {
			continue
		}
		f := what + "." + q.key
		switch q.key {
		case "type":
			v, _ := c.ps.scalar(q.v, f)
			for _, t := range linkTypes {
				if strings.EqualFold(v, string(t)) || strings.EqualFold(v, "HasMember") && t == plan.Members {
					ls.typ = t
				}
			}
			if ls.typ == "" {
				c.ps.errorf(q.v, "%s: unknown link type %q (DependsOn, DependedOnBy, RefersTo, ReferredToBy, MemberOf, Members)", what, v)
			}
		case "target":
			ls.target = c.compileTmpl(q.v, f)
		case "target_key":
			ls.targetKey = c.compileTmpl(q.v, f)
		case "create_if_missing":
			if what == "unlink" {
				c.ps.errorf(q.kn, "unlink: create_if_missing makes no sense")
				continue
			}
			body, ok := c.ps.mapping(q.v, f)
			if ok {
				ls.ifMissing = c.compileCreate(q.kn, body, f, nil)
			}
		default:
			c.ps.errorf(q.kn, "%s: unknown key %q (type, ticket, key, target, target_key, create_if_missing)", what, q.key)
		}
	}
	found := false
	for _, q := range body {
		found = found || q.key == "type"
	}
	if !found {
		c.ps.errorf(at, "%s: missing type", what)
	}
	if (ls.target == nil) == (ls.targetKey == nil) {
		c.ps.errorf(at, "%s: give exactly one of target: (a ticket id) and target_key:", what)
	}
	if ls.ifMissing != nil && ls.targetKey == nil {
		c.ps.errorf(at, "%s: create_if_missing needs target_key:", what)
	}
	return ls
}

func (c *compiler) compileEdit(body []pair, s *stepSpec) *editSpec {
	es := &editSpec{}
	for _, q := range body {
		if c.common(q, "edit", s, true) {
			continue
		}
		f := "edit." + q.key
		switch q.key {
		case "status", "subject", "owner", "queue", "priority", "due", "starts":
			es.fields = append(es.fields, fieldSpec{strings.ToUpper(q.key[:1]) + q.key[1:], c.compileTmpl(q.v, f)})
		case "fields":
			pairs, _ := c.ps.mapping(q.v, f)
			for _, fp := range pairs {
				es.fields = append(es.fields, fieldSpec{fp.key, c.compileTmpl(fp.v, f+"."+fp.key)})
			}
		case "custom_fields":
			es.cfs = c.compileCFs(q.v, f)
		case "requestors":
			es.requestors, es.setReq = c.compileList(q.v, f), true
		case "cc":
			es.cc, es.setCc = c.compileList(q.v, f), true
		case "admin_cc":
			es.adminCc, es.setAdmin = c.compileList(q.v, f), true
		default:
			c.ps.errorf(q.kn, "edit: unknown key %q (ticket, key, status, subject, owner, queue, priority, due, starts, fields, custom_fields, requestors, cc, admin_cc)", q.key)
		}
	}
	return es
}

// compileList compiles one template or a list of them.
func (c *compiler) compileList(n *yaml.Node, what string) []*templates.Template {
	n = resolve(n)
	if n != nil && n.Kind == yaml.SequenceNode {
		var out []*templates.Template
		for _, item := range n.Content {
			if t := c.compileTmpl(item, what); t != nil {
				out = append(out, t)
			}
		}
		return out
	}
	if t := c.compileTmpl(n, what); t != nil {
		return []*templates.Template{t}
	}
	return nil
}

func (c *compiler) compileCFs(n *yaml.Node, what string) []cfSpec {
	pairs, _ := c.ps.mapping(n, what)
	var out []cfSpec
	for _, p := range pairs {
		out = append(out, cfSpec{name: p.key, vals: c.compileList(p.v, what+"."+p.key)})
	}
	return out
}

// compileAttachments accepts all, none, a list of file-name patterns, or a
// mapping {names, types, original}.
func (c *compiler) compileAttachments(n *yaml.Node, what string) plan.Attachments {
	n = resolve(n)
	var a plan.Attachments
	switch {
	case n != nil && n.Kind == yaml.ScalarNode:
		switch n.Value {
		case "all":
			a.All = true
		case "none":
		default:
			c.ps.errorf(n, "%s: want all, none, a list of file-name patterns, or {names, types, original}", what)
		}
	case n != nil && n.Kind == yaml.SequenceNode:
		a.Names = c.patterns(n, what)
	default:
		pairs, _ := c.ps.mapping(n, what)
		for _, p := range pairs {
			switch p.key {
			case "names":
				a.Names = c.patterns(p.v, what+".names")
			case "types":
				a.Types = c.patterns(p.v, what+".types")
			case "original":
				a.Original, _ = c.ps.boolean(p.v, what+".original")
			default:
				c.ps.errorf(p.kn, "%s: unknown key %q (names, types, original)", what, p.key)
			}
		}
	}
	return a
}

func (c *compiler) patterns(n *yaml.Node, what string) []string {
	strs, nodes, _ := c.ps.scalars(n, what)
	for i, s := range strs {
		if _, err := path.Match(s, ""); err != nil {
			c.ps.errorf(nodes[i], "%s: bad pattern %q: %v", what, s, err)
		}
	}
	return strs
}

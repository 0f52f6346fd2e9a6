package rules

import (
	"strconv"
	"strings"
	"time"

	"github.com/rtbridge/rtbridge/rules/lifecycle"
	"github.com/rtbridge/rtbridge/rules/templates"
	"gopkg.in/yaml.v3"
)

// Granularity says what one alert ticket stands for.
type Granularity string

// Granularities of an alert: block.
const (
	PerGroup Granularity = "group" // one ticket per Alertmanager group (default)
	PerAlert Granularity = "alert" // one ticket per alert fingerprint
	PerKey   Granularity = "key"   // one ticket per key the rule renders for each alert
)

// alertSpec is a compiled alert: block: the lifecycle policy of one rule.
type alertSpec struct {
	granularity Granularity
	create      *createSpec
	update      []string // create fields an update also sets: subject, priority, custom_fields.X, …
	life        lifecycle.Policy
	stormLimit  int
	stormKey    *templates.Template
	stormCreate *createSpec // nil: the alert's own create fields
	links       []alertLink
}

// alertLink is a link every alert ticket of the rule gets on create and
// reopen, and optionally loses on resolution.
type alertLink struct {
	spec            *stepSpec // a compiled link step (type, target/target_key, create_if_missing)
	unlinkOnResolve bool
}

const alertKeyNames = "granularity, create, update, resolve_status, reopen_within, reopen_status, never_reopen, storm_limit, storm_ticket, links"

// updatable are the create fields an update may set again (update:).
var updatable = map[string]string{
	"subject": "Subject", "priority": "Priority", "owner": "Owner", "queue": "Queue", "status": "Status",
	"due": "Due", "starts": "Starts", "initial_priority": "InitialPriority", "final_priority": "FinalPriority",
}

func (c *compiler) compileAlert(n *yaml.Node) *alertSpec {
	pairs, ok := c.ps.mapping(n, "alert")
	if !ok {
		return nil
	}
	a := &alertSpec{granularity: PerGroup, life: lifecycle.Policy{ReopenStatus: "open"}}
	for _, p := range pairs {
		f := "alert." + p.key
		switch p.key {
		case "granularity":
			v, _ := c.ps.scalar(p.v, f)
			switch g := Granularity(v); g {
			case PerGroup, PerAlert, PerKey:
				a.granularity = g
			default:
				c.ps.errorf(p.v, "%s: %q is not one of group, alert, key", f, v)
			}
		case "create":
			if body, ok := c.ps.mapping(p.v, f); ok {
				a.create = c.compileCreate(p.kn, body, f, nil)
			}
		case "update":
			names, nodes, _ := c.ps.scalars(p.v, f)
			for i, name := range names {
				if _, ok := updatable[name]; !ok && !strings.HasPrefix(name, "custom_fields.") && name != "custom_fields" {
					c.ps.errorf(nodes[i], "%s: %q cannot be updated (subject, priority, owner, queue, status, due, starts, initial_priority, final_priority, custom_fields, custom_fields.NAME)", f, name)
					continue
				}
				a.update = append(a.update, name)
			}
		case "resolve_status":
			a.life.ResolveStatus, _ = c.ps.scalar(p.v, f)
		case "reopen_status":
			a.life.ReopenStatus, _ = c.ps.scalar(p.v, f)
		case "reopen_within":
			a.life.ReopenWithin = c.duration(p.v, f)
		case "never_reopen":
			a.life.NeverReopen, _, _ = c.ps.scalars(p.v, f)
		case "storm_limit":
			v, _ := c.ps.scalar(p.v, f)
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				c.ps.errorf(p.v, "%s: %q is not a number of tickets per minute", f, v)
			}
			a.stormLimit = n
		case "storm_ticket":
			c.compileStormTicket(p, a)
		case "links":
			a.links = c.compileAlertLinks(p.v, f)
		default:
			c.ps.errorf(p.kn, "unknown key %q (alert keys: %s)", p.key, alertKeyNames)
		}
	}
	if a.create == nil {
		c.ps.errorf(n, "alert: missing create: (the fields of a new ticket; queue is required)")
	}
	return a
}

// compileStormTicket reads storm_ticket: { key, and create fields }.
func (c *compiler) compileStormTicket(p pair, a *alertSpec) {
	body, ok := c.ps.mapping(p.v, "alert.storm_ticket")
	if !ok {
		return
	}
	var rest []pair
	for _, q := range body {
		if q.key == "key" {
			a.stormKey = c.compileTmpl(q.v, "alert.storm_ticket.key")
			continue
		}
		rest = append(rest, q)
	}
	if len(rest) > 0 {
		a.stormCreate = c.compileCreate(p.kn, rest, "alert.storm_ticket", nil)
	}
}

func (c *compiler) duration(n *yaml.Node, what string) time.Duration {
	v, ok := c.ps.scalar(n, what)
	if !ok || v == "" {
		return 0
	}
	if d, ok := strings.CutSuffix(v, "d"); ok {
		if days, err := strconv.Atoi(d); err == nil && days >= 0 {
			return time.Duration(days) * 24 * time.Hour
		}
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		c.ps.errorf(n, "%s: %q is not a duration (30m, 4h, 2d)", what, v)
	}
	return d
}

func (c *compiler) compileAlertLinks(n *yaml.Node, what string) []alertLink {
	n = resolve(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		c.ps.errorf(n, "%s must be a list of links", what)
		return nil
	}
	var out []alertLink
	for _, item := range n.Content {
		pairs, ok := c.ps.mapping(item, what)
		if !ok {
			continue
		}
		l := alertLink{spec: &stepSpec{kind: "link", node: resolve(item)}}
		var body []pair
		for _, q := range pairs {
			switch q.key {
			case "unlink_on_resolve":
				l.unlinkOnResolve, _ = c.ps.boolean(q.v, what+".unlink_on_resolve")
			case "ticket", "key":
				c.ps.errorf(q.kn, "%s: the link starts at the alert's ticket; %s: is not allowed here", what, q.key)
			default:
				body = append(body, q)
			}
		}
		l.spec.link = c.compileLink(resolve(item), body, "link", l.spec)
		out = append(out, l)
	}
	return out
}

// checkAlertRule refuses what an alert rule decides for itself.
func (c *compiler) checkAlertRule(n *yaml.Node, r *rule, pairs []pair) {
	for _, p := range pairs {
		switch p.key {
		case "if_exists", "if_missing", "do", "skip_repeats", "thread":
			c.ps.errorf(p.kn, "%s: not allowed with alert: (the lifecycle creates, comments, resolves and reopens; put the ticket fields under alert.create)", p.key)
		}
	}
	if r.alert != nil && r.alert.granularity == PerKey && r.key == nil {
		c.ps.errorf(n, "alert.granularity key needs a key: template (rendered for each alert)")
	}
}

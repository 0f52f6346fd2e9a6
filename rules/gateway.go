package rules

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/rtbridge/rtbridge/plan"
	"gopkg.in/yaml.v3"
)

// How a rule's create, comment and correspond reach RT (`deliver:`).
const (
	DeliverREST    = "rest"    // the bridge's RT user, over REST
	DeliverGateway = "gateway" // the raw mail through RT's own mail gateway: the sender is the actor
)

// compileDeliver reads a rule's `deliver:` key.
func (c *compiler) compileDeliver(n *yaml.Node) string {
	s, ok := c.ps.scalar(n, "deliver")
	if ok && s != DeliverREST && s != DeliverGateway {
		c.ps.errorf(n, "deliver must be rest or gateway; got %q", s)
		return ""
	}
	return s
}

// checkDeliver refuses what RT's mail gateway cannot do: a rule saying
// deliver: gateway that may match events other than mail, or when the RT
// access cannot find a posted mail again (Source.GatewayProblem); and,
// in any rule whose mail may go through the gateway (said, or inherited
// from a source's default), step keys the gateway cannot carry and a
// second post of the same mail.
func (c *compiler) checkDeliver(r *rule, when *yaml.Node) {
	via := ""
	switch {
	case r.deliver == DeliverGateway:
		if c.gatewayProblem != "" {
			c.ps.errorf(r.deliverNode, "deliver: gateway %s", c.gatewayProblem)
		}
		if !c.mailOnly(when) {
			c.ps.errorf(r.deliverNode, "deliver: gateway posts the mail to RT's mail gateway, and this rule can match events that are not mail: add kind: mail (or a mail source:) to when")
		}
		via = "deliver: gateway"
	case r.deliver == "":
		src := c.gatewaySourceOf(when)
		if src == "" {
			return
		}
		via = fmt.Sprintf("the rule can match mail from source %q, which goes through RT's mail gateway (its deliver: gateway) unless the rule says deliver: rest", src)
	default:
		return
	}
	for _, s := range slices.Concat(r.ifExists, r.ifMissing, r.do) {
		if bad := s.restOnly(); len(bad) > 0 {
			c.ps.errorf(s.node, "%s: RT's mail gateway files the mail as it is and cannot apply %s %s; set them with a following edit step, or say deliver: rest",
				via, s.kind, strings.Join(bad, ", "))
		}
	}
	// The mail is posted once: one create, comment or correspond per branch.
	said := map[*yaml.Node]bool{}
	for _, branch := range [][]*stepSpec{slices.Concat(r.ifExists, r.do), slices.Concat(r.ifMissing, r.do)} {
		posts := 0
		for _, s := range branch {
			if s.kind != "create" && s.kind != "comment" && s.kind != "correspond" {
				continue
			}
			if posts++; posts > 1 && !said[s.node] {
				said[s.node] = true
				c.ps.errorf(s.node, "%s: %s: the mail is posted to RT's mail gateway once, so a branch may have one create, comment or correspond", via, s.kind)
			}
		}
	}
}

// restOnly names the keys of a create, comment or correspond step that
// only the REST path can apply.
func (s *stepSpec) restOnly() []string {
	var bad []string
	add := func(set bool, name string) {
		if set {
			bad = append(bad, name)
		}
	}
	if s.hasAtts && (!s.attach.All || s.attach.Original) {
		bad = append(bad, "attachments (only all: the gateway posts the whole mail)")
	}
	if cs := s.create; cs != nil {
		add(cs.subject != nil, "subject")
		add(cs.text != nil, "text")
		add(cs.contentType != nil, "content_type")
		add(cs.owner != nil, "owner")
		add(cs.status != nil, "status")
		add(len(cs.requestors) > 0, "requestors")
		add(len(cs.cc) > 0, "cc")
		add(len(cs.adminCc) > 0, "admin_cc")
		add(cs.priority != nil || cs.initialPriority != nil || cs.finalPriority != nil, "priorities")
		add(cs.timeWorked != nil || cs.timeEstimated != nil || cs.timeLeft != nil, "times")
		add(cs.due != nil || cs.starts != nil, "due/starts")
		add(len(cs.cfs) > 0, "custom_fields")
	}
	if ms := s.msg; ms != nil {
		add(ms.text != nil, "text")
		add(ms.contentType != nil, "content_type")
		add(ms.status != nil, "status")
		add(ms.timeWorked != nil, "time_worked")
		add(len(ms.cc) > 0, "cc")
		add(len(ms.bcc) > 0, "bcc")
	}
	return bad
}

// mailOnly reports whether a rule's when: matches mail only: kind: mail,
// an mta: condition, or a source: naming mail sources only.
func (c *compiler) mailOnly(when *yaml.Node) bool {
	if k := ruleKinds(when); len(k) > 0 {
		return !slices.ContainsFunc(k, func(s string) bool { return s != "mail" })
	}
	if w := resolve(when); w != nil && w.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(w.Content); i += 2 {
			if w.Content[i].Value == "mta" {
				return true
			}
		}
	}
	srcs := whenEquals(when, "source")
	if len(srcs) == 0 {
		return false
	}
	if c.deliver == nil {
		return true // the sources are not known here (a config with other problems): no complaint
	}
	for _, s := range srcs {
		if _, mail := c.deliver[s]; !mail {
			return false
		}
	}
	return true
}

// gatewaySourceOf returns a source whose default is deliver: gateway and
// whose mail the rule may match, or "".
func (c *compiler) gatewaySourceOf(when *yaml.Node) string {
	var gw []string
	for s, d := range c.deliver {
		if d == DeliverGateway {
			gw = append(gw, s)
		}
	}
	if len(gw) == 0 {
		return ""
	}
	sort.Strings(gw)
	if k := ruleKinds(when); len(k) > 0 && !slices.Contains(k, "mail") {
		return ""
	}
	if srcs := whenEquals(when, "source"); len(srcs) > 0 {
		for _, s := range gw {
			if slices.Contains(srcs, s) {
				return s
			}
		}
		return ""
	}
	return gw[0]
}

// deliverOf is how a rule's steps reach RT for an event of source.
func (rs *RuleSet) deliverOf(r *rule, source string) string {
	if r.deliver != "" {
		return r.deliver
	}
	if rs.deliver[source] == DeliverGateway {
		return DeliverGateway
	}
	return DeliverREST
}

// UsesGateway reports whether some rule, or some source's default, files
// mail through RT's mail gateway: the executor then needs the gateway.
func (rs *RuleSet) UsesGateway() bool {
	for _, r := range rs.rules {
		if r.deliver == DeliverGateway {
			return true
		}
	}
	for _, d := range rs.deliver {
		if d == DeliverGateway {
			return true
		}
	}
	return false
}

// gatewayStep turns a rendered create, comment or correspond into the
// gateway step posting the event's mail: a create opens a ticket in its
// queue (RT reads a subject tag first, as rt-mailgate's post would), a
// comment or correspond goes to its ticket with that action.
func gatewayStep(st *plan.Step) {
	g := &plan.Gateway{Action: "correspond"}
	switch st.Action {
	case plan.ActionCreate:
		g.Queue = st.Create.Queue
	case plan.ActionComment:
		g.Action = "comment"
		g.Ticket = st.Ticket.ID
	case plan.ActionCorrespond:
		g.Ticket = st.Ticket.ID
	default:
		return
	}
	st.Action, st.Gateway, st.Create, st.Message, st.Attachments = plan.ActionGateway, g, nil, nil, plan.Attachments{}
}

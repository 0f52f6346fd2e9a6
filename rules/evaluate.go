package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rules/templates"
)

// matched is one rule that matched an event, with its captures.
type matched struct {
	r    *rule
	caps map[string]string
}

// match returns the rules that apply to ev: the first match, and after it
// further matches as long as the matching rule says continue.
func (rs *RuleSet) match(ev *event.Event) []matched {
	v := &view{ev: ev}
	var out []matched
	for _, r := range rs.candidates(ev) {
		var caps map[string]string
		if r.usesCaps {
			caps = map[string]string{}
		}
		if r.when != nil && !r.when.match(v, caps) {
			continue
		}
		out = append(out, matched{r, caps})
		if !r.cont {
			break
		}
	}
	return out
}

// ruleKeys are the keys of one matched rule, rendered without ledger data.
type ruleKeys struct {
	key   string   // the rule's key: template ("" none)
	cands []string // lookup order: key, then thread keys
}

func (rs *RuleSet) keysOf(m matched, ev *event.Event, d *Data) (ruleKeys, error) {
	var k ruleKeys
	if m.r.key != nil {
		s, err := m.r.key.Line(d, templates.MaxLine)
		if err != nil {
			return k, err
		}
		k.key = s
	}
	if k.key != "" {
		k.cands = append(k.cands, k.key)
	}
	if m.r.thread && ev.Mail != nil {
		for _, id := range threadIDs(ev.Mail) {
			k.cands = append(k.cands, MessageIDKey(id))
		}
	}
	return k, nil
}

// MessageIDKey is the correlation key of a mail's Message-ID, as recorded
// by every step that acts on a ticket for a mail.
func MessageIDKey(id string) string {
	return "msgid:" + templates.TruncateRunes(templates.FoldLine(id), templates.MaxLine-len("msgid:"))
}

// threadIDs lists the ids a reply refers to, most specific first:
// In-Reply-To, then References newest first.
func threadIDs(m *event.Mail) []string {
	var out []string
	seen := map[string]bool{}
	add := func(id string) {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	for _, id := range m.InReplyTo {
		add(id)
	}
	for i := len(m.References) - 1; i >= 0; i-- {
		add(m.References[i])
	}
	return out
}

// Keys returns every correlation key evaluating ev may look up or record,
// sorted. The executor locks them (in this order) before Evaluate; the
// plan's Keys is the same set.
func (rs *RuleSet) Keys(ev *event.Event) ([]string, error) {
	return rs.keys(ev, rs.match(ev), newData(ev))
}

func (rs *RuleSet) keys(ev *event.Event, ms []matched, base *Data) ([]string, error) {
	set := map[string]bool{}
	for _, m := range ms {
		d := *base
		d.Match = m.caps
		if m.r.alert != nil {
			if err := rs.alertKeys(m.r, ev, &d, set); err != nil {
				return nil, err
			}
			continue
		}
		k, err := rs.keysOf(m, ev, &d)
		if err != nil {
			return nil, err
		}
		for _, c := range k.cands {
			set[c] = true
		}
		for _, steps := range [][]*stepSpec{m.r.ifExists, m.r.ifMissing, m.r.do} {
			for _, s := range steps {
				for _, t := range []*templates.Template{s.tkey, s.key, linkTargetKey(s)} {
					if t == nil {
						continue
					}
					key, err := t.Line(&d, templates.MaxLine)
					if err != nil {
						return nil, err
					}
					if key != "" {
						set[key] = true
					}
				}
			}
		}
	}
	if ev.Mail != nil && ev.Mail.MessageID != "" {
		set[MessageIDKey(ev.Mail.MessageID)] = true
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out, nil
}

func linkTargetKey(s *stepSpec) *templates.Template {
	if s.link != nil {
		return s.link.targetKey
	}
	return nil
}

var _ plan.Planner = (*RuleSet)(nil)

// NeedWatchers implements plan.Planner: no rule decides by a ticket's
// watchers (the mail guard does, for replies to RT).
func (*RuleSet) NeedWatchers(*event.Event, plan.Ledger) []int { return nil }

// Evaluate decides what to do with ev from the facts alone (plan.Planner);
// it does no I/O. Errors wrap ErrRender (a template failed on this event)
// or ErrNoTicket.
func (rs *RuleSet) Evaluate(ev *event.Event, f plan.Facts) (*plan.Plan, error) {
	ms := rs.match(ev)
	base := newData(ev)
	keys, err := rs.keys(ev, ms, base)
	if err != nil {
		return nil, err
	}
	e := &evaluation{rs: rs, ev: ev, facts: f, base: base,
		plan:    &plan.Plan{Version: plan.Version, EventID: ev.ID, Keys: keys},
		created: map[string]int{}}
	for i, m := range ms {
		if err := e.rule(m, i == 0); err != nil {
			return nil, fmt.Errorf("rule %q: %w", m.r.name, err)
		}
	}
	p := e.plan
	switch {
	case len(ms) == 0:
		if p.Ignore, err = rs.noMatch.apply(base); err != nil {
			return nil, err
		}
	case len(p.Steps) > 0:
		p.Ignore = nil
	case p.Ignore == nil:
		p.Ignore = &plan.Ignore{Rule: p.Rule, Reason: "the rule produced no steps for this event"}
		if p.Key != "" {
			p.Ignore.Reason = fmt.Sprintf("the rule has no steps for key %q in its current state", p.Key)
		}
	}
	return p, nil
}

// evaluation is the state of one Evaluate call.
type evaluation struct {
	rs      *RuleSet
	ev      *event.Event
	facts   plan.Facts
	base    *Data
	plan    *plan.Plan
	created map[string]int // key → 1-based step that creates its ticket
	msgRec  bool           // the mail's own msgid key is already recorded
	gateway bool           // the current rule's mail goes through RT's mail gateway (gateway.go)
}

func (e *evaluation) rule(m matched, first bool) error {
	if m.r.alert != nil {
		return e.alertRule(m, first) // alert_eval.go
	}
	d := *e.base
	d.Match = m.caps
	k, err := e.rs.keysOf(m, e.ev, &d)
	if err != nil {
		return err
	}
	var cur plan.TicketRef
	found := false
	key := k.key
	for _, c := range k.cands {
		if step, ok := e.created[c]; ok {
			cur, key, found = plan.TicketRef{Step: step, Key: c}, c, true
			break
		}
		if ent, ok := e.facts.Ledger[c]; ok && ent.TicketID > 0 {
			cur, key, found = plan.TicketRef{ID: ent.TicketID, Key: c}, c, true
			d.Ticket = TicketData{ent.TicketID, ent.Status, ent.CreatedAt, ent.UpdatedAt, ent.ResolvedAt, ent.State}
			break
		}
	}
	d.Key = key
	e.gateway = e.ev.Mail != nil && e.rs.deliverOf(m.r, e.ev.Source) == DeliverGateway
	p := e.plan
	if first {
		p.Rule, p.Key = m.r.name, key
	}
	var state map[string]string
	if e.ev.Alert != nil {
		digest := alertDigest(e.ev.Alert)
		if m.r.skipReps && found && d.Ticket.State["alerts"] == digest {
			p.Notes = append(p.Notes, fmt.Sprintf("rule %q: identical alert set already recorded for key %q", m.r.name, key))
			if len(p.Steps) == 0 && p.Ignore == nil {
				p.Ignore = &plan.Ignore{Rule: m.r.name, Reason: fmt.Sprintf("identical alert set repeated for key %q (ticket %d)", key, cur.ID)}
			}
			return nil
		}
		state = map[string]string{"alerts": digest, "status": e.ev.Alert.Status}
	}
	steps := m.r.ifMissing
	if found {
		steps = m.r.ifExists
	}
	steps = append(slices.Clip(steps), m.r.do...)
	contributed := false
	for _, s := range steps {
		if s.kind == "ignore" {
			r := &renderer{d: &d}
			reason := r.line(s.reason, templates.MaxLine)
			if r.err != nil {
				return r.err
			}
			if len(p.Steps) == 0 && p.Ignore == nil {
				p.Ignore = &plan.Ignore{Rule: m.r.name, Reason: reason}
			}
			break
		}
		step, err := e.step(s, &d, &cur, k.key, state, m.r.name)
		if err != nil {
			return err
		}
		if step != nil {
			contributed = true
		}
	}
	if contributed {
		p.Rules = append(p.Rules, m.r.name)
	}
	return nil
}

// step renders one step and appends it (and, for a link whose target must
// be created, the create before it). cur is the rule's current ticket.
func (e *evaluation) step(s *stepSpec, d *Data, cur *plan.TicketRef, ruleKey string, state map[string]string, ruleName string) (*plan.Step, error) {
	r := &renderer{d: d}
	st := plan.Step{Action: plan.Action(s.kind), Rule: ruleName, Attachments: s.attach}
	if s.kind == "create" {
		st.Create = r.create(s.create, e.rs.defaults)
		st.Key = ruleKey
		if s.key != nil {
			st.Key = r.line(s.key, templates.MaxLine)
		}
		if _, taken := e.created[st.Key]; taken {
			st.Key = "" // a second create in one plan must not steal the key
		}
		if r.err != nil {
			return nil, r.err
		}
		if e.gateway {
			gatewayStep(&st)
		}
		return e.add(st, cur, state, ruleKey), nil
	}
	target, err := e.target(s, r, cur)
	if err != nil {
		return nil, err
	}
	st.Ticket, st.Key = target, target.Key
	switch s.kind {
	case "comment", "correspond":
		st.Message = r.message(s.msg, e.rs.defaults)
		if e.gateway {
			gatewayStep(&st)
		}
	case "edit":
		st.Edit = r.edit(s.edit)
	case "link", "unlink":
		lt, ok, err := e.linkTarget(s, r, ruleName)
		if err != nil || !ok {
			return nil, err
		}
		st.Link = &plan.Link{Type: s.link.typ, Target: lt}
	}
	if r.err != nil {
		return nil, r.err
	}
	return e.add(st, cur, state, ruleKey), nil
}

// add appends st to the plan, recording the mail's Message-ID and the
// alert state where they belong, and makes a created ticket current.
func (e *evaluation) add(st plan.Step, cur *plan.TicketRef, state map[string]string, ruleKey string) *plan.Step {
	p := e.plan
	// A gateway step without a ticket opens one, as a create does.
	creates := st.Action == plan.ActionCreate || st.Action == plan.ActionGateway && st.Ticket.IsZero()
	carries := creates || st.Action == plan.ActionComment || st.Action == plan.ActionCorrespond || st.Action == plan.ActionGateway
	if carries && !e.msgRec && e.ev.Mail != nil {
		e.msgRec = true
		if id := e.ev.Mail.MessageID; id != "" {
			st.Record = append(st.Record, MessageIDKey(id))
		}
		if len(e.ev.Mail.ParseProblems) > 0 && st.Action != plan.ActionGateway { // RT gets the mail itself
			st.Attachments.Original = true
		}
	}
	if state != nil && st.Key != "" && st.Key == ruleKey {
		st.State = state
	}
	p.Steps = append(p.Steps, st)
	idx := len(p.Steps)
	if creates {
		if st.Key != "" {
			e.created[st.Key] = idx
		}
		*cur = plan.TicketRef{Step: idx, Key: st.Key}
	}
	return &p.Steps[idx-1]
}

// target resolves the ticket a non-create step acts on.
func (e *evaluation) target(s *stepSpec, r *renderer, cur *plan.TicketRef) (plan.TicketRef, error) {
	switch {
	case s.ticket != nil:
		v := r.line(s.ticket, templates.MaxLine)
		if r.err != nil {
			return plan.TicketRef{}, r.err
		}
		id, err := strconv.Atoi(strings.TrimPrefix(v, "#"))
		if err != nil || id <= 0 {
			return plan.TicketRef{}, fmt.Errorf("%w: %s: %q is not a ticket number", ErrRender, s.ticket.Pos, v)
		}
		return plan.TicketRef{ID: id}, nil
	case s.tkey != nil:
		key := r.line(s.tkey, templates.MaxLine)
		if r.err != nil {
			return plan.TicketRef{}, r.err
		}
		ref, ok := e.resolve(key)
		if !ok {
			return plan.TicketRef{}, fmt.Errorf("%w: %s: key %q has no ticket", ErrNoTicket, s.kind, key)
		}
		return ref, nil
	}
	if cur.IsZero() || (cur.ID == 0 && cur.Step == 0) {
		return plan.TicketRef{}, fmt.Errorf("%w: %s: the rule's key has no ticket and no earlier step created one", ErrNoTicket, s.kind)
	}
	return *cur, nil
}

// resolve finds the ticket of key: created earlier in this plan, or known
// to the ledger.
func (e *evaluation) resolve(key string) (plan.TicketRef, bool) {
	if step, ok := e.created[key]; ok && key != "" {
		return plan.TicketRef{Step: step, Key: key}, true
	}
	if ent, ok := e.facts.Ledger[key]; ok && key != "" && ent.TicketID > 0 {
		return plan.TicketRef{ID: ent.TicketID, Key: key}, true
	}
	return plan.TicketRef{}, false
}

// linkTarget resolves a link's target; a missing target key either adds a
// create step (create_if_missing) or skips the link with a note.
func (e *evaluation) linkTarget(s *stepSpec, r *renderer, ruleName string) (plan.TicketRef, bool, error) {
	ls := s.link
	if ls.target != nil {
		v := r.line(ls.target, templates.MaxLine)
		id, err := strconv.Atoi(strings.TrimPrefix(v, "#"))
		if r.err == nil && (err != nil || id <= 0) {
			r.fail(ls.target, "%q is not a ticket number", v)
		}
		return plan.TicketRef{ID: id}, r.err == nil, r.err
	}
	key := r.line(ls.targetKey, templates.MaxLine)
	if r.err != nil {
		return plan.TicketRef{}, false, r.err
	}
	if ref, ok := e.resolve(key); ok {
		return ref, true, nil
	}
	if ls.ifMissing == nil || key == "" || s.kind == "unlink" {
		e.plan.Notes = append(e.plan.Notes, fmt.Sprintf("rule %q: %s skipped: key %q has no ticket", ruleName, s.kind, key))
		return plan.TicketRef{}, false, nil
	}
	c := r.create(ls.ifMissing, e.rs.defaults)
	if r.err != nil {
		return plan.TicketRef{}, false, r.err
	}
	var scratch plan.TicketRef
	e.add(plan.Step{Action: plan.ActionCreate, Rule: ruleName, Key: key, Create: c}, &scratch, nil, "")
	return scratch, true, nil
}

// alertDigest identifies the set of firing alerts, so a rule can stay
// quiet when Alertmanager repeats an identical notification. Resolved
// alerts do not count: Alertmanager reports a resolved alert once more and
// then drops it, which changes nothing that fires.
func alertDigest(a *event.AlertNotification) string {
	lines := make([]string, 0, len(a.Alerts))
	for _, x := range a.Alerts {
		if x.Status != "firing" {
			continue
		}
		id := x.Fingerprint
		if id == "" {
			ks := templates.SortedKeys(x.Labels)
			for i, k := range ks {
				ks[i] = k + "=" + strconv.Quote(x.Labels[k])
			}
			id = strings.Join(ks, ",")
		}
		lines = append(lines, id)
	}
	sort.Strings(lines)
	lines = slices.Compact(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l + "\n"))
	}
	return hex.EncodeToString(h.Sum(nil)[:12])
}

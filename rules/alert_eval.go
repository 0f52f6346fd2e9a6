package rules

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rules/lifecycle"
	"github.com/rtbridge/rtbridge/rules/templates"
)

// alertPart is one key's share of a notification, with its template data.
type alertPart struct {
	key    string
	alerts []event.Alert
	d      *Data
}

// alertParts cuts the notification into the keys of r's tickets.
func (rs *RuleSet) alertParts(r *rule, ev *event.Event, base *Data) ([]alertPart, error) {
	n := ev.Alert
	a := r.alert
	if a.granularity == PerGroup {
		d := *base
		key := "alert:" + r.name + ":" + n.GroupKey
		if r.key != nil {
			s, err := r.key.Line(&d, templates.MaxLine)
			if err != nil {
				return nil, err
			}
			key = s
		}
		return []alertPart{{key: key, alerts: n.Alerts, d: &d}}, nil
	}
	var out []alertPart
	index := map[string]int{}
	for _, x := range n.Alerts {
		d := partData(base, []event.Alert{x})
		key := "alert:" + r.name
		if r.key != nil {
			s, err := r.key.Line(d, templates.MaxLine)
			if err != nil {
				return nil, err
			}
			key = s
		}
		if a.granularity == PerAlert {
			key = templates.TruncateRunes(key+":"+x.Fingerprint, templates.MaxLine)
		}
		if i, ok := index[key]; ok {
			out[i].alerts = append(out[i].alerts, x)
			continue
		}
		index[key] = len(out)
		out = append(out, alertPart{key: key, alerts: []event.Alert{x}})
	}
	for i := range out {
		out[i].d = partData(base, out[i].alerts)
	}
	return out, nil
}

// partData is base narrowed to some alerts: their status, their common
// labels and annotations, and only them in .Alerts.
func partData(base *Data, as []event.Alert) *Data {
	d := *base
	d.Alerts = nil
	d.Status = "resolved"
	var labels, annots map[string]string
	for i, x := range as {
		if x.Status == "firing" {
			d.Status = "firing"
		}
		if i == 0 {
			labels, annots = maps.Clone(x.Labels), maps.Clone(x.Annotations)
		} else {
			labels, annots = common(labels, x.Labels), common(annots, x.Annotations)
		}
		d.Alerts = append(d.Alerts, AlertData{
			Status: x.Status, Labels: x.Labels, Annotations: x.Annotations,
			StartsAt: x.StartsAt, EndsAt: x.EndsAt, GeneratorURL: x.GeneratorURL,
			Fingerprint: x.Fingerprint, SilenceURL: x.SilenceURL, DashboardURL: x.DashboardURL,
			PanelURL: x.PanelURL, ImageURL: x.ImageURL, ValueString: x.ValueString, Values: x.Values,
		})
	}
	d.CommonLabels, d.CommonAnnotations = nonNil(labels), nonNil(annots)
	return &d
}

func common(a, b map[string]string) map[string]string {
	for k, v := range a {
		if b[k] != v {
			delete(a, k)
		}
	}
	return a
}

func nonNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// alertKeys lists every key an alert rule may look up or record.
func (rs *RuleSet) alertKeys(r *rule, ev *event.Event, base *Data, set map[string]bool) error {
	if ev.Alert == nil {
		return nil
	}
	parts, err := rs.alertParts(r, ev, base)
	if err != nil {
		return err
	}
	if r.alert.stormLimit > 0 {
		k, err := rs.stormKey(r, base)
		if err != nil {
			return err
		}
		set[k] = true
	}
	for _, p := range parts {
		set[p.key] = true
		for _, l := range r.alert.links {
			if t := l.spec.link.targetKey; t != nil {
				k, err := t.Line(p.d, templates.MaxLine)
				if err != nil {
					return err
				}
				if k != "" {
					set[k] = true
				}
			}
		}
	}
	return nil
}

func (rs *RuleSet) stormKey(r *rule, d *Data) (string, error) {
	if r.alert.stormKey == nil {
		return "storm:" + r.name, nil
	}
	return r.alert.stormKey.Line(d, templates.MaxLine)
}

// NeedStatus implements plan.Planner: the tickets of ev's alert keys whose
// lifecycle decision depends on RT's current status, given the ledger.
func (rs *RuleSet) NeedStatus(ev *event.Event, l plan.Ledger) []int {
	if ev.Alert == nil {
		return nil
	}
	var out []int
	base := newData(ev)
	for _, m := range rs.match(ev) {
		if m.r.alert == nil {
			continue
		}
		d := *base
		d.Match = m.caps
		parts, err := rs.alertParts(m.r, ev, &d)
		if err != nil {
			continue // Evaluate reports it
		}
		for _, p := range parts {
			ent, ok := l[p.key]
			in := lifecycle.Input{Alerts: p.alerts, Entry: ent, Found: ok && ent.TicketID > 0}
			if m.r.alert.life.NeedsStatus(in) && !slices.Contains(out, ent.TicketID) {
				out = append(out, ent.TicketID)
			}
		}
	}
	return out
}

// alertRule plans an alert rule: the lifecycle of each of its keys.
func (e *evaluation) alertRule(m matched, first bool) error {
	r, p := m.r, e.plan
	if first {
		p.Rule = r.name
	}
	if e.ev.Alert == nil {
		if first {
			p.Ignore = &plan.Ignore{Rule: r.name, Reason: fmt.Sprintf("rule %q has an alert: lifecycle, and this %s event is no alert", r.name, e.ev.Kind)}
		}
		return nil
	}
	base := *e.base
	base.Match = m.caps
	parts, err := e.rs.alertParts(r, e.ev, &base)
	if err != nil {
		return err
	}
	if first && len(parts) > 0 {
		p.Key = parts[0].key
	}
	now := e.ev.ReceivedAt
	if now.IsZero() {
		now = time.Now()
	}
	before := len(p.Steps)
	var quiet []string
	for _, part := range parts {
		reason, err := e.alertPart(r, part, now)
		if err != nil {
			return err
		}
		if reason != "" {
			quiet = append(quiet, reason)
		}
	}
	for _, q := range quiet {
		p.Notes = append(p.Notes, fmt.Sprintf("rule %q: %s", r.name, q))
	}
	if len(p.Steps) > before {
		p.Rules = append(p.Rules, r.name)
	} else if len(p.Steps) == 0 && p.Ignore == nil && len(quiet) > 0 {
		p.Ignore = &plan.Ignore{Rule: r.name, Reason: quiet[0]}
		if len(quiet) > 1 {
			p.Ignore.Reason = fmt.Sprintf("%s (and %d more keys unchanged)", quiet[0], len(quiet)-1)
		}
	}
	return nil
}

// alertPart plans one key; it returns why it does nothing, or "".
func (e *evaluation) alertPart(r *rule, part alertPart, now time.Time) (string, error) {
	a := r.alert
	if _, ok := e.created[part.key]; ok {
		return fmt.Sprintf("key %q already handled by this plan", part.key), nil
	}
	ent, ok := e.facts.Ledger[part.key]
	in := lifecycle.Input{Key: part.key, Alerts: part.alerts, Entry: ent, Found: ok && ent.TicketID > 0, Status: ent.Status, Now: now}
	if s, ok := e.facts.Status[ent.TicketID]; ok && a.life.NeedsStatus(in) {
		in.Status = s
	}
	d := part.d
	d.Key = part.key
	if in.Found {
		d.Ticket = TicketData{ent.TicketID, in.Status, ent.CreatedAt, ent.UpdatedAt, ent.ResolvedAt, ent.State}
	}
	v := a.life.Decide(in)
	ticket := plan.TicketRef{ID: ent.TicketID, Key: part.key}
	rr := &renderer{d: d}
	switch v.What {
	case lifecycle.Quiet:
		return v.Reason, nil
	case lifecycle.OpenNew:
		c := rr.create(a.create, e.rs.defaults)
		if rr.err != nil {
			return "", rr.err
		}
		if a.stormLimit > 0 && !e.rs.storm.take(r.name, a.stormLimit, now) {
			return "", e.storm(r, part, d, c, v)
		}
		e.add(plan.Step{Action: plan.ActionCreate, Rule: r.name, Key: part.key, Create: c, State: v.State}, &ticket, nil, "")
		if v.Old != 0 {
			e.add(plan.Step{Action: plan.ActionLink, Rule: r.name, Ticket: ticket,
				Link: &plan.Link{Type: plan.RefersTo, Target: plan.TicketRef{ID: v.Old}}}, &plan.TicketRef{}, nil, "")
			e.plan.Notes = append(e.plan.Notes, fmt.Sprintf("rule %q: key %q: ticket %d is closed (%s); a new ticket refers to it", r.name, part.key, v.Old, orNone(in.Status)))
		}
		return "", e.alertLinks(r, d, ticket, "link")
	case lifecycle.Changed, lifecycle.Reopened, lifecycle.Resolved:
		e.add(plan.Step{Action: plan.ActionComment, Rule: r.name, Key: part.key, Ticket: ticket, State: v.State,
			Message: &plan.Message{Text: v.Text, Status: v.Status}}, &plan.TicketRef{}, nil, "")
	}
	if v.What == lifecycle.Resolved {
		return "", e.alertLinks(r, d, ticket, "unlink")
	}
	if upd := e.alertUpdate(a, rr); upd != nil && ent.State[lifecycle.StateUmbrella] != "1" {
		e.add(plan.Step{Action: plan.ActionEdit, Rule: r.name, Ticket: ticket, Edit: upd}, &plan.TicketRef{}, nil, "")
	}
	if rr.err != nil {
		return "", rr.err
	}
	if v.What == lifecycle.Reopened {
		return "", e.alertLinks(r, d, ticket, "link")
	}
	return "", nil
}

func orNone(s string) string {
	if s == "" {
		return "status unknown"
	}
	return s
}

// storm sends a key past the rule's storm_limit to the umbrella ticket: a
// comment on it, or its creation. The key is recorded on the umbrella
// ticket, so its repeats stay quiet and its changes comment there.
func (e *evaluation) storm(r *rule, part alertPart, d *Data, c *plan.Create, v lifecycle.Verdict) error {
	sk, err := e.rs.stormKey(r, d)
	if err != nil {
		return err
	}
	state := maps.Clone(v.State)
	state[lifecycle.StateUmbrella] = "1"
	text := fmt.Sprintf("Alert storm: rule %q passed %d new tickets per minute; key %q is reported here instead of in its own ticket.\n\n%s",
		r.name, r.alert.stormLimit, part.key, lifecycle.DescribeChange(part.alerts, nil, lifecycle.FiringSet(part.alerts)))
	e.plan.Notes = append(e.plan.Notes, fmt.Sprintf("rule %q: storm limit reached: key %q goes to the umbrella ticket %q", r.name, part.key, sk))
	e.plan.Storm = append(e.plan.Storm, plan.StormDiversion{Rule: r.name, Key: part.key, Umbrella: sk, Limit: r.alert.stormLimit})
	if ref, ok := e.resolve(sk); ok {
		e.add(plan.Step{Action: plan.ActionComment, Rule: r.name, Key: part.key, Ticket: ref, State: state,
			Message: &plan.Message{Text: text}}, &plan.TicketRef{}, nil, "")
		return nil
	}
	uc := c
	if r.alert.stormCreate != nil {
		rr := &renderer{d: d}
		uc = rr.create(r.alert.stormCreate, e.rs.defaults)
		if rr.err != nil {
			return rr.err
		}
	} else {
		cp := *c
		cp.Subject = templates.TruncateBytes(fmt.Sprintf("Alert storm (rule %s)", r.name), templates.MaxSubject)
		uc = &cp
	}
	if r.alert.stormCreate == nil || r.alert.stormCreate.text == nil {
		uc.Text, uc.ContentType = text, ""
	}
	e.add(plan.Step{Action: plan.ActionCreate, Rule: r.name, Key: part.key, Record: []string{sk}, Create: uc, State: state}, &plan.TicketRef{}, nil, "")
	e.created[sk] = len(e.plan.Steps)
	return nil
}

// alertLinks adds (kind "link") or removes (kind "unlink", only those with
// unlink_on_resolve) the rule's links from ticket. RT's link endpoint adds
// and removes single links, so links humans added stay.
func (e *evaluation) alertLinks(r *rule, d *Data, ticket plan.TicketRef, kind string) error {
	for _, l := range r.alert.links {
		if kind == "unlink" && !l.unlinkOnResolve {
			continue
		}
		s := *l.spec
		s.kind = kind
		rr := &renderer{d: d}
		target, ok, err := e.linkTarget(&s, rr, r.name)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		e.add(plan.Step{Action: plan.Action(kind), Rule: r.name, Ticket: ticket, Link: &plan.Link{Type: s.link.typ, Target: target}}, &plan.TicketRef{}, nil, "")
	}
	return nil
}

// alertUpdate renders the update: fields of a change or reopen as an edit
// (nil when the rule updates nothing).
func (e *evaluation) alertUpdate(a *alertSpec, rr *renderer) *plan.Edit {
	if len(a.update) == 0 {
		return nil
	}
	c := rr.create(a.create, e.rs.defaults)
	if rr.err != nil {
		return nil
	}
	ed := &plan.Edit{}
	set := func(name, v string) {
		if ed.Fields == nil {
			ed.Fields = map[string]string{}
		}
		ed.Fields[name] = v
	}
	num := func(p *int) string {
		if p == nil {
			return ""
		}
		return fmt.Sprint(*p)
	}
	date := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05")
	}
	for _, f := range a.update {
		switch f {
		case "subject":
			set("Subject", c.Subject)
		case "owner":
			set("Owner", c.Owner)
		case "queue":
			set("Queue", c.Queue)
		case "status":
			set("Status", c.Status)
		case "priority":
			set("Priority", num(c.Priority))
		case "initial_priority":
			set("InitialPriority", num(c.InitialPriority))
		case "final_priority":
			set("FinalPriority", num(c.FinalPriority))
		case "due":
			set("Due", date(c.Due))
		case "starts":
			set("Starts", date(c.Starts))
		case "custom_fields":
			ed.CustomFields = c.CustomFields
		default:
			name := f[len("custom_fields."):]
			if vals, ok := c.CustomFields[name]; ok {
				if ed.CustomFields == nil {
					ed.CustomFields = map[string][]string{}
				}
				ed.CustomFields[name] = vals
			}
		}
	}
	for k, v := range ed.Fields {
		if v == "" {
			delete(ed.Fields, k) // an empty rendering never blanks a field
		}
	}
	if len(ed.Fields) == 0 && len(ed.CustomFields) == 0 {
		return nil
	}
	return ed
}

// stormCounter counts ticket creations per rule over the last minute.
//
// It lives in memory, in the compiled RuleSet, on purpose: persisting it
// would need one ledger entry every event of the rule writes, i.e. every
// notification of the rule serialised on one key and one more store write
// per create. A restart or reload forgets at most one minute of counts, so
// at worst storm_limit more tickets get through before the cap applies
// again. Workers planning at the same time may each pass the limit by one.
type stormCounter struct {
	mu    sync.Mutex
	times map[string][]time.Time
}

// take reports whether rule may create one more ticket at now (fewer than
// limit in the last minute) and, if so, counts it.
func (c *stormCounter) take(rule string, limit int, now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.times == nil {
		c.times = map[string][]time.Time{}
	}
	ts := c.times[rule]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= time.Minute {
		i++
	}
	ts = ts[i:]
	if len(ts) >= limit {
		c.times[rule] = ts
		return false
	}
	c.times[rule] = append(ts, now)
	return true
}

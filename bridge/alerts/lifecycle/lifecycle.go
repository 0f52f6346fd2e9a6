// Package lifecycle decides what one alert notification does to the ticket
// of one correlation key: create it, stay quiet on an identical repeat,
// comment once on a change, comment (and set a status) on resolution,
// reopen or replace it when the alert fires again, and divert new tickets
// to an umbrella ticket during an alert storm.
//
// It is pure: (policy, notification slice, ledger entry, now) → plan steps,
// using the rules package's Plan/Step/Entry types. The rules engine renders
// what a new ticket looks like (rules.Create) and which fields an update may
// touch (rules.Edit); the executor runs the steps and merges Step.State
// into the ledger, which is how the next notification knows the last set.
package lifecycle

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rtbridge/rtbridge/bridge/alerts"
	"github.com/rtbridge/rtbridge/bridge/event"
	"github.com/rtbridge/rtbridge/rtapi"
	"github.com/rtbridge/rtbridge/rules"
)

// Granularity says what one ticket stands for.
type Granularity string

// Granularities.
const (
	PerGroup Granularity = "group" // one ticket per Alertmanager group key (default)
	PerAlert Granularity = "alert" // one ticket per alert fingerprint
	PerKey   Granularity = "key"   // one ticket per key the rule renders
)

// Ledger state keys written by this package (merged into rules.Entry.State).
const (
	StateFiring     = "alerts.firing"      // sorted firing fingerprints, comma-separated
	StateStatus     = "alerts.status"      // firing or resolved
	StateResolvedAt = "alerts.resolved_at" // RFC 3339, when we recorded the resolution
)

// Policy is one rule's lifecycle configuration.
type Policy struct {
	Rule        string
	Granularity Granularity
	// ResolveStatus is set with the resolution comment ("" leaves the status).
	ResolveStatus string
	// ReopenWithin: an alert firing again within this time after resolution
	// reopens the same ticket (ReopenStatus, default "open"); after it, a new
	// ticket is created that RefersTo the old one. Zero: always a new ticket.
	ReopenWithin time.Duration
	ReopenStatus string
	// NeverReopen lists ticket statuses humans use to close for good (e.g.
	// "rejected"); such a ticket is never reopened, a new one refers to it.
	NeverReopen []string
	// StormLimit caps new tickets per minute for the rule; past it, alerts
	// go as comments to one umbrella ticket under StormKey. Zero: no cap.
	StormLimit int
	StormKey   string
}

// Input is one key's share of a notification.
type Input struct {
	Key    string
	Alerts []event.Alert // the alerts behind this key (the group, or one alert)
	Entry  rules.Entry   // the ledger entry of Key
	Found  bool          // Entry exists and has a ticket
	// Create is the rendered new ticket (rules engine); Update the fields an
	// update may touch (fields configured "on update"), nil for none.
	Create *rules.Create
	Update *rules.Edit
	// RecentCreates is how many tickets the rule created in the last minute
	// (see StormCounter); Umbrella is the ledger entry of Policy.StormKey.
	RecentCreates int
	Umbrella      rules.Entry
	UmbrellaFound bool
	Now           time.Time
}

// Decision is what to do for one key.
type Decision struct {
	Steps  []rules.Step
	Ignore string // non-empty: no RT call, and why
	Storm  bool   // the umbrella ticket took this alert (count it in a metric)
	Create bool   // a new ticket is among the steps (count it in the StormCounter)
}

// Decide applies the lifecycle for one key.
func Decide(p Policy, in Input) Decision {
	firing := firingSet(in.Alerts)
	st := in.Entry.State
	if !in.Found || in.Entry.TicketID == 0 {
		if len(firing) == 0 {
			return Decision{Ignore: fmt.Sprintf("resolved alerts for key %q, which has no ticket", in.Key)}
		}
		return p.create(in, firing, 0)
	}
	prevResolved := st[StateStatus] == "resolved"
	if prevResolved || slices.Contains(p.NeverReopen, in.Entry.Status) {
		if len(firing) == 0 {
			return Decision{Ignore: fmt.Sprintf("key %q already resolved (ticket %d)", in.Key, in.Entry.TicketID)}
		}
		if !slices.Contains(p.NeverReopen, in.Entry.Status) && p.ReopenWithin > 0 {
			if at := resolvedAt(in.Entry); !at.IsZero() && in.Now.Sub(at) <= p.ReopenWithin {
				return p.reopen(in, firing)
			}
		}
		return p.create(in, firing, in.Entry.TicketID)
	}
	prev := splitSet(st[StateFiring])
	if slices.Equal(prev, firing) && st[StateStatus] == "firing" {
		return Decision{Ignore: fmt.Sprintf("identical alert set repeated for key %q (ticket %d)", in.Key, in.Entry.TicketID)}
	}
	ticket := rules.TicketRef{ID: in.Entry.TicketID, Key: in.Key}
	if len(firing) == 0 {
		text := "All alerts resolved.\n\n" + describeChange(in.Alerts, prev, firing)
		state := stateFor(firing, "resolved")
		state[StateResolvedAt] = in.Now.UTC().Format(time.RFC3339)
		return Decision{Steps: []rules.Step{{Action: rules.ActionComment, Rule: p.Rule, Key: in.Key, Ticket: ticket, State: state,
			Message: &rules.Message{Text: text, Status: p.ResolveStatus}}}}
	}
	steps := []rules.Step{{Action: rules.ActionComment, Rule: p.Rule, Key: in.Key, Ticket: ticket, State: stateFor(firing, "firing"),
		Message: &rules.Message{Text: "The alert set changed.\n\n" + describeChange(in.Alerts, prev, firing)}}}
	if in.Update != nil {
		steps = append(steps, rules.Step{Action: rules.ActionEdit, Rule: p.Rule, Ticket: ticket, Edit: in.Update})
	}
	return Decision{Steps: steps}
}

func (p Policy) reopen(in Input, firing []string) Decision {
	status := p.ReopenStatus
	if status == "" {
		status = "open"
	}
	ticket := rules.TicketRef{ID: in.Entry.TicketID, Key: in.Key}
	text := fmt.Sprintf("Firing again (resolved %s ago); reopened.\n\n%s",
		in.Now.Sub(resolvedAt(in.Entry)).Round(time.Second), describeChange(in.Alerts, nil, firing))
	steps := []rules.Step{{Action: rules.ActionComment, Rule: p.Rule, Key: in.Key, Ticket: ticket,
		State: stateFor(firing, "firing"), Message: &rules.Message{Text: text, Status: status}}}
	if in.Update != nil {
		steps = append(steps, rules.Step{Action: rules.ActionEdit, Rule: p.Rule, Ticket: ticket, Edit: in.Update})
	}
	return Decision{Steps: steps}
}

// create opens a ticket for Key (referring to old when not zero), or, past
// the storm limit, comments on (or creates) the umbrella ticket instead.
func (p Policy) create(in Input, firing []string, old int) Decision {
	if in.Create == nil {
		return Decision{Ignore: fmt.Sprintf("rule %q renders no ticket for key %q", p.Rule, in.Key)}
	}
	if p.StormLimit > 0 && in.RecentCreates >= p.StormLimit && p.StormKey != "" {
		return p.storm(in)
	}
	c := *in.Create
	steps := []rules.Step{{Action: rules.ActionCreate, Rule: p.Rule, Key: in.Key, Create: &c, State: stateFor(firing, "firing")}}
	if old != 0 {
		steps = append(steps, rules.Step{Action: rules.ActionLink, Rule: p.Rule, Ticket: rules.TicketRef{Step: 1, Key: in.Key},
			Link: &rules.Link{Type: rtapi.RefersTo, Target: rules.TicketRef{ID: old}}})
	}
	return Decision{Steps: steps, Create: true}
}

func (p Policy) storm(in Input) Decision {
	text := fmt.Sprintf("Alert storm: rule %q passed %d new tickets per minute; key %q is reported here instead of in its own ticket.\n\n%s",
		p.Rule, p.StormLimit, in.Key, describeChange(in.Alerts, nil, firingSet(in.Alerts)))
	if in.UmbrellaFound && in.Umbrella.TicketID != 0 {
		return Decision{Storm: true, Steps: []rules.Step{{Action: rules.ActionComment, Rule: p.Rule, Key: p.StormKey,
			Ticket: rules.TicketRef{ID: in.Umbrella.TicketID, Key: p.StormKey}, Message: &rules.Message{Text: text}}}}
	}
	c := *in.Create
	c.Subject = fmt.Sprintf("Alert storm (rule %s)", p.Rule)
	c.Text = text
	return Decision{Storm: true, Create: true, Steps: []rules.Step{{Action: rules.ActionCreate, Rule: p.Rule, Key: p.StormKey, Create: &c}}}
}

func stateFor(firing []string, status string) map[string]string {
	return map[string]string{StateFiring: strings.Join(firing, ","), StateStatus: status, StateResolvedAt: ""}
}

func resolvedAt(e rules.Entry) time.Time {
	if t, err := time.Parse(time.RFC3339, e.State[StateResolvedAt]); err == nil {
		return t
	}
	return e.ResolvedAt
}

func firingSet(as []event.Alert) []string {
	return alerts.SortedFingerprints(&event.AlertNotification{Alerts: as}, "firing")
}

func splitSet(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Part is one key's share of a notification.
type Part struct {
	Key    string
	Alerts []event.Alert
}

// Split cuts a notification into the keys its tickets stand for: one
// prefix+groupKey for PerGroup (and PerKey, whose key the rule renders;
// pass it as prefix with an empty group key), one prefix+fingerprint per
// alert for PerAlert.
func Split(g Granularity, prefix string, n *event.AlertNotification) []Part {
	switch g {
	case PerAlert:
		byFP := map[string][]event.Alert{}
		var order []string
		for _, a := range n.Alerts {
			if _, ok := byFP[a.Fingerprint]; !ok {
				order = append(order, a.Fingerprint)
			}
			byFP[a.Fingerprint] = append(byFP[a.Fingerprint], a)
		}
		out := make([]Part, 0, len(order))
		for _, fp := range order {
			out = append(out, Part{Key: prefix + fp, Alerts: byFP[fp]})
		}
		return out
	case PerKey:
		return []Part{{Key: prefix, Alerts: n.Alerts}}
	}
	return []Part{{Key: prefix + n.GroupKey, Alerts: n.Alerts}}
}

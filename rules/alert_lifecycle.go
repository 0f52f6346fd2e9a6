package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
)

// Ledger state written by alert rules (merged into Entry.State by the
// executor when the step that carries it succeeds).
const (
	StateFiring     = "alerts.firing"      // sorted firing fingerprints, comma-separated
	StateStatus     = "alerts.status"      // firing or resolved
	StateResolvedAt = "alerts.resolved_at" // RFC 3339: when the resolution was recorded
	StateUmbrella   = "alerts.umbrella"    // "1": the key was diverted to the storm ticket
)

// outcome is what one notification does to one key's ticket.
type outcome int

const (
	quiet    outcome = iota // no RT call
	openNew                 // create a ticket (referring to verdict.old when set)
	changed                 // comment on what changed (and apply update:)
	resolved                // comment, and set resolve_status
	reopened                // comment and set reopen_status (and apply update:)
)

// alertInput is one key's share of a notification with its ledger entry.
type alertInput struct {
	key    string
	alerts []event.Alert
	entry  plan.Entry
	found  bool
	// status is the ticket's current status: read from RT when the
	// decision depends on it (resolution, firing after resolution), else
	// the ledger's last known one.
	status string
	now    time.Time
}

// verdict is decide's answer; the evaluation turns it into steps.
type verdict struct {
	what   outcome
	reason string // quiet: why
	text   string // comment text
	status string // status to set with the comment ("" leaves it)
	state  map[string]string
	old    int // openNew: the earlier ticket the new one RefersTo
}

// decide applies the lifecycle of a to one key. It is pure.
func (a *alertSpec) decide(in alertInput) verdict {
	firing := firingSet(in.alerts)
	st := in.entry.State
	if !in.found {
		if len(firing) == 0 {
			return verdict{what: quiet, reason: fmt.Sprintf("resolved alerts for key %q, which has no ticket", in.key)}
		}
		return verdict{what: openNew, state: alertState(firing, "firing")}
	}
	id := in.entry.TicketID
	umbrella := st[StateUmbrella] == "1"
	wasResolved := st[StateStatus] == "resolved" || slices.Contains(a.neverReopen, in.entry.Status)
	if len(firing) == 0 {
		if wasResolved {
			return verdict{what: quiet, reason: fmt.Sprintf("key %q already resolved (ticket %d)", in.key, id)}
		}
		v := verdict{what: resolved, state: alertState(nil, "resolved"),
			text: keyLine(umbrella, in.key) + "All alerts resolved.\n\n" + describeChange(in.alerts, splitSet(st[StateFiring]), firing)}
		v.state[StateResolvedAt] = in.now.UTC().Format(time.RFC3339)
		if !umbrella && !closedFor(in.status, a) {
			v.status = a.resolveStatus
		}
		return v
	}
	if wasResolved {
		switch {
		case umbrella:
			return verdict{what: openNew, state: alertState(firing, "firing")}
		case slices.Contains(a.neverReopen, in.status):
			return verdict{what: openNew, state: alertState(firing, "firing"), old: id}
		}
		at := resolvedAt(in.entry)
		if a.reopenWithin > 0 && !at.IsZero() && in.now.Sub(at) <= a.reopenWithin {
			v := verdict{what: reopened, state: alertState(firing, "firing"),
				text: fmt.Sprintf("Firing again %s after the resolution; reopened.\n\n%s",
					in.now.Sub(at).Round(time.Second), describeChange(in.alerts, nil, firing))}
			if !strings.EqualFold(in.status, a.reopenStatus) {
				v.status = a.reopenStatus
			}
			return v
		}
		return verdict{what: openNew, state: alertState(firing, "firing"), old: id}
	}
	prev := splitSet(st[StateFiring])
	if slices.Equal(prev, firing) {
		return verdict{what: quiet, reason: fmt.Sprintf("identical alert set repeated for key %q (ticket %d)", in.key, id)}
	}
	return verdict{what: changed, state: alertState(firing, "firing"),
		text: keyLine(umbrella, in.key) + "The alert set changed.\n\n" + describeChange(in.alerts, prev, firing)}
}

// needsStatus says whether decide's answer depends on the ticket's current
// status, which humans may have changed since the ledger last saw it.
func (a *alertSpec) needsStatus(in alertInput) bool {
	if !in.found || in.entry.State[StateUmbrella] == "1" {
		return false
	}
	firing := len(firingSet(in.alerts)) > 0
	wasResolved := in.entry.State[StateStatus] == "resolved"
	return (wasResolved && firing) || (!wasResolved && !firing && a.resolveStatus != "")
}

// closedFor: a status the resolution must not overwrite (humans closed the
// ticket, or it already has the resolve status).
func closedFor(status string, a *alertSpec) bool {
	switch strings.ToLower(status) {
	case "resolved", "rejected", "deleted":
		return true
	}
	return slices.Contains(a.neverReopen, status) || strings.EqualFold(status, a.resolveStatus)
}

func keyLine(umbrella bool, key string) string {
	if umbrella {
		return fmt.Sprintf("Key %q: ", key)
	}
	return ""
}

func alertState(firing []string, status string) map[string]string {
	return map[string]string{StateFiring: strings.Join(firing, ","), StateStatus: status, StateResolvedAt: "", StateUmbrella: ""}
}

func resolvedAt(e plan.Entry) time.Time {
	if t, err := time.Parse(time.RFC3339, e.State[StateResolvedAt]); err == nil {
		return t
	}
	return e.ResolvedAt
}

// firingSet is the sorted, distinct fingerprints of the firing alerts.
func firingSet(as []event.Alert) []string {
	var out []string
	for _, a := range as {
		if a.Status == "firing" {
			out = append(out, a.Fingerprint)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func splitSet(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

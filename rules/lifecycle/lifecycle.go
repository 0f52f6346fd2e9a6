// Package lifecycle decides what one Alertmanager or Grafana notification
// does to the ticket of one alert key: open it, comment on what changed,
// resolve it, reopen it within a window, or open a new one that refers to
// a ticket humans closed; or nothing, for an identical repeat. Decide is
// pure: the ledger entry and RT's current status come in as data, and the
// planner (package rules) turns the verdict into plan steps.
package lifecycle

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
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

// Policy is an alert rule's lifecycle settings.
type Policy struct {
	ResolveStatus string        // status a resolution sets ("" none)
	ReopenWithin  time.Duration // firing again this soon after a resolution reopens
	ReopenStatus  string        // status a reopening sets
	NeverReopen   []string      // statuses a ticket is never reopened from
}

// Outcome is what one notification does to one key's ticket.
type Outcome int

// The outcomes.
const (
	Quiet    Outcome = iota // no RT call
	OpenNew                 // create a ticket (referring to Verdict.Old when set)
	Changed                 // comment on what changed (and apply update:)
	Resolved                // comment, and set resolve_status
	Reopened                // comment and set reopen_status (and apply update:)
)

// Input is one key's share of a notification with its ledger entry.
type Input struct {
	Key    string
	Alerts []event.Alert
	Entry  plan.Entry
	Found  bool // the key has a ticket
	// Status is the ticket's current status: RT's when the decision
	// depends on it (NeedsStatus), else the ledger's last known one.
	Status string
	Now    time.Time
}

// Verdict is Decide's answer; the planner turns it into steps.
type Verdict struct {
	What   Outcome
	Reason string // Quiet: why
	Text   string // comment text
	Status string // status to set with the comment ("" leaves it)
	State  map[string]string
	Old    int // OpenNew: the earlier ticket the new one RefersTo
}

// Decide applies the lifecycle of a to one key. It is pure.
func (a *Policy) Decide(in Input) Verdict {
	firing := FiringSet(in.Alerts)
	st := in.Entry.State
	if !in.Found {
		if len(firing) == 0 {
			return Verdict{What: Quiet, Reason: fmt.Sprintf("resolved alerts for key %q, which has no ticket", in.Key)}
		}
		return Verdict{What: OpenNew, State: alertState(firing, "firing")}
	}
	id := in.Entry.TicketID
	umbrella := st[StateUmbrella] == "1"
	wasResolved := st[StateStatus] == "resolved" || slices.Contains(a.NeverReopen, in.Entry.Status)
	if len(firing) == 0 {
		if wasResolved {
			return Verdict{What: Quiet, Reason: fmt.Sprintf("key %q already resolved (ticket %d)", in.Key, id)}
		}
		v := Verdict{What: Resolved, State: alertState(nil, "resolved"),
			Text: keyLine(umbrella, in.Key) + "All alerts resolved.\n\n" + DescribeChange(in.Alerts, splitSet(st[StateFiring]), firing)}
		v.State[StateResolvedAt] = in.Now.UTC().Format(time.RFC3339)
		if !umbrella && !closedFor(in.Status, a) {
			v.Status = a.ResolveStatus
		}
		return v
	}
	if wasResolved {
		switch {
		case umbrella:
			return Verdict{What: OpenNew, State: alertState(firing, "firing")}
		case slices.Contains(a.NeverReopen, in.Status):
			return Verdict{What: OpenNew, State: alertState(firing, "firing"), Old: id}
		}
		at := resolvedAt(in.Entry)
		if a.ReopenWithin > 0 && !at.IsZero() && in.Now.Sub(at) <= a.ReopenWithin {
			v := Verdict{What: Reopened, State: alertState(firing, "firing"),
				Text: fmt.Sprintf("Firing again %s after the resolution; reopened.\n\n%s",
					in.Now.Sub(at).Round(time.Second), DescribeChange(in.Alerts, nil, firing))}
			if !strings.EqualFold(in.Status, a.ReopenStatus) {
				v.Status = a.ReopenStatus
			}
			return v
		}
		return Verdict{What: OpenNew, State: alertState(firing, "firing"), Old: id}
	}
	prev := splitSet(st[StateFiring])
	if slices.Equal(prev, firing) {
		return Verdict{What: Quiet, Reason: fmt.Sprintf("identical alert set repeated for key %q (ticket %d)", in.Key, id)}
	}
	return Verdict{What: Changed, State: alertState(firing, "firing"),
		Text: keyLine(umbrella, in.Key) + "The alert set changed.\n\n" + DescribeChange(in.Alerts, prev, firing)}
}

// NeedsStatus says whether Decide's answer depends on the ticket's
// current status, which humans may have changed since the ledger last saw
// it.
func (a *Policy) NeedsStatus(in Input) bool {
	if !in.Found || in.Entry.State[StateUmbrella] == "1" {
		return false
	}
	firing := len(FiringSet(in.Alerts)) > 0
	wasResolved := in.Entry.State[StateStatus] == "resolved"
	return (wasResolved && firing) || (!wasResolved && !firing && a.ResolveStatus != "")
}

// closedFor: a status the resolution must not overwrite (humans closed the
// ticket, or it already has the resolve status).
func closedFor(status string, a *Policy) bool {
	switch strings.ToLower(status) {
	case "resolved", "rejected", "deleted":
		return true
	}
	return slices.Contains(a.NeverReopen, status) || strings.EqualFold(status, a.ResolveStatus)
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

// FiringSet is the sorted, distinct fingerprints of the firing alerts.
func FiringSet(as []event.Alert) []string {
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

// maxAlertValue bounds each label value quoted in a comment, so a 100 KB label
// cannot flood the ticket.
const maxAlertValue = 200

// DescribeChange lists, one alert per line, what fires anew, what still
// fires, what resolved and what is no longer reported. Label values are
// Go-quoted, so a value with newlines stays on its line and cannot pose as
// a field or a template.
func DescribeChange(as []event.Alert, prev, firing []string) string {
	byFP := map[string]event.Alert{}
	for _, a := range as {
		byFP[a.Fingerprint] = a
	}
	var newly, still, resolved, gone []string
	for _, fp := range firing {
		if slices.Contains(prev, fp) {
			still = append(still, alertLine(byFP[fp]))
		} else {
			newly = append(newly, alertLine(byFP[fp]))
		}
	}
	for _, a := range as {
		if a.Status == "resolved" {
			resolved = append(resolved, alertLine(a))
		}
	}
	for _, fp := range prev {
		if _, ok := byFP[fp]; !ok {
			gone = append(gone, "- fingerprint "+fp)
		}
	}
	var b strings.Builder
	section := func(title string, lines []string) {
		if len(lines) > 0 {
			sort.Strings(lines)
			fmt.Fprintf(&b, "%s (%d):\n%s\n\n", title, len(lines), strings.Join(lines, "\n"))
		}
	}
	section("Firing", newly)
	section("Still firing", still)
	section("Resolved", resolved)
	section("No longer reported", gone)
	return strings.TrimRight(b.String(), "\n") + "\n"
}

func alertLine(a event.Alert) string {
	keys := slices.Sorted(maps.Keys(a.Labels))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = quoteLabel(k) + "=" + strconv.Quote(clipValue(a.Labels[k]))
	}
	s := "- {" + strings.Join(parts, ", ") + "}"
	if sum := a.Annotations["summary"]; sum != "" {
		s += " " + strconv.Quote(clipValue(sum))
	}
	return s
}

// quote leaves plain label names bare and quotes anything else.
func quoteLabel(k string) string {
	for _, r := range k {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return strconv.Quote(clipValue(k))
		}
	}
	return k
}

func clipValue(s string) string {
	if len(s) <= maxAlertValue {
		return s
	}
	return strings.ToValidUTF8(s[:maxAlertValue], "") + "…"
}

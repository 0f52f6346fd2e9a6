package plan

import (
	"time"

	"github.com/rtbridge/rtbridge/event"
)

// Planner turns an event into a plan. *rules.RuleSet is one; the mail
// guard (bridge/mailflow) wraps it for mail. A planner does no I/O: the
// executor reads what it needs first and hands it over as Facts.
type Planner interface {
	// Keys names, before planning, every correlation key the plan may look
	// up or record, sorted: the executor locks them and reads their ledger
	// entries. The plan's Keys is the same set.
	Keys(ev *event.Event) ([]string, error)
	// NeedStatus names the tickets, among those the ledger maps the keys
	// to, whose current status in RT the plan depends on (an alert rule's
	// resolution or reopening: humans change statuses the ledger never
	// sees). It is empty for most events, so most plans cost no RT read.
	NeedStatus(ev *event.Event, l Ledger) []int
	// NeedWatchers names the tickets whose watchers (requestors, Cc,
	// AdminCc) the plan depends on: a reply to RT is applied only when its
	// sender is one (bridge/mailflow). Empty for most events.
	NeedWatchers(ev *event.Event, l Ledger) []int
	// Evaluate decides what to do with ev from f alone.
	Evaluate(ev *event.Event, f Facts) (*Plan, error)
}

// Facts is what a planner knows besides the event, read by the executor
// while it holds the locks of the event's keys, so it is current.
type Facts struct {
	Ledger Ledger
	// Status is RT's current status of the tickets NeedStatus named; a
	// ticket missing from it is judged by its ledger status.
	Status map[int]string
	// Watchers is every watcher address (requestors, Cc, AdminCc, lower
	// case) of the tickets NeedWatchers named; a ticket RT does not have
	// maps to none. A ticket missing from it has unknown watchers (as in
	// `rtbridge test`), and a planner treats its sender as a stranger.
	Watchers map[int][]string
}

// Ledger is the ledger's entries of an event's keys; a key without an
// entry is absent.
type Ledger map[string]Entry

// Entry is what the ledger knows about one correlation key.
type Entry struct {
	TicketID   int
	Status     string // the ticket's last known status
	CreatedAt  time.Time
	UpdatedAt  time.Time
	ResolvedAt time.Time         // zero unless resolved
	State      map[string]string // written by Step.State, e.g. "alerts" → digest
}

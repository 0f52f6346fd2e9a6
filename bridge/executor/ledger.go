package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
)

// facts reads what planner decides ev from, under the locks of ev's keys:
// the ledger entries of those keys, then RT's current status of the
// tickets the planner names (most plans name none).
func (x *Executor) facts(ctx context.Context, planner plan.Planner, ev *event.Event) (plan.Facts, error) {
	keys, err := planner.Keys(ev)
	if err != nil {
		return plan.Facts{}, planError(err.Error()) // the rules fail on this event
	}
	f := plan.Facts{Ledger: plan.Ledger{}}
	for _, key := range keys {
		le, ok, err := x.o.Store.Ledger(ctx, key)
		if err != nil {
			return f, fmt.Errorf("ledger lookup %q: %w", key, err)
		}
		if !ok {
			continue
		}
		e := plan.Entry{TicketID: le.Ticket, Status: le.Status, CreatedAt: le.CreatedAt, UpdatedAt: le.UpdatedAt, ResolvedAt: le.ResolvedAt}
		if le.State != "" {
			if err := json.Unmarshal([]byte(le.State), &e.State); err != nil {
				return f, planError(fmt.Sprintf("ledger %q: state: %v", key, err))
			}
		}
		f.Ledger[key] = e
	}
	if f.Status, err = x.ticketStatuses(ctx, planner.NeedStatus(ev, f.Ledger)); err != nil {
		return f, err
	}
	f.Watchers, err = x.ticketWatchers(ctx, planner.NeedWatchers(ev, f.Ledger))
	return f, err
}

// inactive statuses mark a ticket resolved in the ledger.
func inactive(status string) bool {
	switch strings.ToLower(status) {
	case "resolved", "rejected", "deleted":
		return true
	}
	return false
}

// ledger returns the entries a successful step establishes: its Key (with
// Step.State merged into the entry's state) and every Record key, all
// pointing at the step's ticket.
func (r *run) ledger(ctx context.Context, st *plan.Step, ticket int) ([]store.LedgerEntry, error) {
	if ticket == 0 {
		return nil, nil
	}
	status := ""
	switch {
	case st.Create != nil:
		status = st.Create.Status
		if status == "" {
			status = "new"
		}
	case st.Message != nil:
		status = st.Message.Status
	case st.Edit != nil:
		status = st.Edit.Fields["Status"]
	}
	now := r.x.o.Now()
	var out []store.LedgerEntry
	seen := map[string]bool{}
	for n, key := range append([]string{st.Key}, st.Record...) {
		if key == "" || seen[key] {
			continue
		}
		seen[key] = true
		old, ok, err := r.x.o.Store.Ledger(ctx, key)
		if err != nil {
			return nil, err
		}
		le := store.LedgerEntry{Key: key, Ticket: ticket, Status: status, UpdatedAt: now, EventID: r.se.ID}
		if ok && old.Ticket == ticket {
			le.CreatedAt, le.ResolvedAt, le.State = old.CreatedAt, old.ResolvedAt, old.State
			if status == "" {
				le.Status = old.Status
			}
		}
		switch {
		case inactive(le.Status) && le.ResolvedAt.IsZero():
			le.ResolvedAt = now
		case !inactive(le.Status):
			le.ResolvedAt = time.Time{}
		}
		if n == 0 && len(st.State) > 0 {
			state := map[string]string{}
			if le.State != "" {
				if err := json.Unmarshal([]byte(le.State), &state); err != nil {
					state = map[string]string{} // a broken state is replaced, not fatal
				}
			}
			for k, v := range st.State {
				state[k] = v
			}
			b, err := json.Marshal(state)
			if err != nil {
				return nil, err
			}
			le.State = string(b)
		}
		out = append(out, le)
	}
	return out, nil
}

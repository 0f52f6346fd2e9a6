package executor

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/rtbridge/rtbridge/rtapi"
)

// ticketReader is the optional part of RT that reads a ticket (REST 1.0).
type ticketReader interface {
	Ticket(ctx context.Context, id int) (*rtapi.Ticket, error)
}

// errTicketStatus wraps a failed read of a ticket's status or watchers:
// the event is planned again later, not given up (unless RT refused the
// read).
var errTicketStatus = errors.New("reading the ticket from RT failed")

// ticketStatuses reads RT's current status of the tickets an alert rule's
// decision depends on (whether to reopen, or to set the resolve status):
// humans change statuses the ledger never sees. A ticket RT no longer has
// counts as "deleted" (never reopened). Without a ticket reader the
// planner judges by the ledger's status.
func (x *Executor) ticketStatuses(ctx context.Context, ids []int) (map[int]string, error) {
	tr, ok := x.rt().(ticketReader)
	if !ok || len(ids) == 0 {
		return nil, nil
	}
	out := make(map[int]string, len(ids))
	for _, id := range ids {
		t, err := tr.Ticket(ctx, id)
		switch {
		case errors.Is(err, rtapi.ErrNotFound):
			out[id] = "deleted"
		case err != nil:
			return nil, fmt.Errorf("%w: ticket %d: %w", errTicketStatus, id, err)
		default:
			out[id] = t.Status
		}
	}
	return out, nil
}

// ticketWatchers reads the watchers (requestors, Cc, AdminCc, lower case)
// of the tickets a reply's sender is checked against. A ticket RT no
// longer has has none. Without a ticket reader the watchers stay unknown
// and the planner treats the sender as a stranger.
func (x *Executor) ticketWatchers(ctx context.Context, ids []int) (map[int][]string, error) {
	tr, ok := x.o.RT.(ticketReader)
	if !ok || len(ids) == 0 {
		return nil, nil
	}
	out := make(map[int][]string, len(ids))
	for _, id := range ids {
		t, err := tr.Ticket(ctx, id)
		switch {
		case errors.Is(err, rtapi.ErrNotFound):
			out[id] = []string{}
		case err != nil:
			return nil, fmt.Errorf("%w: ticket %d watchers: %w", errTicketStatus, id, err)
		default:
			var all []string
			for _, list := range [][]string{t.Requestors, t.Cc, t.AdminCc} {
				for _, a := range list {
					all = append(all, strings.ToLower(strings.TrimSpace(a)))
				}
			}
			out[id] = all
		}
	}
	return out, nil
}

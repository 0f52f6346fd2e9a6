package executor

import (
	"context"
	"errors"
	"github.com/rtbridge/rtbridge/plan"

	"github.com/rtbridge/rtbridge/rtapi"
)

// ticketReader is the optional part of RT that reads a ticket;
// *rtapi.Client has it.
type ticketReader interface {
	Ticket(ctx context.Context, id int) (*rtapi.Ticket, error)
}

// statusLedger is the ledger view plus rules.StatusReader: alert rules read
// a ticket's real status from RT when deciding whether to reopen it or to
// set the resolve status, since humans change statuses the ledger never
// sees. Only those decisions read, so an identical repeat costs no RT call.
type statusLedger struct {
	ledgerView
	rt ticketReader
}

// TicketStatus implements rules.StatusReader. A ticket RT no longer has
// counts as "deleted" (never reopened).
func (l statusLedger) TicketStatus(ctx context.Context, id int) (string, error) {
	t, err := l.rt.Ticket(ctx, id)
	if errors.Is(err, rtapi.ErrNotFound) {
		return "deleted", nil
	}
	if err != nil {
		return "", err
	}
	return t.Status, nil
}

// planLedger returns the ledger the rules plan with: with the status reader
// when RT can read tickets.
func (x *Executor) planLedger() plan.Ledger {
	lv := ledgerView{x.o.Store}
	if tr, ok := x.o.RT.(ticketReader); ok {
		return statusLedger{lv, tr}
	}
	return lv
}

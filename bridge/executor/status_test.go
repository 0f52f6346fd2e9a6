package executor

import (
	"errors"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/rtapi"
)

// The planner's facts read a ticket's status from the real RT: a human's
// rejection is seen although the ledger still says what the bridge wrote,
// and a ticket RT does not have counts as deleted.
func TestPlanLedgerReadsStatusFromRT(t *testing.T) {
	c := rtClient(t)
	ctx := t.Context()
	id, err := c.CreateTicket(ctx, rtapi.TicketCreate{Queue: "General", Subject: "status reader " + time.Now().Format(time.RFC3339Nano)})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EditTicket(ctx, id, rtapi.TicketEdit{Fields: map[string]string{"Status": "rejected"}}); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, t.TempDir(), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	x := &Executor{o: Options{Store: st, RT: c}}
	got, err := x.ticketStatuses(ctx, []int{id, 999999999})
	if s := got[id]; err != nil || s != "rejected" {
		t.Fatalf("status %q, %v", s, err)
	}
	if s := got[999999999]; err != nil || s != "deleted" {
		t.Fatalf("missing ticket: %q, %v", s, err)
	}
	// RT unreachable: a transient error, which the executor defers on.
	down, _ := rtapi.New(rtapi.Config{URL: "http://127.0.0.1:1", Auth: rtapi.NewTokenAuth("x"), Timeout: time.Second, Retry: rtapi.RetryPolicy{Attempts: 1}})
	_, err = (&Executor{o: Options{Store: st, RT: down}}).ticketStatuses(ctx, []int{id})
	if err == nil || rtapi.KindOf(err) == rtapi.Permanent || errors.Is(err, rtapi.ErrNotFound) || !errors.Is(err, errTicketStatus) {
		t.Fatalf("unreachable RT: %v", err)
	}
}

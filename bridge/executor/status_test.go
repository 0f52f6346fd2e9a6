package executor

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/rtapi"
	"github.com/rtbridge/rtbridge/rtapi/rest2"
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

// The watchers a reply's sender is checked against come from the real RT,
// over REST 1.0 and REST2 alike, in lower case; a ticket RT does not have
// has none, and an unreachable RT is an error the executor defers on.
func TestTicketWatchersFromRT(t *testing.T) {
	c := rtClient(t)
	env := testenv.RequireRT(t)
	ctx := t.Context()
	id, err := c.CreateTicket(ctx, rtapi.TicketCreate{Queue: "General", Subject: "watchers " + time.Now().Format(time.RFC3339Nano),
		Requestors: []string{"Req.Watch@Example.com"}, Cc: []string{"cc.watch@example.com"}, AdminCc: []string{"admin.watch@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := rest2.New(rest2.Config{URL: env.URL, Auth: rtapi.NewTokenAuth(env.Token)})
	if err != nil {
		t.Fatal(err)
	}
	for name, rt := range map[string]RT{"rest1": c, "rest2": c2} {
		got, err := (&Executor{o: Options{RT: rt}}).ticketWatchers(ctx, []int{id, 999999999})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		w := slices.Sorted(slices.Values(got[id]))
		if !slices.Equal(w, []string{"admin.watch@example.com", "cc.watch@example.com", "req.watch@example.com"}) {
			t.Errorf("%s: watchers %q", name, w)
		}
		if m, ok := got[999999999]; !ok || len(m) != 0 {
			t.Errorf("%s: missing ticket: %q %v", name, m, ok)
		}
	}
	down, _ := rtapi.New(rtapi.Config{URL: "http://127.0.0.1:1", Auth: rtapi.NewTokenAuth("x"), Timeout: time.Second, Retry: rtapi.RetryPolicy{Attempts: 1}})
	_, err = (&Executor{o: Options{RT: down}}).ticketWatchers(ctx, []int{id})
	if err == nil || rtapi.KindOf(err) == rtapi.Permanent || !errors.Is(err, errTicketStatus) {
		t.Fatalf("unreachable RT: %v", err)
	}
}

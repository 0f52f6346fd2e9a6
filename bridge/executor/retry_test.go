package executor

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rtapi"
)

// reconcileDown loses the answer of its first create (the ticket exists in
// RT) and cannot search: the step stays unknown until the event dies.
type reconcileDown struct{ *lostAnswer }

func (reconcileDown) SearchTickets(ctx context.Context, query, orderby, format string) ([]rtapi.SearchResult, error) {
	return nil, &rtapi.Error{Op: "search", Kind: rtapi.Transient, Err: errors.New("connection refused")}
}

func (h *harness) executorWith(rt RT, idem string, b Backoff, now func() time.Time) *Executor {
	x, err := New(Options{Store: h.st, RT: rt, Workers: 1, IdempotencyField: idem,
		Rules:   func(event.Kind) plan.Planner { h.mu.Lock(); defer h.mu.Unlock(); return h.rules },
		Backoff: b, Breaker: BreakerConfig{Threshold: 1 << 20}, Poll: 20 * time.Millisecond, Now: now, Settle: testSettle})
	if err != nil {
		h.t.Fatal(err)
	}
	return x
}

// A create whose outcome stayed unknown until the event died is reconciled
// after an operator retry: the ticket it made is adopted, not made again.
// The retry also gets a fresh MaxAge: the event is older than it by then.
func TestRetryReconcilesUnknownCreate(t *testing.T) {
	c := rtClient(t)
	cf := testenv.Require(t, "RT_TEST_CF")["RT_TEST_CF"]
	h := newHarness(t)
	g := group(t)
	id := h.accept(g, "General", "unknown then dead")
	b := Backoff{Base: 10 * time.Millisecond, Max: 20 * time.Millisecond, MaxAge: 300 * time.Millisecond}
	h.runUntil(h.executorWith(reconcileDown{&lostAnswer{Client: c}}, cf, b, nil), id)
	e := h.event(id)
	if e.State != store.StateDead || e.DeadStep != 0 || e.Steps[0].State != store.StepUnknown {
		t.Fatalf("before the retry: %s step %d, steps %+v", e.State, e.DeadStep, e.Steps)
	}
	if n := len(ticketsWithSubject(t, c, g)); n != 1 {
		t.Fatalf("%d tickets before the retry", n)
	}
	time.Sleep(b.MaxAge) // the event is now older than MaxAge
	if err := h.st.Retry(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	h.runUntil(h.executorWith(c, cf, b, nil), id)
	e = h.event(id)
	if e.State != store.StateDone {
		t.Fatalf("after the retry: %s (%s) %s", e.State, e.DeadClass, e.Reason)
	}
	res := ticketsWithSubject(t, c, g)
	if len(res) != 1 || res[0].ID != e.Steps[0].Ticket {
		t.Fatalf("tickets %+v, create step %+v", res, e.Steps[0])
	}
}

// An event never attempted is tried at least once however old it is (a
// daemon stopped for longer than MaxAge must not dead-letter its backlog
// unseen).
func TestOldEventAttemptedOnce(t *testing.T) {
	c := rtClient(t)
	h := newHarness(t)
	g := group(t)
	id := h.accept(g, "General", "old")
	later := func() time.Time { return time.Now().Add(2 * time.Hour) }
	h.runUntil(h.executorWith(c, "", Backoff{MaxAge: time.Hour}, later), id)
	if e := h.event(id); e.State != store.StateDone {
		t.Fatalf("%s (%s) %s", e.State, e.DeadClass, e.Reason)
	}
	if n := len(ticketsWithSubject(t, c, g)); n != 1 {
		t.Fatalf("%d tickets", n)
	}
}

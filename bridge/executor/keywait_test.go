package executor

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rtapi"
)

// delayedRT stands in for an RT whose every call takes a while; the test is
// about the scheduler, not about RT.
type delayedRT struct {
	RT
	delay time.Duration
	id    atomic.Int64
}

func (s *delayedRT) CreateTicket(ctx context.Context, _ rtapi.TicketCreate) (int, error) {
	time.Sleep(s.delay)
	return int(s.id.Add(1)), nil
}
func (s *delayedRT) Comment(ctx context.Context, _ int, _ rtapi.Message) error {
	time.Sleep(s.delay)
	return nil
}

// lookCounter counts the scheduler's looks at the store.
type lookCounter struct {
	*store.Store
	looks atomic.Int64
}

func (c *lookCounter) Runnable(ctx context.Context, now time.Time, limit int) ([]store.Work, error) {
	c.looks.Add(1)
	return c.Store.Runnable(ctx, now, limit)
}

// An event that waits behind a running one with the same key is started
// when that one ends (its worker wakes the scheduler); meanwhile the
// scheduler does not poll the store every few milliseconds.
func TestSameKeyWaitDoesNotSpin(t *testing.T) {
	h := newHarness(t)
	cs := &lookCounter{Store: h.st}
	rt := &delayedRT{delay: 400 * time.Millisecond}
	x, err := New(Options{Store: cs, RT: rt, Workers: 4,
		Rules: func(event.Kind) plan.Planner { return h.rules },
		Poll:  2 * time.Second, Settle: testSettle})
	if err != nil {
		t.Fatal(err)
	}
	g := group(t)
	ids := []string{h.accept(g, "General", "one"), h.accept(g, "General", "two")}
	start := time.Now()
	h.runUntil(x, ids...)
	took := time.Since(start)
	for _, id := range ids {
		if e := h.event(id); e.State != store.StateDone {
			t.Fatalf("%s: %s (%s)", id, e.State, e.Reason)
		}
	}
	// Three RT calls of 400 ms in a row (create, follow-up, then the
	// second event's comment): polling every 5 ms would look ~240 times.
	if n := cs.looks.Load(); n > 30 {
		t.Errorf("the scheduler looked at the store %d times in %v while one event waited for its key", n, took.Round(time.Millisecond))
	}
	t.Logf("%d looks in %v", cs.looks.Load(), took.Round(time.Millisecond))
}

package executor

import (
	"context"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rtapi"
)

// countingStore counts how often a payload is opened, i.e. decoded.
type countingStore struct {
	Store
	opens atomic.Int32
}

func (c *countingStore) Raw(ctx context.Context, id string) (io.ReadCloser, error) {
	c.opens.Add(1)
	return c.Store.Raw(ctx, id)
}

// An event is decoded once for its attempt: the scheduler's decoding (to
// learn its keys) is handed to the worker that plans it.
func TestOneDecodePerAttempt(t *testing.T) {
	h := newHarness(t)
	h.setRules(compile(t, "- name: quiet\n  key: 'k:{{ .Source }}'\n  do: [ { ignore: 'nothing to do' } ]\n"))
	rt, err := rtapi.New(rtapi.Config{URL: "http://127.0.0.1:9/", Auth: rtapi.NewTokenAuth("unused")})
	if err != nil {
		t.Fatal(err)
	}
	cs := &countingStore{Store: h.st}
	x, err := New(Options{Store: cs, RT: rt, Rules: func(event.Kind) plan.Planner { return h.rules }, Poll: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	id := h.accept("g", "General", "once")
	h.runUntil(x, id)
	if e := h.event(id); e.State != "ignored" || e.Reason != "nothing to do" {
		t.Fatalf("event %s: %s", e.State, e.Reason)
	}
	if n := cs.opens.Load(); n != 1 {
		t.Fatalf("payload opened %d times for one attempt, want 1", n)
	}
}

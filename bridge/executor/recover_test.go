package executor

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rtapi"
)

// boomPlanner panics in Keys or Evaluate for the event whose JSON "msg" is
// the trigger, and plans every other event with the real rules.
type boomPlanner struct {
	plan.Planner
	inKeys bool
}

func boom(ev *event.Event) bool {
	m, _ := ev.JSON.Body.(map[string]any)
	return m["msg"] == "boom"
}

func (b boomPlanner) Keys(ev *event.Event) ([]string, error) {
	if b.inKeys && boom(ev) {
		var m map[string]int
		m["x"]++ // a nil-map write: a runtime panic, as a bug would give
	}
	return b.Planner.Keys(ev)
}

func (b boomPlanner) Evaluate(ev *event.Event, f plan.Facts) (*plan.Plan, error) {
	if !b.inKeys && boom(ev) {
		panic("planner bug")
	}
	return b.Planner.Evaluate(ev, f)
}

// panicStore's payload of one event panics when the decoder reads it.
type panicStore struct {
	Store
	id string
}

type panicReader struct{}

func (panicReader) Read([]byte) (int, error) { panic("decoder bug") }

func (p *panicStore) Raw(ctx context.Context, id string) (io.ReadCloser, error) {
	if id == p.id {
		return io.NopCloser(panicReader{}), nil
	}
	return p.Store.Raw(ctx, id)
}

// A panic while decoding or planning one event dead-letters that event,
// with the stack in the log; the executor goes on and plans the next one.
func TestPanicDeadLettersOneEvent(t *testing.T) {
	rt, err := rtapi.New(rtapi.Config{URL: "http://127.0.0.1:9/", Auth: rtapi.NewTokenAuth("unused")})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, where string
		setup       func(h *harness, bad string) (Store, plan.Planner)
	}{
		{"evaluate", "plan panicked: planner bug", func(h *harness, _ string) (Store, plan.Planner) {
			return h.st, boomPlanner{Planner: h.rules}
		}},
		{"keys", "plan panicked: assignment to entry in nil map", func(h *harness, _ string) (Store, plan.Planner) {
			return h.st, boomPlanner{Planner: h.rules, inKeys: true}
		}},
		{"decode", "parse event: decode panicked: decoder bug", func(h *harness, bad string) (Store, plan.Planner) {
			return &panicStore{Store: h.st, id: bad}, h.rules
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			h.setRules(compile(t, "- name: quiet\n  key: 'k:{{ get .JSON \"msg\" }}'\n  do: [ { ignore: 'nothing to do' } ]\n"))
			bad := h.accept("g", "General", "boom")
			good := h.accept("g", "General", "fine")
			st, p := c.setup(h, bad)
			logs := &syncBuffer{}
			x, err := New(Options{Store: st, RT: rt, Rules: func(event.Kind) plan.Planner { return p },
				Poll: 20 * time.Millisecond, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
			if err != nil {
				t.Fatal(err)
			}
			h.runUntil(x, bad, good)
			if e := h.event(bad); e.State != "dead" || !strings.Contains(e.Reason, c.where) {
				t.Errorf("panicking event: %s %q, want dead with %q", e.State, e.Reason, c.where)
			}
			if e := h.event(good); e.State != "ignored" {
				t.Errorf("next event: %s %q, want planned (ignored)", e.State, e.Reason)
			}
			stack := false
			for _, r := range logs.records(t) {
				s, _ := r["stack"].(string)
				stack = stack || r["msg"] == "event failed with a panic" && r["event"] == bad && strings.Contains(s, "runtime/debug.Stack")
			}
			if !stack {
				t.Errorf("no stack of the panic in the log")
			}
		})
	}
}

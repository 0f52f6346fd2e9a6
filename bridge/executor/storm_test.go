package executor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/metrics"
	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
)

const stormRuleYAML = `
- name: storm test
  when: { kind: alertmanager }
  alert:
    create: { queue: General, subject: 'rtbridge executor storm test {{ .GroupKey }}' }
    storm_limit: 1
    storm_ticket: { key: 'storm:executor-test', queue: General, subject: 'rtbridge executor storm test umbrella' }
`

// syncBuffer collects log output from the executor's workers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) records(t *testing.T) []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.b.String()), "\n") {
		var r map[string]any
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

// TestStormDivertedMetricAndNotes: three alert groups under storm_limit 1
// against the real RT and store: the first gets its own ticket, the other
// two go to one umbrella ticket; the executor counts both diversions in
// rtbridge_alert_storm_diverted_total and logs the plans' storm notes with
// the event id, the untrusted group key only inside an attribute.
func TestStormDivertedMetricAndNotes(t *testing.T) {
	rt := rtClient(t)
	h := newHarness(t)
	h.setRules(compile(t, stormRuleYAML))
	m := metrics.New()
	logs := &syncBuffer{}
	x, err := New(Options{Store: h.st, RT: rt, Rules: func(event.Kind) plan.Planner { return h.rules },
		Logger: slog.New(slog.NewJSONHandler(logs, nil)), Metrics: m, Poll: 20 * time.Millisecond, Settle: testSettle})
	if err != nil {
		t.Fatal(err)
	}
	groups := []string{"g1", "g2", "g3\nlevel=ERROR msg=forged"}
	var ids []string
	for i, g := range groups {
		body := fmt.Sprintf(`{"version":"4","status":"firing","receiver":"rt","groupKey":%q,"groupLabels":{},"commonLabels":{},"commonAnnotations":{},"externalURL":"","alerts":[{"status":"firing","labels":{"alertname":"Storm","i":"%d"},"annotations":{},"startsAt":"2026-01-01T00:00:00Z","endsAt":"0001-01-01T00:00:00Z"}]}`, g, i)
		acc, err := h.st.Accept(context.Background(), source.Incoming{Source: "am", Kind: event.KindAlertmanager, Raw: strings.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, acc.ID)
		// One at a time, so which group is diverted is fixed.
		h.runUntil(x, acc.ID)
		if e := h.event(acc.ID); e.State != store.StateDone {
			t.Fatalf("event %s: %s", acc.ID, e.State)
		}
	}

	ticket := func(key string) int {
		e, ok, err := h.st.Ledger(context.Background(), key)
		if err != nil || !ok {
			t.Fatalf("ledger %q: %v %v", key, ok, err)
		}
		return e.Ticket
	}
	own, umbrella := ticket("alert:storm test:g1"), ticket("storm:executor-test")
	if own == umbrella || ticket("alert:storm test:g2") != umbrella || ticket("alert:storm test:"+groups[2]) != umbrella {
		t.Fatalf("tickets: own %d umbrella %d", own, umbrella)
	}

	fams, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var diverted float64
	for _, f := range fams {
		if f.GetName() == "rtbridge_alert_storm_diverted_total" {
			for _, s := range f.GetMetric() {
				if len(s.GetLabel()) == 1 && s.GetLabel()[0].GetValue() == "storm test" {
					diverted = s.GetCounter().GetValue()
				}
			}
		}
	}
	if diverted != 2 {
		t.Errorf("rtbridge_alert_storm_diverted_total{rule=\"storm test\"} = %v, want 2", diverted)
	}

	notes := map[string]string{} // event id → storm note
	for _, r := range logs.records(t) {
		msg, _ := r["msg"].(string)
		if strings.Contains(msg, "forged") || strings.Contains(msg, "storm test") {
			t.Errorf("untrusted text in a log message: %q", msg)
		}
		if r["level"] == "ERROR" {
			t.Errorf("error logged: %v", r)
		}
		if msg == "plan note" && r["level"] == "INFO" {
			note, _ := r["note"].(string)
			if strings.Contains(note, "storm limit reached") {
				notes[fmt.Sprint(r["event"])] = note
			}
		}
	}
	if len(notes) != 2 || notes[ids[1]] == "" || !strings.Contains(notes[ids[2]], `"alert:storm test:g3\nlevel=ERROR msg=forged"`) {
		t.Fatalf("storm notes by event: %q (events %v)", notes, ids)
	}
}

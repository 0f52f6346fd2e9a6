package rules

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/plan"
)

// TestAlertStormPlanInfo: a plan in which the storm guard acted says so in
// Plan.Storm, one entry per diverted key, and survives the store's JSON.
func TestAlertStormPlanInfo(t *testing.T) {
	w := newAlertWorld(t, `
rules:
  - name: storm
    alert:
      granularity: alert
      create: { queue: Ops, subject: '{{ .GroupKey }}' }
      storm_limit: 1
`)
	// One notification with three new alerts: the first gets its own
	// ticket, the second creates the umbrella, the third comments on it.
	p := w.deliver(notification("g", firing("i", "a"), firing("i", "b"), firing("i", "c")), t0)
	want := []plan.StormDiversion{
		{Rule: "storm", Key: "alert:storm:fp-b", Umbrella: "storm:storm", Limit: 1},
		{Rule: "storm", Key: "alert:storm:fp-c", Umbrella: "storm:storm", Limit: 1},
	}
	if !slices.Equal(p.Storm, want) {
		t.Fatalf("Storm = %+v, want %+v\n%s", p.Storm, want, showPlan(p))
	}
	if len(p.Notes) != 2 {
		t.Errorf("notes %q: want one storm note per diverted key", p.Notes)
	}
	if w.next != 102 || w.ledger["alert:storm:fp-c"].TicketID != 102 {
		t.Fatalf("umbrella not ticket 102: next %d ledger %v", w.next, w.ledger)
	}

	body, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var back plan.Plan
	if err := json.Unmarshal(body, &back); err != nil || !slices.Equal(back.Storm, want) {
		t.Fatalf("JSON round trip: %v %+v from %s", err, back.Storm, body)
	}

	// A repeat of a diverted alert set is quiet: no diversion again.
	p = w.deliver(notification("g", firing("i", "a"), firing("i", "b"), firing("i", "c")), t0.Add(10*time.Second))
	if p.Storm != nil {
		t.Fatalf("quiet repeat carries storm info %+v", p.Storm)
	}
	// A minute later the guard lets new keys through: no storm info.
	p = w.deliver(notification("g2", firing("i", "d")), t0.Add(61*time.Second))
	if p.Storm != nil || w.next != 103 {
		t.Fatalf("after the storm: %+v, next %d", p.Storm, w.next)
	}
}

// TestPlanJSONWithoutStorm: plans stored before Plan.Storm existed still
// read, and a plan without diversions writes no "storm" field.
func TestPlanJSONWithoutStorm(t *testing.T) {
	var p plan.Plan
	old := `{"version":1,"event_id":"e1","rule":"ops","steps":[{"action":"comment","ticket":{"id":7},"message":{"text":"hi"}}],"notes":["rule \"ops\": x"]}`
	if err := json.Unmarshal([]byte(old), &p); err != nil {
		t.Fatal(err)
	}
	if p.Storm != nil || len(p.Steps) != 1 {
		t.Fatalf("old plan read as %+v", p)
	}
	body, err := json.Marshal(&p)
	if err != nil {
		t.Fatal(err)
	}
	if string(body) != old {
		t.Fatalf("re-encoded plan differs:\n got %s\nwant %s", body, old)
	}
}

package storetest

import (
	"context"
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
)

// Stats' counts stay equal to the events actually held through accept
// (duplicates included), plan, steps, death, retry, drop and prune, and
// its oldest pending, next attempt and unfinished follow the same rows.
func testStatsFollowChanges(t *testing.T, db DB) {
	s := db.Open(t)
	defer s.Close()
	ctx := context.Background()
	want := map[store.State]int{}
	check := func(step string) {
		t.Helper()
		st, err := s.Stats(ctx)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		for _, state := range store.AllStates() {
			if st.ByState[state] != want[state] {
				t.Fatalf("%s: counts %v, want %v", step, st.ByState, want)
			}
		}
	}
	check("empty")
	var ids []string
	for i := range 6 {
		acc, err := s.Accept(ctx, incoming("hook", fmt.Sprint(i), "{}"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, acc.ID)
	}
	want[store.StateAccepted] = 6
	check("accepted")
	if acc, err := s.Accept(ctx, incoming("hook", "0", "{}")); err != nil || !acc.Duplicate {
		t.Fatalf("duplicate: %+v, %v", acc, err)
	}
	dup := map[store.State]int{}
	st, _ := s.Stats(ctx)
	maps.Copy(dup, st.ByState) // a duplicate is held as its own event or not at all
	if n := dup[store.StateDuplicate]; n > 1 || dup[store.StateAccepted] != 6 {
		t.Fatalf("after duplicate: %v", dup)
	}
	want[store.StateDuplicate] = dup[store.StateDuplicate]
	first, _ := s.Event(ctx, ids[0])
	if st.OldestPending.IsZero() || !st.OldestPending.Equal(first.ReceivedAt) {
		t.Fatalf("oldest pending %v, want %v", st.OldestPending, first.ReceivedAt)
	}

	plan := store.PlanRecord{Version: 1, Body: []byte(`{}`), Rule: "r", Steps: []store.NewStep{{Action: "create", Key: "k"}}}
	for _, id := range ids[:4] {
		if err := s.SavePlan(ctx, id, plan); err != nil {
			t.Fatal(err)
		}
	}
	want[store.StateAccepted], want[store.StatePlanned] = 2, 4
	check("planned")
	s.StepStarted(ctx, ids[0], 0, time.Minute, "")
	want[store.StatePlanned], want[store.StateRunning] = 3, 1
	check("running")
	if err := s.StepDone(ctx, ids[0], 0, store.Result{Ticket: 1}, nil); err != nil {
		t.Fatal(err)
	}
	if err := s.Done(ctx, ids[0]); err != nil {
		t.Fatal(err)
	}
	want[store.StateRunning], want[store.StateDone] = 0, 1
	check("done")
	for _, id := range ids[1:3] {
		if err := s.Dead(ctx, id, 0, store.Failure{Class: "permanent", Message: "no"}); err != nil {
			t.Fatal(err)
		}
	}
	want[store.StatePlanned], want[store.StateDead] = 1, 2
	check("dead")
	if st, _ := s.Stats(ctx); st.Unfinished != 3+want[store.StateDuplicate] {
		t.Fatalf("unfinished %d, want %d", st.Unfinished, 3+want[store.StateDuplicate])
	}
	if err := s.Retry(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	want[store.StateDead], want[store.StateAccepted] = 1, 3
	check("retry")
	if err := s.Drop(ctx, ids[2]); err != nil {
		t.Fatal(err)
	}
	want[store.StateDead], want[store.StateDropped] = 0, 1
	check("drop")
	if err := s.Drop(ctx, ids[2]); err == nil {
		t.Fatal("second drop of the same event succeeded")
	}
	check("refused drop")

	for _, id := range ids[:3] {
		if err := s.MarkFinished(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(20 * time.Millisecond)
	n, err := s.Prune(ctx, store.Retention{Keep: map[store.State]time.Duration{store.StateDone: time.Millisecond, store.StateDropped: time.Millisecond}})
	if err != nil || n != 2 {
		t.Fatalf("pruned %d, %v; want the done and the dropped event", n, err)
	}
	want[store.StateDone], want[store.StateDropped] = 0, 0
	check("prune")
	// Reopened (another instance, or after a restart): the same counts.
	s2 := db.Open(t)
	defer s2.Close()
	st2, err := s2.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, state := range store.AllStates() {
		if st2.ByState[state] != want[state] {
			t.Fatalf("reopened: counts %v, want %v", st2.ByState, want)
		}
	}
}

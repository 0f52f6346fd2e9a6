package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
)

// The life of an event through plan, steps, death, retry (carrying the
// done step) and drop.
func testPlanStepsDeadRetryDrop(t *testing.T, db DB) {
	s := db.Open(t)
	defer s.Close()
	ctx := context.Background()
	acc, _ := s.Accept(ctx, incoming("hook", "", "{}"))
	id := acc.ID
	if err := s.SavePlan(ctx, id, store.PlanRecord{Version: 1, Body: []byte(`{"v":1}`), Key: "am:g", Rule: "r1", Steps: []store.NewStep{{Action: "create", Key: "am:g"}, {Action: "comment", Key: "am:g"}}}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.StepStarted(ctx, id, 0, time.Minute, ""); n != 1 {
		t.Fatalf("attempt %d", n)
	}
	if err := s.StepDone(ctx, id, 0, store.Result{Ticket: 42, Txn: 7, Reply: "# Ticket 42 created."}, []store.LedgerEntry{{Key: "am:g", Ticket: 42, Status: "new"}}); err != nil {
		t.Fatal(err)
	}
	le, ok, err := s.Ledger(ctx, "am:g")
	if err != nil || !ok || le.Ticket != 42 || le.EventID != id || le.CreatedAt.IsZero() {
		t.Fatalf("ledger %+v %v %v", le, ok, err)
	}
	s.StepStarted(ctx, id, 1, time.Minute, "")
	if err := s.Dead(ctx, id, 1, store.Failure{Class: "permanent", Message: "Queue nope does not exist"}); err != nil {
		t.Fatal(err)
	}
	dead, _ := s.DeadLetters(ctx, 0)
	if len(dead) != 1 || dead[0].ID != id || dead[0].DeadStep != 1 || dead[0].DeadClass != "permanent" || dead[0].Reason != "Queue nope does not exist" {
		t.Fatalf("dead letters %+v", dead)
	}
	un, _ := s.Unfinished(ctx, 10)
	if len(un) != 1 || un[0].State != store.StateDead {
		t.Fatalf("unfinished %+v", un)
	}
	s.MarkFinished(ctx, id)
	if err := s.Drop(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("drop unknown: %v", err)
	}

	if err := s.Retry(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := s.Retry(ctx, id); !errors.Is(err, store.ErrState) {
		t.Fatalf("second retry: %v", err)
	}
	e, _ := s.Event(ctx, id)
	if e.State != store.StateAccepted || !e.Replan || e.Finished || e.Steps[0].State != store.StepDone || e.Steps[0].Ticket != 42 {
		t.Fatalf("after retry %+v", e)
	}
	if e.RetriedAt.IsZero() || e.RetriedAt.Before(e.ReceivedAt) {
		t.Fatalf("retried at %v, received at %v", e.RetriedAt, e.ReceivedAt)
	}
	// RT refused step 2: it failed (not unknown), and a re-plan starts it over.
	if e.Steps[1].State != store.StepFailed || e.Steps[1].CarriedState() != store.StepPending || e.Steps[0].CarriedState() != store.StepDone {
		t.Fatalf("steps after retry %+v", e.Steps)
	}
	work, _ := s.Runnable(ctx, time.Now().Add(time.Second), 10)
	if len(work) != 1 || work[0].Planned {
		t.Fatalf("runnable after retry %+v", work)
	}
	// Re-plan carrying the done create.
	carry := e.Steps[0]
	if err := s.SavePlan(ctx, id, store.PlanRecord{Version: 1, Body: []byte(`{"v":2}`), Key: "am:g", Keys: []string{"msgid:x"}, Rule: "r1", Steps: []store.NewStep{{Action: "create", Key: "am:g", Carry: &carry}, {Action: "comment", Key: "am:g"}}}); err != nil {
		t.Fatal(err)
	}
	e, _ = s.Event(ctx, id)
	if keys, _ := s.Keys(ctx, id); len(keys) != 2 || keys[0] != "am:g" || keys[1] != "msgid:x" {
		t.Fatalf("keys %v", keys)
	}
	if e.State != store.StatePlanned || e.Steps[0].State != store.StepDone || e.Steps[0].Ticket != 42 || e.Steps[1].State != store.StepPending || string(e.Plan) != `{"v":2}` {
		t.Fatalf("re-planned %+v", e)
	}
	s.StepStarted(ctx, id, 1, time.Minute, "")
	s.Dead(ctx, id, 1, store.Failure{Class: "permanent", Message: "again"})
	if err := s.Drop(ctx, id); err != nil {
		t.Fatal(err)
	}
	st, _ := s.Stats(ctx)
	if st.ByState[store.StateDropped] != 1 || st.ByState[store.StateDead] != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// A step carried into a new plan while its outcome is unknown stays
// unknown (with its failure), so the executor reconciles it first.
func testSavePlanCarriesUnknownStep(t *testing.T, db DB) {
	s := db.Open(t)
	defer s.Close()
	ctx := context.Background()
	acc, _ := s.Accept(ctx, incoming("hook", "", "{}"))
	id := acc.ID
	old := store.Step{Action: "create", Key: "k", State: store.StepUnknown, Attempts: 3, StartedAt: time.UnixMilli(1000), Class: "ambiguous", Message: "no answer"}
	if err := s.SavePlan(ctx, id, store.PlanRecord{Version: 1, Body: []byte(`{}`), Steps: []store.NewStep{{Action: "create", Key: "k", Carry: &old}}}); err != nil {
		t.Fatal(err)
	}
	e, err := s.Event(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	got := e.Steps[0]
	if got.State != store.StepUnknown || got.Attempts != 3 || !got.StartedAt.Equal(old.StartedAt) || got.Ticket != 0 || got.Class != "ambiguous" {
		t.Fatalf("carried step %+v", got)
	}
}

// A crash after "attempt started" leaves the step unknown on recovery.
func testRecoverRunning(t *testing.T, db DB) {
	s := db.Open(t)
	ctx := context.Background()
	acc, _ := s.Accept(ctx, incoming("hook", "", "{}"))
	s.SavePlan(ctx, acc.ID, store.PlanRecord{Version: 1, Body: []byte(`{}`), Key: "k", Rule: "r", Steps: []store.NewStep{{Action: "create", Key: "k"}}})
	s.StepStarted(ctx, acc.ID, 0, time.Hour, "")
	if w, _ := s.Runnable(ctx, time.Now(), 10); len(w) != 0 {
		t.Fatal("a running event under lease is runnable")
	}
	s.Close() // the "crash"

	s = db.Open(t)
	defer s.Close()
	if n, err := s.RecoverRunning(ctx); err != nil || n != 1 {
		t.Fatalf("recovered %d, %v", n, err)
	}
	e, _ := s.Event(ctx, acc.ID)
	if e.State != store.StateWaiting || e.Steps[0].State != store.StepUnknown {
		t.Fatalf("after recovery: %s / %s", e.State, e.Steps[0].State)
	}
	held, _ := s.HeldKeys(ctx, []string{"k", "other"})
	if held["k"] != acc.ID || len(held) != 1 {
		t.Fatalf("held keys %v", held)
	}
}

// Retention deletes final events older than their state's duration once
// their disposition ran, with their payloads, and keeps the rest.
func testPrune(t *testing.T, db DB) {
	s := db.Open(t)
	defer s.Close()
	ctx := context.Background()
	var done []string
	for i := range 5 {
		acc, _ := s.Accept(ctx, incoming("hook", fmt.Sprint(i), strings.Repeat("z", 2000)))
		s.Done(ctx, acc.ID)
		s.MarkFinished(ctx, acc.ID)
		done = append(done, acc.ID)
	}
	// Final but its disposition not run; dead (kept: dead has no duration here).
	a, _ := s.Accept(ctx, incoming("hook", "a", strings.Repeat("y", 2000)))
	b, _ := s.Accept(ctx, incoming("hook", "b", "{}"))
	s.Done(ctx, a.ID)
	s.Dead(ctx, b.ID, -1, store.Failure{Class: "parse", Message: "bad"})
	s.MarkFinished(ctx, b.ID)
	if n, err := s.Prune(ctx, store.Retention{Keep: map[store.State]time.Duration{store.StateDone: time.Hour}}); err != nil || n != 0 {
		t.Fatalf("young events pruned: %d, %v", n, err)
	}
	time.Sleep(20 * time.Millisecond)
	n, err := s.Prune(ctx, store.Retention{Keep: map[store.State]time.Duration{store.StateDone: time.Millisecond}, Batch: 2})
	if err != nil || n != 5 {
		t.Fatalf("pruned %d, %v; want the 5 finished done events", n, err)
	}
	for _, id := range done {
		if _, err := s.Event(ctx, id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("pruned event %s: %v", id, err)
		}
	}
	for _, id := range []string{a.ID, b.ID} {
		if _, err := s.Event(ctx, id); err != nil {
			t.Fatalf("kept event %s: %v", id, err)
		}
	}
	if got := readRaw(t, s, a.ID); got != strings.Repeat("y", 2000) {
		t.Errorf("kept payload damaged")
	}
	if n := db.Apart(t); n != 1 {
		t.Fatalf("%d payloads stored apart left, want 1 (the unfinished event's)", n)
	}
	// The dedup key of a pruned event is free again.
	if acc, err := s.Accept(ctx, incoming("hook", "0", "{}")); err != nil || acc.Duplicate {
		t.Errorf("re-delivery after prune: %+v, %v", acc, err)
	}
}

// A dead step whose outcome is unknown stays unknown (reconciled after a
// retry); failed reconciliations are counted, kept with the idempotency
// value across a re-plan, and reset by an operator retry.
func testStepIdemReconcilesDeadUnknown(t *testing.T, db DB) {
	s := db.Open(t)
	defer s.Close()
	ctx := context.Background()
	acc, _ := s.Accept(ctx, incoming("hook", "", "{}"))
	id := acc.ID
	s.SavePlan(ctx, id, store.PlanRecord{Version: 1, Body: []byte(`{}`), Steps: []store.NewStep{{Action: "create", Key: "k"}}})
	if _, err := s.StepStarted(ctx, id, 0, time.Minute, id+"/1"); err != nil {
		t.Fatal(err)
	}
	s.StepFailed(ctx, id, 0, store.Failure{Class: "ambiguous", Message: "timeout"}, true, time.Now())
	// A later attempt must not change the value the first one sent.
	s.StepStarted(ctx, id, 0, time.Minute, id+"/2")
	for range 2 {
		if err := s.StepFailed(ctx, id, 0, store.Failure{Class: "transient", Message: "search failed", Reconcile: true}, true, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Dead(ctx, id, 0, store.Failure{Class: "ambiguous", Message: "check RT", Unknown: true}); err != nil {
		t.Fatal(err)
	}
	e, _ := s.Event(ctx, id)
	got := e.Steps[0]
	if got.State != store.StepUnknown || got.Idem != id+"/1" || got.Reconciles != 2 || got.Attempts != 2 || e.DeadClass != "ambiguous" {
		t.Fatalf("dead step %+v (class %q)", got, e.DeadClass)
	}
	if err := s.Retry(ctx, id); err != nil {
		t.Fatal(err)
	}
	e, _ = s.Event(ctx, id)
	carry := e.Steps[0]
	if carry.Reconciles != 0 || carry.Attempts != 0 {
		t.Fatalf("after retry %+v", carry)
	}
	// The re-plan moves the create to position 2; it keeps its value.
	s.SavePlan(ctx, id, store.PlanRecord{Version: 1, Body: []byte(`{}`), Steps: []store.NewStep{{Action: "comment", Key: "x"}, {Action: "create", Key: "k", Carry: &carry}}})
	e, _ = s.Event(ctx, id)
	if got := e.Steps[1]; got.State != store.StepUnknown || got.Idem != id+"/1" || e.Steps[0].Idem != "" {
		t.Fatalf("re-planned steps %+v", e.Steps)
	}
}

// One instance holds a named lease at a time; it renews its own, gives it
// up, and a lease that lapsed goes to the next instance that asks.
func testLeases(t *testing.T, db DB) {
	a, b := db.Open(t), db.Open(t)
	defer a.Close()
	defer b.Close()
	if a.Instance() == "" || a.Instance() == b.Instance() {
		t.Fatalf("instances %q and %q", a.Instance(), b.Instance())
	}
	ctx := context.Background()
	const name = "imap:support/INBOX"
	lease := func(s Store, ttl time.Duration) bool {
		t.Helper()
		ok, err := s.AcquireLease(ctx, name, ttl)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !lease(a, time.Minute) || lease(b, time.Minute) || !lease(a, time.Minute) {
		t.Fatal("a lease held by one instance went to another, or was not renewed")
	}
	ls, err := b.Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range ls {
		if l.Name == name {
			found = l.Owner == a.Instance() && l.Kind == "mailbox" && l.Until.After(time.Now())
		}
	}
	if !found {
		t.Fatalf("leases %+v: want %s held by %s", ls, name, a.Instance())
	}
	if err := b.ReleaseLease(ctx, name); err != nil || lease(b, time.Minute) {
		t.Fatalf("an instance released a lease it does not hold (%v)", err)
	}
	if err := a.ReleaseLease(ctx, name); err != nil || !lease(b, 200*time.Millisecond) {
		t.Fatalf("a released lease was not free (%v)", err)
	}
	time.Sleep(400 * time.Millisecond)
	if !lease(a, time.Minute) {
		t.Fatal("a lapsed lease was not taken over")
	}
}

// A duplicate's disposition waits for the event it duplicates: it is not
// listed as unfinished while that one still has work, and is once it is
// final (done or dead alike).
func testUnfinishedDuplicateWaitsForOriginal(t *testing.T, db DB) {
	ctx := context.Background()
	s := db.Open(t)
	defer s.Close()
	ids := func() []string {
		evs, err := s.Unfinished(ctx, 100)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range evs {
			out = append(out, e.ID)
		}
		return out
	}
	for _, end := range []string{"done", "dead"} {
		a, err := s.Accept(ctx, incoming("imap/INBOX", "<m-"+end+"@x>", "first"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := s.Accept(ctx, incoming("imap/INBOX", "<m-"+end+"@x>", "again"))
		if err != nil || b.DuplicateOf != a.ID {
			t.Fatalf("second accept: %+v, %v", b, err)
		}
		if got := ids(); slices.Contains(got, b.ID) {
			t.Fatalf("%s: duplicate listed while its original is pending: %v", end, got)
		}
		if end == "done" {
			err = s.Done(ctx, a.ID)
		} else {
			err = s.Dead(ctx, a.ID, -1, store.Failure{Class: "permanent", Message: "no such queue"})
		}
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(); !slices.Contains(got, a.ID) || !slices.Contains(got, b.ID) {
			t.Fatalf("%s: original final, unfinished %v, want both %s and %s", end, got, a.ID, b.ID)
		}
		for _, id := range []string{a.ID, b.ID} {
			if err := s.MarkFinished(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
	}
}

package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
)

func open(t testing.TB, dir string) *Store {
	t.Helper()
	s, err := Open(context.Background(), dir, Options{InlineMax: 1024})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func incoming(src, dedup, body string) source.Incoming {
	return source.Incoming{Source: src, Kind: "json", DedupKey: dedup, Raw: strings.NewReader(body),
		Origin: map[string]string{"path": "/hook"}, Meta: map[string]string{"ct": "application/json"}}
}

func readRaw(t *testing.T, s *Store, id string) string {
	t.Helper()
	rc, err := s.Raw(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestMigrationsFromEmpty(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	s.Close()
	db, err := sql.Open("sqlite", filepath.Join(dir, DBName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v int
	if err := db.QueryRow(`SELECT version FROM schema_version`).Scan(&v); err != nil || v != SchemaVersion() {
		t.Fatalf("schema version %d (%v), want %d", v, err, SchemaVersion())
	}
	var mode string
	if err := db.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal mode %q (%v), want wal", mode, err)
	}
	// Reopening an up-to-date database applies nothing and works.
	s = open(t, dir)
	s.Close()
	// A database from a newer rtbridge is refused, not modified.
	if _, err := db.Exec(`UPDATE schema_version SET version = ?`, SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), dir, Options{}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("open of a newer schema: %v", err)
	}
}

func TestAcceptDurableAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	ctx := context.Background()
	small, err := s.Accept(ctx, incoming("hook", "d1", `{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	bigBody := strings.Repeat("x", 5000)
	big, err := s.Accept(ctx, incoming("hook", "d2", bigBody))
	if err != nil {
		t.Fatal(err)
	}
	if !(small.ID < big.ID) {
		t.Fatalf("ids not in acceptance order: %s then %s", small.ID, big.ID)
	}
	s.Close()

	s = open(t, dir)
	defer s.Close()
	e, err := s.Event(ctx, small.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e.State != StateAccepted || e.Source != "hook" || e.Kind != "json" || e.Origin["path"] != "/hook" || e.Meta["ct"] != "application/json" || e.RawInFile {
		t.Fatalf("reopened event: %+v", e)
	}
	if got := readRaw(t, s, small.ID); got != `{"a":1}` {
		t.Fatalf("small raw %q", got)
	}
	e, err = s.Event(ctx, big.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !e.RawInFile || e.RawSize != 5000 {
		t.Fatalf("large payload: in file %v, size %d", e.RawInFile, e.RawSize)
	}
	if got := readRaw(t, s, big.ID); got != bigBody {
		t.Fatalf("large raw differs (%d bytes)", len(got))
	}
	files, _ := os.ReadDir(filepath.Join(dir, RawDir))
	if len(files) != 1 {
		t.Fatalf("%d payload files, want 1", len(files))
	}
	if _, err := s.Event(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
}

// A payload that fails while streaming leaves neither a row nor a file.
func TestAcceptReadErrorLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	defer s.Close()
	in := incoming("hook", "x", "")
	in.Raw = io.MultiReader(strings.NewReader(strings.Repeat("y", 4000)), errReader{})
	if _, err := s.Accept(context.Background(), in); err == nil {
		t.Fatal("accept of a failing reader succeeded")
	}
	files, _ := os.ReadDir(filepath.Join(dir, RawDir))
	st, _ := s.Stats(context.Background())
	if len(files) != 0 || st.ByState[StateAccepted] != 0 {
		t.Fatalf("left %d files, %d events", len(files), st.ByState[StateAccepted])
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestDuplicate(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	a, err := s.Accept(ctx, incoming("hook", "same", "1"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Accept(ctx, incoming("hook", "same", "2"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Duplicate || !b.Duplicate || b.DuplicateOf != a.ID {
		t.Fatalf("first %+v second %+v", a, b)
	}
	// Another source, or no key: not a duplicate.
	c, _ := s.Accept(ctx, incoming("other", "same", "3"))
	d, _ := s.Accept(ctx, incoming("hook", "", "4"))
	e, _ := s.Accept(ctx, incoming("hook", "", "5"))
	if c.Duplicate || d.Duplicate || e.Duplicate {
		t.Fatal("distinct events reported as duplicates")
	}
	ev, _ := s.Event(ctx, b.ID)
	if ev.State != StateDuplicate || ev.DuplicateOf != a.ID {
		t.Fatalf("duplicate stored as %s of %q", ev.State, ev.DuplicateOf)
	}
	work, _ := s.Runnable(ctx, time.Now().Add(time.Second), 100)
	for _, w := range work {
		if w.ID == b.ID {
			t.Fatal("a duplicate is runnable")
		}
	}
	if len(work) != 4 {
		t.Fatalf("%d runnable, want 4", len(work))
	}
}

// Many concurrent Accepts: every one gets a distinct, committed id, the
// same dedup key yields exactly one original, and they share commits.
func TestGroupCommitConcurrent(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	ctx := context.Background()
	const n = 400
	ids := make([]source.Accepted, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dedup := fmt.Sprintf("k%d", i)
			if i%10 == 0 {
				dedup = "shared"
			}
			body := fmt.Sprintf("body %d", i)
			if i%50 == 0 {
				body = strings.Repeat("L", 3000) + body // some go to files
			}
			acc, err := s.Accept(ctx, incoming("hook", dedup, body))
			if err != nil {
				errs <- err
				return
			}
			ids[i] = acc
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	commits, accepts := s.CommitStats()
	if accepts != n || commits >= n {
		t.Fatalf("%d accepts in %d commits: no batching", accepts, commits)
	}
	t.Logf("%d accepts shared %d commits", accepts, commits)
	s.Close()

	s = open(t, dir)
	defer s.Close()
	seen := map[string]bool{}
	originals := 0
	for i, a := range ids {
		if seen[a.ID] {
			t.Fatalf("id %s given twice", a.ID)
		}
		seen[a.ID] = true
		if i%10 == 0 && !a.Duplicate {
			originals++
		}
		if got := readRaw(t, s, a.ID); !strings.HasSuffix(got, fmt.Sprintf("body %d", i)) {
			t.Fatalf("event %d raw %q", i, got)
		}
	}
	if originals != 1 {
		t.Fatalf("%d originals for one dedup key, want 1", originals)
	}
	st, _ := s.Stats(ctx)
	if st.ByState[StateAccepted] != n-n/10+1 || st.ByState[StateDuplicate] != n/10-1 {
		t.Fatalf("states %v", st.ByState)
	}
}

func TestWakeOnAccept(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	if _, err := s.Accept(context.Background(), incoming("hook", "", "x")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.Wake():
	default:
		t.Fatal("no wake after a commit")
	}
}

func TestCursors(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	ctx := context.Background()
	var c source.Cursors = s
	if v, err := c.Cursor(ctx, "mbox", "INBOX"); err != nil || v != "" {
		t.Fatalf("unset cursor %q %v", v, err)
	}
	if err := c.SetCursor(ctx, "mbox", "INBOX", "17:4"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetCursor(ctx, "mbox", "INBOX", "17:9"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, dir)
	defer s.Close()
	if v, _ := s.Cursor(ctx, "mbox", "INBOX"); v != "17:9" {
		t.Fatalf("cursor after reopen %q", v)
	}
	all, _ := s.Cursors(ctx)
	if all["mbox"]["INBOX"] != "17:9" {
		t.Fatalf("cursors %v", all)
	}
}

// The life of an event through plan, steps, death, retry (carrying the
// done step) and drop.
func TestPlanStepsDeadRetryDrop(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	acc, _ := s.Accept(ctx, incoming("hook", "", "{}"))
	id := acc.ID
	if err := s.SavePlan(ctx, id, PlanRecord{Version: 1, Body: []byte(`{"v":1}`), Key: "am:g", Rule: "r1", Steps: []NewStep{{Action: "create", Key: "am:g"}, {Action: "comment", Key: "am:g"}}}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.StepStarted(ctx, id, 0, time.Minute, ""); n != 1 {
		t.Fatalf("attempt %d", n)
	}
	if err := s.StepDone(ctx, id, 0, Result{Ticket: 42, Txn: 7, Reply: "# Ticket 42 created."}, []LedgerEntry{{Key: "am:g", Ticket: 42, Status: "new"}}); err != nil {
		t.Fatal(err)
	}
	le, ok, err := s.Ledger(ctx, "am:g")
	if err != nil || !ok || le.Ticket != 42 || le.EventID != id || le.CreatedAt.IsZero() {
		t.Fatalf("ledger %+v %v %v", le, ok, err)
	}
	s.StepStarted(ctx, id, 1, time.Minute, "")
	if err := s.Dead(ctx, id, 1, Failure{Class: "permanent", Message: "Queue nope does not exist"}); err != nil {
		t.Fatal(err)
	}
	dead, _ := s.DeadLetters(ctx, 0)
	if len(dead) != 1 || dead[0].ID != id || dead[0].DeadStep != 1 || dead[0].DeadClass != "permanent" || dead[0].Reason != "Queue nope does not exist" {
		t.Fatalf("dead letters %+v", dead)
	}
	un, _ := s.Unfinished(ctx, 10)
	if len(un) != 1 || un[0].State != StateDead {
		t.Fatalf("unfinished %+v", un)
	}
	s.MarkFinished(ctx, id)
	if err := s.Drop(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("drop unknown: %v", err)
	}

	if err := s.Retry(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := s.Retry(ctx, id); !errors.Is(err, ErrState) {
		t.Fatalf("second retry: %v", err)
	}
	e, _ := s.Event(ctx, id)
	if e.State != StateAccepted || !e.Replan || e.Finished || e.Steps[0].State != StepDone || e.Steps[0].Ticket != 42 {
		t.Fatalf("after retry %+v", e)
	}
	if e.RetriedAt.IsZero() || e.RetriedAt.Before(e.ReceivedAt) {
		t.Fatalf("retried at %v, received at %v", e.RetriedAt, e.ReceivedAt)
	}
	// RT refused step 2: it failed (not unknown), and a re-plan starts it over.
	if e.Steps[1].State != StepFailed || e.Steps[1].CarriedState() != StepPending || e.Steps[0].CarriedState() != StepDone {
		t.Fatalf("steps after retry %+v", e.Steps)
	}
	work, _ := s.Runnable(ctx, time.Now().Add(time.Second), 10)
	if len(work) != 1 || work[0].Planned {
		t.Fatalf("runnable after retry %+v", work)
	}
	// Re-plan carrying the done create.
	carry := e.Steps[0]
	if err := s.SavePlan(ctx, id, PlanRecord{Version: 1, Body: []byte(`{"v":2}`), Key: "am:g", Keys: []string{"msgid:x"}, Rule: "r1", Steps: []NewStep{{Action: "create", Key: "am:g", Carry: &carry}, {Action: "comment", Key: "am:g"}}}); err != nil {
		t.Fatal(err)
	}
	e, _ = s.Event(ctx, id)
	if keys, _ := s.Keys(ctx, id); len(keys) != 2 || keys[0] != "am:g" || keys[1] != "msgid:x" {
		t.Fatalf("keys %v", keys)
	}
	if e.State != StatePlanned || e.Steps[0].State != StepDone || e.Steps[0].Ticket != 42 || e.Steps[1].State != StepPending || string(e.Plan) != `{"v":2}` {
		t.Fatalf("re-planned %+v", e)
	}
	s.StepStarted(ctx, id, 1, time.Minute, "")
	s.Dead(ctx, id, 1, Failure{Class: "permanent", Message: "again"})
	if err := s.Drop(ctx, id); err != nil {
		t.Fatal(err)
	}
	st, _ := s.Stats(ctx)
	if st.ByState[StateDropped] != 1 || st.ByState[StateDead] != 0 {
		t.Fatalf("stats %+v", st)
	}
}

// A step carried into a new plan while its outcome is unknown stays
// unknown (with its failure), so the executor reconciles it first.
func TestSavePlanCarriesUnknownStep(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	acc, _ := s.Accept(ctx, incoming("hook", "", "{}"))
	id := acc.ID
	old := Step{Action: "create", Key: "k", State: StepUnknown, Attempts: 3, StartedAt: time.UnixMilli(1000), Class: "ambiguous", Message: "no answer"}
	if err := s.SavePlan(ctx, id, PlanRecord{Version: 1, Body: []byte(`{}`), Steps: []NewStep{{Action: "create", Key: "k", Carry: &old}}}); err != nil {
		t.Fatal(err)
	}
	e, err := s.Event(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	got := e.Steps[0]
	if got.State != StepUnknown || got.Attempts != 3 || !got.StartedAt.Equal(old.StartedAt) || got.Ticket != 0 || got.Class != "ambiguous" {
		t.Fatalf("carried step %+v", got)
	}
}

// A crash after "attempt started" leaves the step unknown on recovery.
func TestRecoverRunning(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	ctx := context.Background()
	acc, _ := s.Accept(ctx, incoming("hook", "", "{}"))
	s.SavePlan(ctx, acc.ID, PlanRecord{Version: 1, Body: []byte(`{}`), Key: "k", Rule: "r", Steps: []NewStep{{Action: "create", Key: "k"}}})
	s.StepStarted(ctx, acc.ID, 0, time.Hour, "")
	if w, _ := s.Runnable(ctx, time.Now(), 10); len(w) != 0 {
		t.Fatal("a running event under lease is runnable")
	}
	s.Close() // the "crash"

	s = open(t, dir)
	defer s.Close()
	if n, err := s.RecoverRunning(ctx); err != nil || n != 1 {
		t.Fatalf("recovered %d, %v", n, err)
	}
	e, _ := s.Event(ctx, acc.ID)
	if e.State != StateWaiting || e.Steps[0].State != StepUnknown {
		t.Fatalf("after recovery: %s / %s", e.State, e.Steps[0].State)
	}
	held, _ := s.HeldKeys(ctx)
	if held["k"] != acc.ID {
		t.Fatalf("held keys %v", held)
	}
}

func TestIDsSortable(t *testing.T) {
	var g idGen
	now := time.Now()
	prev := ""
	for i := range 1000 {
		at := now
		if i%7 == 0 {
			at = now.Add(-time.Second) // a clock step back must not break order
		}
		id := g.next(at)
		if len(id) != 26 || id <= prev {
			t.Fatalf("id %q after %q", id, prev)
		}
		prev = id
	}
	if a, b := g.next(now.Add(time.Hour)), g.next(now.Add(2*time.Hour)); !bytes.Equal([]byte(a[:10]), []byte(a[:10])) || a >= b {
		t.Fatal("later time, smaller id")
	}
}

// A dead step whose outcome is unknown stays unknown (reconciled after a
// retry); failed reconciliations are counted, kept with the idempotency
// value across a re-plan, and reset by an operator retry.
func TestStepIdemReconcilesDeadUnknown(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	acc, _ := s.Accept(ctx, incoming("hook", "", "{}"))
	id := acc.ID
	s.SavePlan(ctx, id, PlanRecord{Version: 1, Body: []byte(`{}`), Steps: []NewStep{{Action: "create", Key: "k"}}})
	if _, err := s.StepStarted(ctx, id, 0, time.Minute, id+"/1"); err != nil {
		t.Fatal(err)
	}
	s.StepFailed(ctx, id, 0, Failure{Class: "ambiguous", Message: "timeout"}, true, time.Now())
	// A later attempt must not change the value the first one sent.
	s.StepStarted(ctx, id, 0, time.Minute, id+"/2")
	for range 2 {
		if err := s.StepFailed(ctx, id, 0, Failure{Class: "transient", Message: "search failed", Reconcile: true}, true, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Dead(ctx, id, 0, Failure{Class: "ambiguous", Message: "check RT", Unknown: true}); err != nil {
		t.Fatal(err)
	}
	e, _ := s.Event(ctx, id)
	got := e.Steps[0]
	if got.State != StepUnknown || got.Idem != id+"/1" || got.Reconciles != 2 || got.Attempts != 2 || e.DeadClass != "ambiguous" {
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
	s.SavePlan(ctx, id, PlanRecord{Version: 1, Body: []byte(`{}`), Steps: []NewStep{{Action: "comment", Key: "x"}, {Action: "create", Key: "k", Carry: &carry}}})
	e, _ = s.Event(ctx, id)
	if got := e.Steps[1]; got.State != StepUnknown || got.Idem != id+"/1" || e.Steps[0].Idem != "" {
		t.Fatalf("re-planned steps %+v", e.Steps)
	}
}

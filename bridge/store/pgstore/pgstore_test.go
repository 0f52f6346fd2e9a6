package pgstore_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/bridge/store/pgstore"
	"github.com/rtbridge/rtbridge/internal/memtest"
)

// Instances starting at the same moment migrate once; a schema newer than
// the binary is refused, untouched.
func TestMigrateConcurrently(t *testing.T) {
	db := freshDB(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := pgstore.Open(ctx, pgstore.Options{DSN: db.DSN})
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var v, rows int
	if err := db.Admin.QueryRow(ctx, `SELECT max(version), count(*) FROM `+db.Schema+`.schema_version`).Scan(&v, &rows); err != nil || v != pgstore.SchemaVersion() || rows != 1 {
		t.Fatalf("schema version %d in %d rows (%v), want %d in 1", v, rows, err, pgstore.SchemaVersion())
	}
	if _, err := db.Admin.Exec(ctx, `UPDATE `+db.Schema+`.schema_version SET version = $1`, pgstore.SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	if _, err := pgstore.Open(ctx, pgstore.Options{DSN: db.DSN}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("open of a newer schema: %v", err)
	}
}

// A DSN that does not parse is refused without repeating it (it may hold
// a password).
func TestBadDSNHidesPassword(t *testing.T) {
	_, err := pgstore.Open(context.Background(), pgstore.Options{DSN: "postgres://u:s3cret@host:notaport/db"})
	if !errors.Is(err, pgstore.ErrDSN) || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("bad DSN: %v", err)
	}
}

func plan(key string) store.PlanRecord {
	return store.PlanRecord{Version: 1, Body: []byte(`{}`), Key: key, Rule: "r", Steps: []store.NewStep{{Action: "create", Key: key}}}
}

func accept(t *testing.T, s *pgstore.Store) string {
	t.Helper()
	acc, err := s.Accept(context.Background(), source.Incoming{Source: "hook", Kind: "json", Raw: strings.NewReader("{}")})
	if err != nil {
		t.Fatal(err)
	}
	return acc.ID
}

func claim(t *testing.T, s *pgstore.Store, id string, keys ...string) bool {
	t.Helper()
	ok, err := s.Claim(context.Background(), id, keys)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func runnable(t *testing.T, s *pgstore.Store, id string) bool {
	t.Helper()
	ws, err := s.Runnable(context.Background(), time.Now(), 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range ws {
		if w.ID == id {
			return true
		}
	}
	return false
}

// One instance runs an event and holds its keys; the holder renews its
// leases; when it dies mid-step another instance takes the event over, the
// started step is of unknown outcome (reconciled first), and the dead
// holder could not act on it any more.
func TestClaimFailover(t *testing.T) {
	db := freshDB(t)
	ctx := context.Background()
	const ttl = 600 * time.Millisecond
	a := db.open(t, pgstore.Options{LeaseTTL: ttl, Instance: "a"})
	b := db.open(t, pgstore.Options{LeaseTTL: ttl, Instance: "b"})
	e1, e2, e3 := accept(t, a), accept(t, a), accept(t, b)
	if err := a.SavePlan(ctx, e1, plan("am:g")); err != nil {
		t.Fatal(err)
	}
	if !claim(t, a, e1, "am:g") {
		t.Fatal("a could not claim a free event")
	}
	if claim(t, b, e1, "am:g") || runnable(t, b, e1) {
		t.Fatal("b got an event a holds")
	}
	// Key order: e2 (later, same key) waits while e1 is unfinished, and a
	// key another instance holds blocks an unplanned event too.
	if claim(t, b, e2, "am:g") {
		t.Fatal("b claimed a later event of a key held by an earlier one")
	}
	if claim(t, b, e3, "am:g") || !claim(t, b, e3, "other") {
		t.Fatal("key leases wrong")
	}
	if err := b.Release(ctx, e3); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * ttl) // a renews meanwhile
	if claim(t, b, e1, "am:g") {
		t.Fatal("a's renewed lease lapsed")
	}
	leases, err := b.Leases(ctx)
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]string{}
	for _, l := range leases {
		held[l.Kind+" "+l.Name] = l.Owner
	}
	if held["event "+e1] != "a" || held["key am:g"] != "a" {
		t.Fatalf("leases %v", held)
	}
	// A key held only by a lease (its event is not planned yet) shows too.
	if !claim(t, a, e3, "solo") {
		t.Fatal("a could not claim a released event")
	}
	if hk, _ := b.HeldKeys(ctx, []string{"am:g", "solo", "other"}); hk["am:g"] != e1 || hk["solo"] != e3 || hk["other"] != "" || len(hk) != 2 {
		t.Fatalf("held keys seen from b: %v", hk)
	}
	if hk, _ := a.HeldKeys(ctx, []string{"solo"}); hk["solo"] != "" {
		t.Fatalf("an instance's own key leases block it: %v", hk)
	}

	if _, err := a.StepStarted(ctx, e1, 0, time.Hour, e1+"/1"); err != nil {
		t.Fatal(err)
	}
	a.Kill() // mid-step: the create may have reached RT
	if claim(t, b, e1, "am:g") {
		t.Fatal("b took the event before a's lease lapsed")
	}
	time.Sleep(ttl + 200*time.Millisecond)
	if !runnable(t, b, e1) {
		t.Fatal("an event whose holder died is not runnable (its next attempt lies an hour ahead)")
	}
	if !claim(t, b, e1, "am:g") {
		t.Fatal("b could not take over the event of a dead instance")
	}
	e, err := b.Event(ctx, e1)
	if err != nil {
		t.Fatal(err)
	}
	if e.State != store.StateWaiting || e.Steps[0].State != store.StepUnknown || e.Steps[0].Idem != e1+"/1" {
		t.Fatalf("taken over: %s, step %+v", e.State, e.Steps[0])
	}
	// An instance that has not claimed the event may not start its steps.
	c := db.open(t, pgstore.Options{LeaseTTL: ttl, Instance: "c"})
	if _, err := c.StepStarted(ctx, e1, 0, time.Hour, ""); !errors.Is(err, pgstore.ErrLeaseLost) {
		t.Fatalf("step started by an instance without the lease: %v", err)
	}
	// Once e1 is done and released, e2 may run.
	if err := b.StepDone(ctx, e1, 0, store.Result{Ticket: 7}, nil); err != nil {
		t.Fatal(err)
	}
	if err := b.Done(ctx, e1); err != nil {
		t.Fatal(err)
	}
	if err := b.Release(ctx, e1); err != nil {
		t.Fatal(err)
	}
	if !claim(t, c, e2, "am:g") {
		t.Fatal("the next event of the key could not be claimed")
	}
	// Dispositions: one instance gets each final event.
	un, _ := b.Unfinished(ctx, 10)
	un2, _ := c.Unfinished(ctx, 10)
	if len(un) != 1 || un[0].ID != e1 || len(un2) != 0 {
		t.Fatalf("unfinished: b %d, c %d", len(un), len(un2))
	}
}

// An event another instance holds is not due before its lease ends, even
// when its next attempt is past: the other instances' schedulers sleep
// instead of polling until the holder is done. Released, it is due again;
// left running by a dead holder, it is due when the lease lapses.
func TestNextDueWaitsForLease(t *testing.T) {
	db := freshDB(t)
	ctx := context.Background()
	const ttl = 3 * time.Second
	a := db.open(t, pgstore.Options{LeaseTTL: ttl, Instance: "a"})
	b := db.open(t, pgstore.Options{LeaseTTL: ttl, Instance: "b"})
	due := func() time.Time {
		t.Helper()
		d, err := b.NextDue(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	e1 := accept(t, a)
	if d := due(); d.After(time.Now()) {
		t.Fatalf("a free accepted event is due at %v, in the future", d)
	}
	if !claim(t, a, e1) {
		t.Fatal("a could not claim a free event")
	}
	if d := time.Until(due()); d <= 0 {
		t.Fatalf("an event a holds is due in %v for b, want when its lease (%v) ends", d, ttl)
	}
	if err := a.Release(ctx, e1); err != nil {
		t.Fatal(err)
	}
	if d := due(); d.After(time.Now()) {
		t.Fatalf("a released event is due at %v, in the future", d)
	}
	if !claim(t, a, e1) {
		t.Fatal("a could not claim the event again")
	}
	if err := a.SavePlan(ctx, e1, plan("k")); err != nil {
		t.Fatal(err)
	}
	if _, err := a.StepStarted(ctx, e1, 0, time.Hour, ""); err != nil {
		t.Fatal(err)
	}
	a.Kill() // mid-step: next attempt an hour ahead, lease lapses within ttl
	if d := time.Until(due()); d > ttl {
		t.Fatalf("a dead holder's running event is due in %v, want within its lease (%v)", d, ttl)
	}
}

// Accepting and reading back a 50 MB payload stays within a few chunks of
// memory (Accept and Raw stream); reports the peak heap growth of each.
func BenchmarkPayload50MB(b *testing.B) {
	db := freshDB(b)
	s := db.open(b, pgstore.Options{})
	ctx := context.Background()
	const size = 50 << 20
	var acceptPeak, readPeak uint64
	for b.Loop() {
		var id string
		p, err := memtest.HeapPeak(func() error {
			acc, err := s.Accept(ctx, source.Incoming{Source: "imap", Kind: "mail", Raw: io.LimitReader(pattern{}, size)})
			id = acc.ID
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		acceptPeak = max(acceptPeak, p)
		p, err = memtest.HeapPeak(func() error {
			rc, err := s.Raw(ctx, id)
			if err != nil {
				return err
			}
			defer rc.Close()
			n, err := io.Copy(io.Discard, rc)
			if err == nil && n != size {
				err = io.ErrUnexpectedEOF
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		readPeak = max(readPeak, p)
	}
	b.ReportMetric(float64(acceptPeak)/(1<<20), "accept-peak-MB")
	b.ReportMetric(float64(readPeak)/(1<<20), "read-peak-MB")
	b.SetBytes(size)
}

// pattern is an endless payload that costs no memory.
type pattern struct{}

func (pattern) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte('a' + i%26)
	}
	return len(p), nil
}

package imapsource

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/bridge/store/pgstore"
	"github.com/rtbridge/rtbridge/internal/pgtest"
)

// cuttable is the store's lease API with a switch that cuts this instance
// off from it, as a network partition or a frozen process would: from the
// other instances' side the holder just stops renewing.
type cuttable struct {
	Leaser
	cut atomic.Bool
}

var errCut = errors.New("test: cut off from the store")

func (c *cuttable) AcquireLease(ctx context.Context, name string, ttl time.Duration) (bool, error) {
	if c.cut.Load() {
		return false, errCut
	}
	return c.Leaser.AcquireLease(ctx, name, ttl)
}

func (c *cuttable) ReleaseLease(ctx context.Context, name string) error {
	if c.cut.Load() {
		return errCut
	}
	return c.Leaser.ReleaseLease(ctx, name)
}

// countingSink counts what one instance accepted.
type countingSink struct {
	source.Sink
	n, dups atomic.Int64
}

func (c *countingSink) Accept(ctx context.Context, in source.Incoming) (source.Accepted, error) {
	a, err := c.Sink.Accept(ctx, in)
	if err == nil {
		c.n.Add(1)
		if a.Duplicate {
			c.dups.Add(1)
		}
	}
	return a, err
}

// instance is one rtbridge process's share: its own PostgreSQL store (an
// instance id of its own) and an IMAP source on the shared folder.
type instance struct {
	st   *pgstore.Store
	src  *Source
	l    *cuttable
	sink *countingSink
	stop context.CancelFunc
	done chan error
}

func startInstance(t *testing.T, dsn string, cfg configIMAP, folder string, ttl time.Duration) *instance {
	t.Helper()
	st, err := pgstore.Open(context.Background(), pgstore.Options{DSN: dsn, LeaseTTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	src, err := New(cfg, folder, st, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{st: st, src: src, l: &cuttable{Leaser: st}, sink: &countingSink{Sink: st}, done: make(chan error, 1)}
	src.UseLease(in.l, ttl)
	ctx, cancel := context.WithCancel(context.Background())
	in.stop = cancel
	go func() { in.done <- src.Run(ctx, in.sink) }()
	t.Cleanup(in.halt)
	return in
}

// halt is a clean stop: Run returns and releases the lease.
func (in *instance) halt() {
	in.stop()
	if err := <-in.done; err != nil {
		panic(err)
	}
	in.done <- nil // halt again is a no-op
}

// waitHolder waits until exactly one instance holds the lease and returns
// its index, and how long that took.
func waitHolder(t *testing.T, within time.Duration, ins ...*instance) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	for time.Since(start) < within {
		holder, n := -1, 0
		for i, in := range ins {
			if in.src.LeaseHeld() {
				holder, n = i, n+1
			}
		}
		if n == 1 {
			return holder, time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no single lease holder after %s", within)
	return -1, 0
}

func (in *instance) waitAccepted(t *testing.T, n int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for in.sink.n.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("accepted %d of %d", in.sink.n.Load(), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Two instances on one PostgreSQL watch the same Dovecot folder. Only the
// lease holder logs in, fetches and disposes; the standby's Finish refuses.
// When the holder is cut off from the store (it stops renewing, as a killed
// or frozen process does) it closes its session before the lease lapses,
// and the standby takes over within the TTL, reading on from the shared
// cursor: no mail is accepted twice. A clean stop hands the lease over at
// once.
func TestMailboxLeaseFailover(t *testing.T) {
	d := newDovecot(t)
	dsn := pgtest.Schema(t).DSN
	done := d.createFolder("done")
	cfg := d.config("none")
	cfg.Disposition = "move: " + done
	const ttl = 3 * time.Second
	ins := []*instance{startInstance(t, dsn, cfg, d.folder, ttl), startInstance(t, dsn, cfg, d.folder, ttl)}
	h, _ := waitHolder(t, 5*time.Second, ins...)
	a, b := ins[h], ins[1-h]
	if a.src.Status().Lease != "held" {
		t.Fatalf("holder status %+v", a.src.Status())
	}

	tag := time.Now().UnixNano()
	for i := range 5 {
		d.append(d.folder, mail(fmt.Sprintf("lease %d", i), fmt.Sprintf("lease-%d-%d@example.org", tag, i)))
	}
	a.waitAccepted(t, 5, 15*time.Second)
	if st := b.src.Status(); b.sink.n.Load() != 0 || st.Logins != 0 || st.Lease != "standby" {
		t.Fatalf("standby accepted %d, logged in %d times, lease %q", b.sink.n.Load(), st.Logins, st.Lease)
	}
	finishAll := func(in *instance) (refused int) {
		t.Helper()
		evs, err := in.st.Runnable(context.Background(), time.Now().Add(time.Hour), 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range evs {
			e, err := in.st.Event(context.Background(), w.ID)
			if err != nil {
				t.Fatal(err)
			}
			err = in.src.Finish(context.Background(), source.Final{EventID: e.ID, State: source.Done, Origin: e.Origin, At: time.Now()})
			switch {
			case errors.Is(err, errNotHolder):
				refused++
			case err != nil:
				t.Fatalf("Finish: %v", err)
			}
		}
		return refused
	}
	if n := finishAll(b); n != 5 {
		t.Fatalf("the standby refused %d of 5 dispositions", n)
	}
	if got := len(d.uids(d.folder, "")); got != 5 {
		t.Fatalf("%d messages left in the inbox after the standby's Finish, want 5", got)
	}

	// The holder is cut off: the standby takes over within the TTL.
	a.l.cut.Store(true)
	cut := time.Now()
	for !b.src.LeaseHeld() {
		if time.Since(cut) > ttl+time.Second {
			t.Fatalf("standby does not hold the lease %s after the holder stopped renewing", time.Since(cut))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("lease moved %s after the holder stopped renewing (ttl %s)", time.Since(cut).Round(time.Millisecond), ttl)
	if st := a.src.Status(); a.src.LeaseHeld() || st.Connected || st.Lease != "standby" {
		t.Fatalf("the cut-off holder still acts: held %v, status %+v", a.src.LeaseHeld(), st)
	}
	if n := finishAll(a); n != 5 {
		t.Fatalf("the former holder refused %d of 5 dispositions", n)
	}
	for i := 5; i < 10; i++ {
		d.append(d.folder, mail(fmt.Sprintf("lease %d", i), fmt.Sprintf("lease-%d-%d@example.org", tag, i)))
	}
	b.waitAccepted(t, 5, 15*time.Second)
	if n := finishAll(b); n != 0 {
		t.Fatalf("the new holder refused %d dispositions", n)
	}

	// Back in touch, the former holder stays standby; a clean stop of the
	// holder hands the lease over at once, not after the TTL.
	a.l.cut.Store(false)
	time.Sleep(ttl / 2)
	if a.src.LeaseHeld() {
		t.Fatal("the former holder took the lease back from a live holder")
	}
	b.halt()
	stopped := time.Now()
	for !a.src.LeaseHeld() {
		if time.Since(stopped) > ttl/2 {
			t.Fatalf("no takeover %s after a clean stop", time.Since(stopped))
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("lease moved %s after a clean stop", time.Since(stopped).Round(time.Millisecond))
	time.Sleep(2 * time.Second) // a poll round: nothing new to accept
	if n := a.sink.n.Load() + b.sink.n.Load(); n != 10 || a.sink.dups.Load()+b.sink.dups.Load() != 0 {
		t.Fatalf("accepted %d (duplicates %d, %d), want 10 once each", n, a.sink.dups.Load(), b.sink.dups.Load())
	}
	if in, moved := len(d.uids(d.folder, "")), len(d.uids(done, "")); in != 0 || moved != 10 {
		t.Fatalf("inbox %d, done %d; want 0 and 10", in, moved)
	}
}

// The lease's timing against the store's real lease (two SQLite handles on
// one directory stand in for two instances; no server needed): a standby
// waits while the holder renews; a holder cut off from the store gives up
// before its lease can lapse and the standby takes over within the TTL; a
// release hands over within a step.
func TestLeaseTiming(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	open := func(id string) *store.Store {
		st, err := store.Open(ctx, dir, store.Options{Instance: id})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	const ttl = 3 * time.Second // the least lease_ttl allows
	cutA := &cuttable{Leaser: open("a")}
	la, lb := newLease(cutA, "acct/INBOX", ttl), newLease(open("b"), "acct/INBOX", ttl)
	if !la.wait(ctx, func(error) { t.Fatal("a: standby on a free lease") }) || !la.held() {
		t.Fatal("a does not hold a free lease")
	}
	lost := make(chan time.Time, 1)
	actx, stopA := context.WithCancel(ctx)
	defer stopA()
	go la.keep(actx, func(error) { lost <- time.Now() })
	gotB := make(chan time.Time, 1)
	go func() {
		lb.wait(ctx, func(error) {})
		gotB <- time.Now()
	}()
	select {
	case <-gotB:
		t.Fatal("b took a lease a renews")
	case <-lost:
		t.Fatal("a lost a lease it renews")
	case <-time.After(2 * ttl):
	}

	cutA.cut.Store(true)
	cut := time.Now()
	lostAt, tookAt := <-lost, <-gotB
	if la.held() {
		t.Error("a still holds the lease after giving it up")
	}
	if !lostAt.Before(tookAt) {
		t.Errorf("a gave up %s after b took over", lostAt.Sub(tookAt))
	}
	if d := tookAt.Sub(cut); d > ttl+500*time.Millisecond {
		t.Errorf("b took over %s after a stopped renewing; ttl %s", d, ttl)
	}
	t.Logf("a gave up after %s, b took over after %s", lostAt.Sub(cut).Round(time.Millisecond), tookAt.Sub(cut).Round(time.Millisecond))

	cutA.cut.Store(false)
	gotA := make(chan time.Time, 1)
	go func() {
		la.wait(ctx, func(error) {})
		gotA <- time.Now()
	}()
	time.Sleep(ttl / 2)
	if err := lb.release(ctx); err != nil {
		t.Fatal(err)
	}
	released := time.Now()
	if d := (<-gotA).Sub(released); d > la.step+300*time.Millisecond {
		t.Errorf("a took a released lease after %s; a step is %s", d, la.step)
	}
}

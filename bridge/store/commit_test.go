package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// Accepts and other writes queued together share one transaction; a write
// that fails is rolled back alone and the others commit.
func TestGroupCommitSharesOneTransaction(t *testing.T) {
	s, err := Open(context.Background(), t.TempDir(), Options{BatchWait: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	boom := errors.New("boom")
	const n = 20
	var wg sync.WaitGroup
	accErr := make([]error, n)
	wErr := make([]error, n)
	c0, _ := s.CommitStats()
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, accErr[i] = s.Accept(ctx, incoming("hook", fmt.Sprint(i), `{}`))
		}()
		go func() {
			defer wg.Done()
			wErr[i] = s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO daemon_info (name, value, updated_at) VALUES (?, 'x', 0)`, fmt.Sprint("w", i)); err != nil {
					return err
				}
				if i%2 == 1 {
					return boom // its insert must not survive
				}
				return nil
			})
		}()
	}
	wg.Wait()
	c1, accepted := s.CommitStats()
	for i := range n {
		if accErr[i] != nil {
			t.Errorf("accept %d: %v", i, accErr[i])
		}
		if want := i%2 == 1; errors.Is(wErr[i], boom) != want {
			t.Errorf("write %d: %v, want boom: %v", i, wErr[i], want)
		}
	}
	if accepted != n {
		t.Errorf("%d accepted, want %d", accepted, n)
	}
	if commits := c1 - c0; commits > n/2 {
		t.Errorf("%d jobs took %d commits: not grouped", 2*n, commits)
	}
	infos, err := s.Infos(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, ok := infos[fmt.Sprint("w", i)]; ok != (i%2 == 0) {
			t.Errorf("write %d committed: %v, want %v", i, ok, i%2 == 0)
		}
	}
}

// A write whose caller gives up while it waits in the queue never runs,
// and its caller's cancellation does not touch the others.
func TestGroupCommitAbandonedWrite(t *testing.T) {
	s := open(t, t.TempDir())
	defer s.Close()
	ctx := context.Background()
	hold, held := make(chan struct{}), make(chan struct{})
	go s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		close(held)
		<-hold // the committer is busy with this one
		return nil
	})
	<-held
	cctx, cancel := context.WithCancel(ctx)
	ran := false
	done := make(chan error)
	go func() {
		done <- s.write(cctx, func(ctx context.Context, tx *sql.Tx) error { ran = true; return nil })
	}()
	accepted := make(chan error)
	go func() {
		_, err := s.Accept(ctx, incoming("hook", "a", `{}`))
		accepted <- err
	}()
	time.Sleep(50 * time.Millisecond) // both queued behind the held commit
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("abandoned write: %v", err)
	}
	close(hold)
	if err := <-accepted; err != nil {
		t.Fatalf("accept queued beside it: %v", err)
	}
	if err := s.SetInfo(ctx, "after", "1"); err != nil {
		t.Fatal(err)
	}
	if ran {
		t.Fatal("the abandoned write ran")
	}
}

// Prepared statements kept by the store hold no read snapshot between
// uses: a checkpoint can still copy the whole WAL back and truncate it.
func TestPreparedStatementsLetCheckpointFinish(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	defer s.Close()
	ctx := context.Background()
	var last string
	for i := range 50 {
		acc, err := s.Accept(ctx, incoming("hook", fmt.Sprint(i), `{"n":1}`))
		if err != nil {
			t.Fatal(err)
		}
		last = acc.ID
	}
	for range 3 {
		if _, err := s.Runnable(ctx, time.Now().Add(time.Second), 256); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Event(ctx, last); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Unfinished(ctx, 10); err != nil {
			t.Fatal(err)
		}
		if err := s.Ignore(ctx, last, "r", "why"); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, DBName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var busy, logFrames, done int
	if err := db.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done); err != nil {
		t.Fatal(err)
	}
	if busy != 0 {
		t.Fatalf("checkpoint blocked (busy=%d, log=%d, checkpointed=%d): a cached statement holds a snapshot", busy, logFrames, done)
	}
}

// restartWAL rewinds the WAL: the next commit writes from its start
// again, however long it had grown.
func TestRestartWALRewinds(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir)
	defer s.Close()
	ctx := context.Background()
	for i := range 300 {
		if _, err := s.Accept(ctx, incoming("hook", fmt.Sprint(i), `{"n":1}`)); err != nil {
			t.Fatal(err)
		}
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, DBName))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	frames := func() int {
		var busy, n, copied int
		if err := db.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &n, &copied); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// The WAL's length without checkpointing it (which would let the next
	// commit rewind it anyway): its file.
	fi, err := os.Stat(filepath.Join(dir, DBName+"-wal"))
	if err != nil || fi.Size() < 100*4096 {
		t.Fatalf("WAL after 300 accepts: %v, %v", fi, err)
	}
	s.restartWAL()
	if _, err := s.Accept(ctx, incoming("hook", "last", `{}`)); err != nil {
		t.Fatal(err)
	}
	if after := frames(); after > 20 {
		t.Fatalf("WAL %d frames after the rewind and one accept (file was %d bytes)", after, fi.Size())
	}
}

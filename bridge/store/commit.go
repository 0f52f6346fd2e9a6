package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
)

// writeReq is one write transaction's work waiting for the group committer.
type writeReq struct {
	fn  func(ctx context.Context, tx *sql.Tx) error
	err chan error
	// state: 0 queued, 1 taken by the committer, 2 given up by its caller
	// (its ctx ended before the committer reached it: it never runs).
	state atomic.Int32
}

// job is one item of a group commit: an Accept or another write.
type job struct {
	acc *acceptReq
	w   *writeReq
}

// write runs fn in a write transaction. Every write of the process goes
// through the one committer and shares its transaction, and so its fsync,
// with the accepts and writes queued at the moment: with one writer
// connection, an Accept would otherwise wait behind each of the executor's
// commits in turn (the tail of accept latency), and a busy executor would
// pay one fsync per state change. fn gets the committer's context, never
// its caller's: a statement interrupted by one caller's cancellation would
// roll back the whole shared transaction. Once the committer has taken fn,
// write waits for the outcome even if ctx ends.
func (s *Store) write(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if s.readOnly() {
		return ErrReadOnly
	}
	if s.closed.Load() {
		return ErrClosed
	}
	w := &writeReq{fn: fn, err: make(chan error, 1)}
	select {
	case s.writeq <- w:
	case <-ctx.Done():
		return fmt.Errorf("store: write: %w", ctx.Err())
	case <-s.stop:
		return ErrClosed
	}
	select {
	case err := <-w.err:
		return err
	case <-ctx.Done():
		if w.state.CompareAndSwap(0, 2) {
			return fmt.Errorf("store: write: %w", ctx.Err())
		}
		return <-w.err
	case <-s.done:
		select {
		case err := <-w.err:
			return err
		default:
			return ErrClosed
		}
	}
}

// runTx runs fn in one write transaction on the writer connection (the
// committer's, and the migration's before the committer starts).
func (s *Store) runTx(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	tx, err := s.wdb.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(ctx, tx); err != nil {
		tx.Rollback()
		return err
	}
	err = tx.Commit()
	s.writes.Add(1)
	if err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// committer is the one writer: it takes the first waiting job, adds every
// one already queued (up to BatchMax), and runs them in one transaction
// (one WAL fsync). Jobs that arrive during a commit queue up and form the
// next batch, so batches grow with the load without a fixed wait;
// BatchWait > 0 adds one. Ids are assigned here, so id order is commit
// order.
func (s *Store) committer() {
	defer close(s.done)
	for {
		var first job
		select {
		case first.acc = <-s.accepts:
		case first.w = <-s.writeq:
		case <-s.stop:
			s.drainClosed()
			return
		}
		s.commitBatch(s.gather(first))
		if s.walLong.Swap(false) {
			s.restartWAL()
		}
	}
}

// gather collects the batch that starts with first.
func (s *Store) gather(first job) []job {
	batch := []job{first}
	var expire <-chan time.Time
	if s.opts.BatchWait > 0 {
		timer := time.NewTimer(s.opts.BatchWait)
		defer timer.Stop()
		expire = timer.C
	}
	for len(batch) < s.opts.BatchMax {
		var j job
		select {
		case j.acc = <-s.accepts:
		case j.w = <-s.writeq:
		default:
			if expire == nil {
				return batch
			}
			select {
			case j.acc = <-s.accepts:
			case j.w = <-s.writeq:
			case <-expire:
				return batch
			}
		}
		batch = append(batch, j)
	}
	return batch
}

func (s *Store) drainClosed() {
	for {
		select {
		case r := <-s.accepts:
			r.resp <- acceptResp{err: ErrClosed}
		case w := <-s.writeq:
			w.err <- ErrClosed
		default:
			return
		}
	}
}

// commitBatch runs the jobs in one transaction, each inside its own
// savepoint when there are several: a job that fails is rolled back alone
// and gets its own error, the others commit. A failed commit fails them all.
func (s *Store) commitBatch(batch []job) {
	now := s.opts.Now()
	out := make([]source.Accepted, len(batch))
	errs := make([]error, len(batch))
	run := make([]bool, len(batch))
	for i, j := range batch {
		run[i] = j.w == nil || j.w.state.CompareAndSwap(0, 1)
	}
	shared := len(batch) > 1
	// A fresh context: one caller's cancellation must not abort the others.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.runTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for i, j := range batch {
			if !run[i] {
				continue
			}
			if shared {
				if _, err := s.txExec(ctx, tx, `SAVEPOINT job`); err != nil {
					return err
				}
			}
			if j.acc != nil {
				out[i], errs[i] = s.insertEvent(ctx, tx, j.acc, now)
				if errs[i] != nil {
					errs[i] = fmt.Errorf("store: accept: %w", errs[i])
				}
			} else {
				errs[i] = j.w.fn(ctx, tx)
			}
			if !shared {
				return errs[i]
			}
			if errs[i] != nil {
				if _, err := s.txExec(ctx, tx, `ROLLBACK TO job`); err != nil {
					return err
				}
			}
			if _, err := s.txExec(ctx, tx, `RELEASE job`); err != nil {
				return err
			}
		}
		return nil
	})
	s.commits.Add(1)
	s.wstmts.prepareWanted(ctx) // the writer connection is free now
	accepted := 0
	for i, j := range batch {
		e := errs[i]
		if e == nil && err != nil {
			e = err
			if j.acc != nil {
				e = fmt.Errorf("store: accept: %w", err)
			}
		}
		switch {
		case !run[i]:
		case j.acc != nil:
			if e == nil {
				accepted++
			}
			j.acc.resp <- acceptResp{acc: out[i], err: e}
		default:
			j.w.err <- e
		}
	}
	if accepted > 0 {
		s.accepted.Add(int64(accepted))
		s.wake()
	}
}

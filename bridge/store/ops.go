package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Stats is what `rtbridge status` shows about the queue.
type Stats struct {
	ByState       map[State]int // every state present, zero included
	OldestPending time.Time     // received_at of the oldest unfinished event; zero when none
	NextAttempt   time.Time     // earliest due retry; zero when none
	Unfinished    int           // final events whose disposition has not run
}

// Stats counts events by state. Its cost does not grow with the store:
// the counts are kept by triggers (state_counts), the oldest pending and
// the next attempt come from the few non-final rows of events_work, and
// the unfinished from events_finish.
func (s *Store) Stats(ctx context.Context) (Stats, error) {
	st := Stats{ByState: map[State]int{}}
	for _, s := range states {
		st.ByState[s] = 0
	}
	rows, err := s.read(ctx, `SELECT state, n FROM state_counts`)
	if err != nil {
		return st, fmt.Errorf("store: stats: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var state State
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return st, fmt.Errorf("store: stats: %w", err)
		}
		st.ByState[state] = n
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("store: stats: %w", err)
	}
	var oldest, next sql.NullInt64
	if err := s.readRow(ctx, `SELECT MIN(received_at), MIN(next_attempt) FROM events WHERE state IN `+nonFinal).Scan(&oldest, &next); err != nil {
		return st, fmt.Errorf("store: stats: %w", err)
	}
	st.OldestPending, st.NextAttempt = fromMS(oldest.Int64), fromMS(next.Int64)
	if err := s.readRow(ctx, `SELECT COUNT(*) FROM events WHERE finished = 0 AND state IN ('done', 'ignored', 'dead', 'duplicate')`).Scan(&st.Unfinished); err != nil {
		return st, fmt.Errorf("store: stats: %w", err)
	}
	return st, nil
}

// DeadLetters lists dead events, oldest first (limit <= 0: all).
func (s *Store) DeadLetters(ctx context.Context, limit int) ([]*Event, error) {
	if limit <= 0 {
		limit = -1
	}
	return s.list(ctx, `WHERE state = 'dead' ORDER BY id LIMIT ?`, limit)
}

// Recent lists the latest final events, newest first: the bounded history
// of outcomes for operators.
func (s *Store) Recent(ctx context.Context, limit int) ([]*Event, error) {
	return s.list(ctx, `WHERE state IN ('done', 'ignored', 'dead', 'duplicate', 'dropped') ORDER BY id DESC LIMIT ?`, limit)
}

// Retry sends a dead event back to be re-planned with the current rules;
// the results of its steps that succeeded are kept for the executor to
// carry over (Event.Replan). It works from another process while the daemon
// runs (the daemon polls); in-process it wakes the executor.
func (s *Store) Retry(ctx context.Context, id string) error {
	err := s.update(ctx, id, func(ctx context.Context, tx *sql.Tx) error {
		now := ms(s.opts.Now())
		res, err := s.txExec(ctx, tx, `UPDATE events SET state = 'accepted', replan = CASE WHEN plan IS NULL THEN 0 ELSE 1 END,
			attempts = 0, next_attempt = ?, dead_step = -1, dead_class = '', reason = '', finished = 0, updated_at = ?, retried_at = ?
			WHERE id = ? AND state = 'dead'`, now, now, now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: %s is not dead", ErrState, id)
		}
		// Attempts and reconciliations of unfinished steps start over; done steps stay done.
		_, err = s.txExec(ctx, tx, `UPDATE steps SET attempts = 0, reconciles = 0 WHERE event_id = ? AND state <> 'done'`, id)
		return err
	})
	if err == nil {
		s.wake()
	}
	return err
}

// Drop gives up on a dead event for good (it stays listed as dropped).
func (s *Store) Drop(ctx context.Context, id string) error {
	return s.update(ctx, id, func(ctx context.Context, tx *sql.Tx) error {
		res, err := s.txExec(ctx, tx, `UPDATE events SET state = 'dropped', updated_at = ? WHERE id = ? AND state = 'dead'`, ms(s.opts.Now()), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("%w: %s is not dead", ErrState, id)
		}
		return nil
	})
}

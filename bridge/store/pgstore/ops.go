package pgstore

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rtbridge/rtbridge/bridge/store"
)

// Stats counts events by state, at a cost that does not grow with the
// store: the counts are kept by triggers, the rest read from partial
// indexes of the few non-final and unfinished rows.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	st := store.Stats{ByState: map[store.State]int{}}
	for _, state := range store.AllStates() {
		st.ByState[state] = 0
	}
	counts := map[string]int{}
	if err := s.stateCounts(ctx, counts); err != nil {
		return st, err
	}
	for state, n := range counts {
		st.ByState[store.State(state)] = n
	}
	var oldest, next *int64
	if err := s.pool.QueryRow(ctx, `SELECT MIN(received_at), MIN(next_attempt) FROM events WHERE state IN `+nonFinal).Scan(&oldest, &next); err != nil {
		return st, fmt.Errorf("pgstore: stats: %w", err)
	}
	if oldest != nil {
		st.OldestPending, st.NextAttempt = fromMS(*oldest), fromMS(*next)
	}
	if err := s.pool.QueryRow(ctx, `SELECT COUNT(*) FROM events WHERE NOT finished AND state IN ('done', 'ignored', 'dead', 'duplicate')`).Scan(&st.Unfinished); err != nil {
		return st, fmt.Errorf("pgstore: stats: %w", err)
	}
	return st, nil
}

// DeadLetters lists dead events, oldest first (limit <= 0: all).
func (s *Store) DeadLetters(ctx context.Context, limit int) ([]*store.Event, error) {
	if limit <= 0 {
		return s.list(ctx, `SELECT `+eventCols+` FROM events WHERE state = 'dead' ORDER BY id`)
	}
	return s.list(ctx, `SELECT `+eventCols+` FROM events WHERE state = 'dead' ORDER BY id LIMIT $1`, limit)
}

// Recent lists the latest final events, newest first.
func (s *Store) Recent(ctx context.Context, limit int) ([]*store.Event, error) {
	return s.list(ctx, `SELECT `+eventCols+` FROM events WHERE state IN ('done', 'ignored', 'dead', 'duplicate', 'dropped') ORDER BY id DESC LIMIT $1`, limit)
}

// Retry sends a dead event back to be re-planned with the current rules,
// keeping the results of its steps that succeeded; every instance is woken.
func (s *Store) Retry(ctx context.Context, id string) error {
	err := s.update(ctx, id, func(tx pgx.Tx) error {
		now := ms(s.opts.Now())
		tag, err := tx.Exec(ctx, `UPDATE events SET state = 'accepted', replan = plan IS NOT NULL,
			attempts = 0, next_attempt = $1, dead_step = -1, dead_class = '', reason = '', finished = false, updated_at = $1, retried_at = $1,
			owner = '', lease_until = NULL
			WHERE id = $2 AND state = 'dead'`, now, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: %s is not dead", store.ErrState, id)
		}
		if _, err := tx.Exec(ctx, `UPDATE steps SET attempts = 0, reconciles = 0 WHERE event_id = $1 AND state <> 'done'`, id); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `SELECT pg_notify($1, '')`, wakeChannel)
		return err
	})
	if err == nil {
		s.wake()
	}
	return err
}

// Drop gives up on a dead event for good (it stays listed as dropped).
func (s *Store) Drop(ctx context.Context, id string) error {
	return s.update(ctx, id, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE events SET state = 'dropped', updated_at = $1 WHERE id = $2 AND state = 'dead'`, ms(s.opts.Now()), id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("%w: %s is not dead", store.ErrState, id)
		}
		return nil
	})
}

// Prune applies the retention as the SQLite store does (store.Retention):
// per final state, events final for longer than its duration and whose
// disposition ran, in transactions of at most r.Batch events, resting
// between them; dedup entries go with them, payload chunks, steps and
// keys by cascade; the ledger stays. Instances pruning at once skip each
// other's rows.
func (s *Store) Prune(ctx context.Context, r store.Retention) (events int, err error) {
	if r.Batch <= 0 {
		r.Batch = store.DefaultPruneBatch
	}
	now := s.opts.Now()
	for _, state := range store.AllStates() {
		keep := r.Keep[state]
		if !state.Final() || keep <= 0 {
			continue
		}
		cut := ms(now.Add(-keep))
		for {
			t0 := time.Now()
			var n int64
			err := s.exec(ctx, func(tx pgx.Tx) error {
				tag, err := tx.Exec(ctx, `WITH v AS (
						SELECT id, source, dedup_key FROM events
						WHERE state = $1 AND finished AND updated_at < $2
						ORDER BY updated_at LIMIT $3 FOR UPDATE SKIP LOCKED),
					d AS (DELETE FROM dedup USING v WHERE dedup.source = v.source AND dedup.dedup_key = v.dedup_key AND dedup.event_id = v.id)
					DELETE FROM events WHERE id IN (SELECT id FROM v)`, string(state), cut, r.Batch)
				n = tag.RowsAffected()
				return err
			})
			events += int(n)
			if err != nil {
				return events, fmt.Errorf("pgstore: prune %s: %w", state, err)
			}
			if int(n) < r.Batch {
				break
			}
			select {
			case <-ctx.Done():
				return events, ctx.Err()
			case <-time.After(max(5*time.Millisecond, time.Since(t0))):
			}
		}
	}
	return events, nil
}

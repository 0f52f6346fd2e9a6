package pgstore

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/rtbridge/rtbridge/bridge/store"
)

// Stats counts events by state.
func (s *Store) Stats(ctx context.Context) (store.Stats, error) {
	st := store.Stats{ByState: map[store.State]int{}}
	for _, state := range store.AllStates() {
		st.ByState[state] = 0
	}
	rows, err := s.pool.Query(ctx, `SELECT state, COUNT(*) FROM events GROUP BY state`)
	if err != nil {
		return st, fmt.Errorf("pgstore: stats: %w", err)
	}
	for rows.Next() {
		var state store.State
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			rows.Close()
			return st, fmt.Errorf("pgstore: stats: %w", err)
		}
		st.ByState[state] = n
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("pgstore: stats: %w", err)
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

// Prune applies the retention: payloads of old finished events first, then
// the oldest final events beyond KeepFinal (never dead ones, never ones
// whose disposition has not run).
func (s *Store) Prune(ctx context.Context, r store.Retention) (events int, err error) {
	now := s.opts.Now()
	const final = `state IN ('done', 'ignored', 'duplicate', 'dropped') AND finished`
	err = s.exec(ctx, func(tx pgx.Tx) error {
		if r.RawAge > 0 {
			cut := ms(now.Add(-r.RawAge))
			if _, err := tx.Exec(ctx, `DELETE FROM payload_chunks WHERE event_id IN (SELECT id FROM events WHERE `+final+` AND received_at < $1)`, cut); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE events SET raw = NULL, raw_chunked = false WHERE `+final+` AND received_at < $1`, cut); err != nil {
				return err
			}
		}
		if r.KeepFinal > 0 {
			tag, err := tx.Exec(ctx, `WITH old AS (SELECT id FROM events WHERE `+final+` ORDER BY id DESC OFFSET $1),
				gone AS (DELETE FROM dedup WHERE event_id IN (SELECT id FROM old))
				DELETE FROM events WHERE id IN (SELECT id FROM old)`, r.KeepFinal)
			if err != nil {
				return err
			}
			events = int(tag.RowsAffected())
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("pgstore: prune: %w", err)
	}
	return events, nil
}

package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rtbridge/rtbridge/bridge/store"
)

// nonFinal is the SQL list of states that still have work.
const nonFinal = `('accepted', 'planned', 'running', 'waiting')`

// unleased: no live lease of any instance on the event.
const unleased = `(lease_until IS NULL OR lease_until < clock_timestamp())`

// leaseMS is an event's lease_until in Unix milliseconds, like next_attempt.
const leaseMS = `(extract(epoch FROM lease_until) * 1000)::bigint`

// Runnable returns up to limit events, in id order, that are due at now
// and that no instance holds: a running event whose holder's lease lapsed
// (the holder died) is returned at once. Claim before running one.
func (s *Store) Runnable(ctx context.Context, now time.Time, limit int) ([]store.Work, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, state, corr_key, plan IS NOT NULL AND NOT replan, next_attempt,
			CASE WHEN plan IS NOT NULL AND NOT replan THEN ARRAY(SELECT key FROM event_keys WHERE event_id = events.id ORDER BY key) END
		FROM events WHERE state IN `+nonFinal+` AND `+unleased+`
			AND (next_attempt <= $1 OR (state = 'running' AND lease_until IS NOT NULL))
		ORDER BY id LIMIT $2`, ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("pgstore: runnable: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Work, error) {
		var w store.Work
		var next int64
		err := r.Scan(&w.ID, &w.State, &w.Key, &w.Planned, &next, &w.Keys)
		if len(w.Keys) == 0 {
			w.Keys = nil
		}
		w.NextAttempt = fromMS(next)
		return w, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: runnable: %w", err)
	}
	return out, nil
}

// HeldKeys returns, for each of keys that a planned unfinished event
// holds, the smallest such event id: a later event with that key must
// wait. Keys another instance holds now count too (with the event it
// runs), so the scheduler does not try to claim what it cannot get. Only
// the keys asked about are looked up.
func (s *Store) HeldKeys(ctx context.Context, keys []string) (map[string]string, error) {
	out := map[string]string{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT key, MIN(id) FROM (
			SELECT k.key, e.id FROM event_keys k JOIN events e ON e.id = k.event_id
				WHERE k.key = ANY($2) AND e.state IN `+nonFinal+` AND NOT e.replan
			UNION ALL
			SELECT key, event_id FROM key_leases WHERE key = ANY($2) AND owner <> $1 AND lease_until >= clock_timestamp()
		) held GROUP BY key`, s.opts.Instance, keys)
	if err != nil {
		return nil, fmt.Errorf("pgstore: held keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, id string
		if err := rows.Scan(&k, &id); err != nil {
			return nil, fmt.Errorf("pgstore: held keys: %w", err)
		}
		out[k] = id
	}
	return out, rows.Err()
}

// NextDue returns the earliest time an unfinished event may become
// runnable (zero when none): its next_attempt, or for an event some
// instance holds, no earlier than its lease's end (Runnable skips it until
// then). Counting only next_attempt, an event another instance had
// claimed and was still planning (due in the past) made every instance
// with a free worker poll the store every 5 ms until its step started.
func (s *Store) NextDue(ctx context.Context) (time.Time, error) {
	var v *int64
	// A running event with a lease is runnable when the lease lapses (its
	// holder died), whatever its next_attempt; others when both allow.
	if err := s.pool.QueryRow(ctx, `SELECT MIN(CASE WHEN lease_until IS NULL THEN next_attempt
			WHEN state = 'running' THEN `+leaseMS+`
			ELSE GREATEST(next_attempt, `+leaseMS+`) END)
		FROM events WHERE state IN `+nonFinal).Scan(&v); err != nil {
		return time.Time{}, fmt.Errorf("pgstore: next due: %w", err)
	}
	if v == nil {
		return time.Time{}, nil
	}
	return fromMS(*v), nil
}

// RecoverRunning makes running events that no live instance holds
// runnable now and marks their started steps unknown (an attempt may have
// reached RT). Events other instances hold are left alone, so every
// instance may call it when it starts.
func (s *Store) RecoverRunning(ctx context.Context) (int, error) {
	var n int64
	err := s.exec(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE steps SET state = 'unknown' WHERE state = 'started'
			AND event_id IN (SELECT id FROM events WHERE state = 'running' AND `+unleased+`)`); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE events SET state = 'waiting', next_attempt = $1, owner = '', lease_until = NULL
			WHERE state = 'running' AND `+unleased, ms(s.opts.Now()))
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("pgstore: recover running: %w", err)
	}
	return int(n), nil
}

const eventCols = `id, source, kind, dedup_key, received_at, origin, meta, raw_size, raw_chunked, state, duplicate_of,
	corr_key, plan, plan_version, replan, attempts, next_attempt, updated_at, reason, rule, dead_step, dead_class, finished, retried_at`

func scanEvent(sc pgx.Row) (*store.Event, error) {
	var e store.Event
	var recv, next, upd, retried int64
	var origin, meta string
	err := sc.Scan(&e.ID, &e.Source, &e.Kind, &e.DedupKey, &recv, &origin, &meta, &e.RawSize, &e.RawInFile, &e.State, &e.DuplicateOf,
		&e.Key, &e.Plan, &e.PlanVersion, &e.Replan, &e.Attempts, &next, &upd, &e.Reason, &e.Rule, &e.DeadStep, &e.DeadClass, &e.Finished, &retried)
	if err != nil {
		return nil, err
	}
	e.ReceivedAt, e.NextAttempt, e.UpdatedAt, e.RetriedAt = fromMS(recv), fromMS(next), fromMS(upd), fromMS(retried)
	if err := json.Unmarshal([]byte(origin), &e.Origin); err != nil {
		return nil, fmt.Errorf("origin of %s: %w", e.ID, err)
	}
	if err := json.Unmarshal([]byte(meta), &e.Meta); err != nil {
		return nil, fmt.Errorf("meta of %s: %w", e.ID, err)
	}
	return &e, nil
}

// Event returns one event with its steps.
func (s *Store) Event(ctx context.Context, id string) (*store.Event, error) {
	e, err := scanEvent(s.pool.QueryRow(ctx, `SELECT `+eventCols+` FROM events WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", store.ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: event %s: %w", id, err)
	}
	rows, err := s.pool.Query(ctx, `SELECT idx, action, key, state, attempts, reconciles, idem, started_at, finished_at, ticket, txn, class, message, reply
		FROM steps WHERE event_id = $1 ORDER BY idx`, id)
	if err != nil {
		return nil, fmt.Errorf("pgstore: steps of %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var st store.Step
		var start, fin int64
		if err := rows.Scan(&st.Index, &st.Action, &st.Key, &st.State, &st.Attempts, &st.Reconciles, &st.Idem, &start, &fin, &st.Ticket, &st.Txn, &st.Class, &st.Message, &st.Reply); err != nil {
			return nil, fmt.Errorf("pgstore: steps of %s: %w", id, err)
		}
		st.StartedAt, st.FinishedAt = fromMS(start), fromMS(fin)
		e.Steps = append(e.Steps, st)
	}
	return e, rows.Err()
}

// ErrLeaseLost is returned when another instance holds the event now (this
// one's lease lapsed): it must not act on the event any more.
var ErrLeaseLost = errors.New("pgstore: another instance holds the event now")

// fence checks, inside tx and with the event's row locked, that no other
// instance holds the event: the decisions to plan and to send are fenced,
// so an instance whose lease lapsed (a long pause) cannot act twice.
func (s *Store) fence(ctx context.Context, tx pgx.Tx, id string) error {
	var owner string
	var live bool
	if err := tx.QueryRow(ctx, `SELECT owner, lease_until IS NOT NULL AND lease_until >= clock_timestamp() FROM events WHERE id = $1 FOR UPDATE`, id).Scan(&owner, &live); err != nil {
		return err
	}
	if owner != "" && owner != s.opts.Instance && live {
		return fmt.Errorf("%w (%s)", ErrLeaseLost, owner)
	}
	return nil
}

// SavePlan stores an event's plan and its steps (replacing an earlier plan
// after an operator retry) and moves it to planned.
func (s *Store) SavePlan(ctx context.Context, id string, p store.PlanRecord) error {
	now := ms(s.opts.Now())
	return s.update(ctx, id, func(tx pgx.Tx) error {
		if err := s.fence(ctx, tx, id); err != nil {
			return err
		}
		for _, q := range []string{`DELETE FROM steps WHERE event_id = $1`, `DELETE FROM event_keys WHERE event_id = $1`} {
			if _, err := tx.Exec(ctx, q, id); err != nil {
				return err
			}
		}
		for i, st := range p.Steps {
			if c := st.Carry; c != nil {
				_, err := tx.Exec(ctx, `INSERT INTO steps (event_id, idx, action, key, state, attempts, reconciles, idem, started_at, finished_at, ticket, txn, class, message, reply)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`, id, i, st.Action, st.Key, string(c.CarriedState()), c.Attempts, c.Reconciles, c.Idem,
					ms(c.StartedAt), ms(c.FinishedAt), c.Ticket, c.Txn, c.Class, c.Message, c.Reply)
				if err != nil {
					return err
				}
				continue
			}
			if _, err := tx.Exec(ctx, `INSERT INTO steps (event_id, idx, action, key, state) VALUES ($1, $2, $3, $4, 'pending')`, id, i, st.Action, st.Key); err != nil {
				return err
			}
		}
		for _, k := range planKeys(p) {
			if _, err := tx.Exec(ctx, `INSERT INTO event_keys (event_id, key) VALUES ($1, $2)`, id, k); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `UPDATE events SET state = 'planned', plan = $1, plan_version = $2, corr_key = $3, rule = $4, replan = false,
			reason = '', dead_step = -1, dead_class = '', updated_at = $5, next_attempt = $5 WHERE id = $6`, p.Body, p.Version, p.Key, p.Rule, now, id)
		return err
	})
}

// planKeys is the plan's main key and its other keys, once each, sorted.
func planKeys(p store.PlanRecord) []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range append([]string{p.Key}, p.Keys...) {
		if k != "" && !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// Keys returns the correlation keys of an event's stored plan.
func (s *Store) Keys(ctx context.Context, id string) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT key FROM event_keys WHERE event_id = $1 ORDER BY key`, id)
	if err != nil {
		return nil, fmt.Errorf("pgstore: keys of %s: %w", id, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("pgstore: keys of %s: %w", id, err)
	}
	return out, nil
}

// Ignore finishes an event no rule wants.
func (s *Store) Ignore(ctx context.Context, id, rule, reason string) error {
	return s.update(ctx, id, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE events SET state = 'ignored', rule = $1, reason = $2, finished = false, updated_at = $3 WHERE id = $4`,
			rule, reason, ms(s.opts.Now()), id)
		return err
	})
}

// StepStarted commits "attempt n of step idx started" before any byte goes
// to RT. It fails with ErrLeaseLost when another instance holds the event.
func (s *Store) StepStarted(ctx context.Context, id string, idx int, lease time.Duration, idem string) (attempt int, err error) {
	now := s.opts.Now()
	err = s.update(ctx, id, func(tx pgx.Tx) error {
		if err := s.fence(ctx, tx, id); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `UPDATE steps SET state = CASE WHEN state = 'unknown' THEN 'unknown' ELSE 'started' END,
			attempts = attempts + 1, started_at = $1, idem = CASE WHEN idem = '' THEN $2 ELSE idem END
			WHERE event_id = $3 AND idx = $4 RETURNING attempts`, ms(now), idem, id, idx).Scan(&attempt); err != nil {
			return fmt.Errorf("step %d: %w", idx, err)
		}
		_, err := tx.Exec(ctx, `UPDATE events SET state = 'running', attempts = attempts + 1, next_attempt = $1, updated_at = $2 WHERE id = $3`,
			ms(now.Add(lease)), ms(now), id)
		return err
	})
	return attempt, err
}

// StepDone records a step's result and, in the same transaction, the
// ledger entries it established.
func (s *Store) StepDone(ctx context.Context, id string, idx int, r store.Result, ledger []store.LedgerEntry) error {
	now := s.opts.Now()
	return s.update(ctx, id, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE steps SET state = 'done', finished_at = $1, ticket = $2, txn = $3, reply = $4, class = '', message = ''
			WHERE event_id = $5 AND idx = $6`, ms(now), r.Ticket, r.Txn, store.Clip(r.Reply), id, idx); err != nil {
			return err
		}
		for _, le := range ledger {
			if err := putLedger(ctx, tx, le, id, now); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `UPDATE events SET updated_at = $1 WHERE id = $2`, ms(now), id)
		return err
	})
}

// StepFailed records a failed attempt that will be retried at next.
func (s *Store) StepFailed(ctx context.Context, id string, idx int, f store.Failure, unknown bool, next time.Time) error {
	st := store.StepPending
	if unknown {
		st = store.StepUnknown
	}
	rec := 0
	if f.Reconcile {
		rec = 1
	}
	now := ms(s.opts.Now())
	return s.update(ctx, id, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE steps SET state = $1, finished_at = $2, class = $3, message = $4, reply = $5, reconciles = reconciles + $6
			WHERE event_id = $7 AND idx = $8`, string(st), now, f.Class, store.Clip(f.Message), store.Clip(f.Reply), rec, id, idx); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE events SET state = 'waiting', next_attempt = $1, updated_at = $2 WHERE id = $3`, ms(next), now, id)
		return err
	})
}

// Defer puts an event back to wait without counting a failure.
func (s *Store) Defer(ctx context.Context, id string, next time.Time) error {
	return s.update(ctx, id, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE events SET state = CASE WHEN plan IS NULL OR replan THEN state ELSE 'waiting' END,
			next_attempt = $1, updated_at = $2 WHERE id = $3`, ms(next), ms(s.opts.Now()), id)
		return err
	})
}

// Dead dead-letters an event (step -1: before any step).
func (s *Store) Dead(ctx context.Context, id string, step int, f store.Failure) error {
	now := ms(s.opts.Now())
	st := store.StepFailed
	if f.Unknown {
		st = store.StepUnknown
	}
	return s.update(ctx, id, func(tx pgx.Tx) error {
		if step >= 0 {
			if _, err := tx.Exec(ctx, `UPDATE steps SET state = CASE WHEN state = 'done' THEN 'done' ELSE $1 END,
				finished_at = $2, class = $3, message = $4, reply = $5 WHERE event_id = $6 AND idx = $7`,
				string(st), now, f.Class, store.Clip(f.Message), store.Clip(f.Reply), id, step); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `UPDATE events SET state = 'dead', dead_step = $1, dead_class = $2, reason = $3, finished = false, updated_at = $4 WHERE id = $5`,
			step, f.Class, store.Clip(f.Message), now, id)
		return err
	})
}

// Done finishes an event whose steps all succeeded.
func (s *Store) Done(ctx context.Context, id string) error {
	return s.update(ctx, id, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE events SET state = 'done', finished = false, reason = '', updated_at = $1 WHERE id = $2`, ms(s.opts.Now()), id)
		return err
	})
}

// Unfinished returns final events whose source disposition has not run
// yet, oldest first, and leases them to this instance for LeaseTTL, so
// that one instance runs each disposition. A duplicate is listed only once
// the event it duplicates is final too (its disposition follows that
// outcome). An event whose source has a
// live mailbox lease (AcquireLease named after the source) of another
// instance is left to that instance: only the holder disposes of its mail.
func (s *Store) Unfinished(ctx context.Context, limit int) ([]*store.Event, error) {
	out, err := s.list(ctx, `UPDATE events SET owner = $1, lease_until = clock_timestamp() + make_interval(secs => $2)
		WHERE id IN (SELECT id FROM events WHERE NOT finished AND state IN ('done', 'ignored', 'dead', 'duplicate')
			AND NOT (state = 'duplicate' AND EXISTS (SELECT 1 FROM events o WHERE o.id = events.duplicate_of AND o.state IN `+nonFinal+`))
			AND (`+unleased+` OR owner = $1)
			AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.name = events.source AND l.owner <> $1
				AND l.lease_until >= clock_timestamp())
			ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING `+eventCols, s.opts.Instance, secs(s.opts.LeaseTTL), limit)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, err
}

// MarkFinished records that the source's disposition ran for the event.
func (s *Store) MarkFinished(ctx context.Context, id string) error {
	return s.update(ctx, id, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE events SET finished = true, owner = '', lease_until = NULL WHERE id = $1`, id)
		return err
	})
}

func (s *Store) list(ctx context.Context, query string, args ...any) ([]*store.Event, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore: list: %w", err)
	}
	defer rows.Close()
	var out []*store.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("pgstore: list: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: list: %w", err)
	}
	return out, nil
}

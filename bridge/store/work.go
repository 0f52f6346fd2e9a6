package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// nonFinal is the SQL list of states that still have work.
const nonFinal = `('accepted', 'planned', 'running', 'waiting')`

// Runnable returns up to limit events whose next attempt is due at now, in
// id (acceptance) order, each with the keys of its stored plan (one query:
// the scheduler asks on every wake). The caller (the executor) applies
// per-key ordering with HeldKeys and its own in-flight set.
func (s *Store) Runnable(ctx context.Context, now time.Time, limit int) ([]Work, error) {
	rows, err := s.read(ctx, `SELECT id, state, corr_key, plan IS NOT NULL AND replan = 0, next_attempt,
			CASE WHEN plan IS NOT NULL AND replan = 0 THEN (SELECT json_group_array(key) FROM (SELECT key FROM event_keys WHERE event_id = events.id ORDER BY key)) END
		FROM events WHERE state IN `+nonFinal+` AND next_attempt <= ? ORDER BY id LIMIT ?`, ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("store: runnable: %w", err)
	}
	defer rows.Close()
	var out []Work
	for rows.Next() {
		var w Work
		var next int64
		var keys sql.NullString
		if err := rows.Scan(&w.ID, &w.State, &w.Key, &w.Planned, &next, &keys); err != nil {
			return nil, fmt.Errorf("store: runnable: %w", err)
		}
		if keys.Valid {
			if err := json.Unmarshal([]byte(keys.String), &w.Keys); err != nil {
				return nil, fmt.Errorf("store: runnable: keys of %s: %w", w.ID, err)
			}
			if len(w.Keys) == 0 {
				w.Keys = nil
			}
		}
		w.NextAttempt = fromMS(next)
		out = append(out, w)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: runnable: %w", err)
	}
	return out, nil
}

// HeldKeys returns, for each of keys that a planned unfinished event holds,
// the smallest such event id: a later event with that key must wait. Plans
// marked for re-planning hold nothing until they are planned again. Only
// the keys asked about are looked up, through the key index: the cost
// follows the scheduler's candidates, not the backlog.
func (s *Store) HeldKeys(ctx context.Context, keys []string) (map[string]string, error) {
	out := map[string]string{}
	if len(keys) == 0 {
		return out, nil
	}
	list, err := json.Marshal(keys)
	if err != nil {
		return nil, fmt.Errorf("store: held keys: %w", err)
	}
	rows, err := s.read(ctx, `SELECT k.key, MIN(e.id) FROM event_keys k JOIN events e ON e.id = k.event_id
		WHERE k.key IN (SELECT value FROM json_each(?)) AND e.state IN `+nonFinal+` AND e.replan = 0 GROUP BY k.key`, string(list))
	if err != nil {
		return nil, fmt.Errorf("store: held keys: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, id string
		if err := rows.Scan(&k, &id); err != nil {
			return nil, fmt.Errorf("store: held keys: %w", err)
		}
		out[k] = id
	}
	return out, rows.Err()
}

// NextDue returns the earliest next_attempt of unfinished events (zero when none).
func (s *Store) NextDue(ctx context.Context) (time.Time, error) {
	var v sql.NullInt64
	if err := s.readRow(ctx, `SELECT MIN(next_attempt) FROM events WHERE state IN `+nonFinal).Scan(&v); err != nil {
		return time.Time{}, fmt.Errorf("store: next due: %w", err)
	}
	return fromMS(v.Int64), nil
}

// RecoverRunning makes events left running by a previous process runnable
// now, and marks their started steps unknown (an attempt may have reached
// RT). Call it once when the executor starts, never from a second process.
func (s *Store) RecoverRunning(ctx context.Context) (int, error) {
	var n int64
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, `UPDATE steps SET state = 'unknown' WHERE state = 'started'`); err != nil {
			return err
		}
		res, err := s.txExec(ctx, tx, `UPDATE events SET state = 'waiting', next_attempt = ? WHERE state = 'running'`, ms(s.opts.Now()))
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store: recover running: %w", err)
	}
	return int(n), nil
}

const eventCols = `id, source, kind, dedup_key, received_at, origin, meta, raw_size, raw_file <> '', state, duplicate_of,
	corr_key, plan, plan_version, replan, attempts, next_attempt, updated_at, reason, rule, dead_step, dead_class, finished, retried_at`

func scanEvent(sc interface{ Scan(...any) error }) (*Event, error) {
	var e Event
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
func (s *Store) Event(ctx context.Context, id string) (*Event, error) {
	e, err := scanEvent(s.readRow(ctx, `SELECT `+eventCols+` FROM events WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: event %s: %w", id, err)
	}
	rows, err := s.read(ctx, `SELECT idx, action, key, state, attempts, reconciles, idem, started_at, finished_at, ticket, txn, class, message, reply
		FROM steps WHERE event_id = ? ORDER BY idx`, id)
	if err != nil {
		return nil, fmt.Errorf("store: steps of %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var st Step
		var start, fin int64
		if err := rows.Scan(&st.Index, &st.Action, &st.Key, &st.State, &st.Attempts, &st.Reconciles, &st.Idem, &start, &fin, &st.Ticket, &st.Txn, &st.Class, &st.Message, &st.Reply); err != nil {
			return nil, fmt.Errorf("store: steps of %s: %w", id, err)
		}
		st.StartedAt, st.FinishedAt = fromMS(start), fromMS(fin)
		e.Steps = append(e.Steps, st)
	}
	return e, rows.Err()
}

// Raw opens the exact bytes an event was accepted with. The raw payload of
// old final events may have been pruned (ErrNotExist).
func (s *Store) Raw(ctx context.Context, id string) (io.ReadCloser, error) {
	var raw []byte
	var file string
	var pruned bool // not raw == nil: the driver may scan an empty blob as nil
	err := s.readRow(ctx, `SELECT raw, raw IS NULL, raw_file FROM events WHERE id = ?`, id).Scan(&raw, &pruned, &file)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("store: raw of %s: %w", id, err)
	}
	if file != "" {
		f, err := os.Open(filepath.Join(s.dir, RawDir, file))
		if err != nil {
			return nil, fmt.Errorf("store: raw of %s: %w", id, err)
		}
		return f, nil
	}
	if pruned {
		return nil, fmt.Errorf("store: raw of %s: pruned: %w", id, os.ErrNotExist)
	}
	return io.NopCloser(bytes.NewReader(raw)), nil
}

// PlanRecord is a plan as the store keeps it: opaque versioned bytes plus
// what the store must know to order and show it.
type PlanRecord struct {
	Version int    // the rules engine's plan format version
	Body    []byte // the plan (JSON)
	Rule    string // the rule that made it, for operators and metrics
	Key     string // the main correlation key ("" when none)
	Keys    []string
	Steps   []NewStep
}

// SavePlan stores an event's plan and its steps (replacing an earlier plan
// after an operator retry) and moves it to planned. The plan is frozen from
// here on: a rules reload does not change it.
func (s *Store) SavePlan(ctx context.Context, id string, p PlanRecord) error {
	now := ms(s.opts.Now())
	return s.update(ctx, id, func(ctx context.Context, tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM steps WHERE event_id = ?`, `DELETE FROM event_keys WHERE event_id = ?`} {
			if _, err := s.txExec(ctx, tx, q, id); err != nil {
				return err
			}
		}
		for i, st := range p.Steps {
			if c := st.Carry; c != nil {
				_, err := s.txExec(ctx, tx, `INSERT INTO steps (event_id, idx, action, key, state, attempts, reconciles, idem, started_at, finished_at, ticket, txn, class, message, reply)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, i, st.Action, st.Key, string(c.CarriedState()), c.Attempts, c.Reconciles, c.Idem,
					ms(c.StartedAt), ms(c.FinishedAt), c.Ticket, c.Txn, c.Class, c.Message, c.Reply)
				if err != nil {
					return err
				}
				continue
			}
			if _, err := s.txExec(ctx, tx, `INSERT INTO steps (event_id, idx, action, key, state) VALUES (?, ?, ?, ?, 'pending')`, id, i, st.Action, st.Key); err != nil {
				return err
			}
		}
		seen := map[string]bool{}
		for _, k := range append([]string{p.Key}, p.Keys...) {
			if k == "" || seen[k] {
				continue
			}
			seen[k] = true
			if _, err := s.txExec(ctx, tx, `INSERT INTO event_keys (event_id, key) VALUES (?, ?)`, id, k); err != nil {
				return err
			}
		}
		_, err := s.txExec(ctx, tx, `UPDATE events SET state = 'planned', plan = ?, plan_version = ?, corr_key = ?, rule = ?, replan = 0,
			reason = '', dead_step = -1, dead_class = '', updated_at = ?, next_attempt = ? WHERE id = ?`, p.Body, p.Version, p.Key, p.Rule, now, now, id)
		return err
	})
}

// Keys returns the correlation keys of an event's stored plan.
func (s *Store) Keys(ctx context.Context, id string) ([]string, error) {
	rows, err := s.read(ctx, `SELECT key FROM event_keys WHERE event_id = ? ORDER BY key`, id)
	if err != nil {
		return nil, fmt.Errorf("store: keys of %s: %w", id, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("store: keys of %s: %w", id, err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// Ignore finishes an event no rule wants (or that a rule chose to drop).
func (s *Store) Ignore(ctx context.Context, id, rule, reason string) error {
	return s.update(ctx, id, func(ctx context.Context, tx *sql.Tx) error {
		_, err := s.txExec(ctx, tx, `UPDATE events SET state = 'ignored', rule = ?, reason = ?, finished = 0, updated_at = ? WHERE id = ?`,
			rule, reason, ms(s.opts.Now()), id)
		return err
	})
}

// StepStarted commits "attempt n of step idx started" before any byte goes
// to RT, so a crash mid-step is recognised (the step is then unknown). The
// event's next_attempt moves to now+lease: should this process hang, the
// event is not picked again before then. idem, when not empty, is the
// idempotency value the attempt sends; the step keeps the first one.
func (s *Store) StepStarted(ctx context.Context, id string, idx int, lease time.Duration, idem string) (attempt int, err error) {
	now := s.opts.Now()
	err = s.update(ctx, id, func(ctx context.Context, tx *sql.Tx) error {
		if err := s.txRow(ctx, tx, `UPDATE steps SET state = CASE WHEN state = 'unknown' THEN 'unknown' ELSE 'started' END,
			attempts = attempts + 1, started_at = ?, idem = CASE WHEN idem = '' THEN ? ELSE idem END
			WHERE event_id = ? AND idx = ? RETURNING attempts`, ms(now), idem, id, idx).Scan(&attempt); err != nil {
			return fmt.Errorf("step %d: %w", idx, err)
		}
		_, err := s.txExec(ctx, tx, `UPDATE events SET state = 'running', attempts = attempts + 1, next_attempt = ?, updated_at = ? WHERE id = ?`,
			ms(now.Add(lease)), ms(now), id)
		return err
	})
	return attempt, err
}

// StepDone records a step's result and, in the same transaction, the
// ledger entries it established (a created ticket for its key).
func (s *Store) StepDone(ctx context.Context, id string, idx int, r Result, ledger []LedgerEntry) error {
	now := s.opts.Now()
	return s.update(ctx, id, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, `UPDATE steps SET state = 'done', finished_at = ?, ticket = ?, txn = ?, reply = ?, class = '', message = ''
			WHERE event_id = ? AND idx = ?`, ms(now), r.Ticket, r.Txn, Clip(r.Reply), id, idx); err != nil {
			return err
		}
		for _, le := range ledger {
			if err := s.putLedger(ctx, tx, le, id, now); err != nil {
				return err
			}
		}
		_, err := s.txExec(ctx, tx, `UPDATE events SET updated_at = ? WHERE id = ?`, ms(now), id)
		return err
	})
}

// StepFailed records a failed attempt that will be retried at next: the
// step becomes pending (the request never reached RT) or unknown (it may
// have: reconcile first), and the event waits. A failed reconciliation
// (f.Reconcile) is counted in the step's reconciles.
func (s *Store) StepFailed(ctx context.Context, id string, idx int, f Failure, unknown bool, next time.Time) error {
	st := StepPending
	if unknown {
		st = StepUnknown
	}
	rec := 0
	if f.Reconcile {
		rec = 1
	}
	now := ms(s.opts.Now())
	return s.update(ctx, id, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := s.txExec(ctx, tx, `UPDATE steps SET state = ?, finished_at = ?, class = ?, message = ?, reply = ?, reconciles = reconciles + ?
			WHERE event_id = ? AND idx = ?`, string(st), now, f.Class, Clip(f.Message), Clip(f.Reply), rec, id, idx); err != nil {
			return err
		}
		_, err := s.txExec(ctx, tx, `UPDATE events SET state = 'waiting', next_attempt = ?, updated_at = ? WHERE id = ?`, ms(next), now, id)
		return err
	})
}

// Defer puts an event back to wait without counting a failure (e.g. the
// circuit breaker is open, or the daemon is stopping mid-plan).
func (s *Store) Defer(ctx context.Context, id string, next time.Time) error {
	return s.update(ctx, id, func(ctx context.Context, tx *sql.Tx) error {
		_, err := s.txExec(ctx, tx, `UPDATE events SET state = CASE WHEN plan IS NULL OR replan = 1 THEN state ELSE 'waiting' END,
			next_attempt = ?, updated_at = ? WHERE id = ?`, ms(next), ms(s.opts.Now()), id)
		return err
	})
}

// Dead dead-letters an event: step is the failing step (-1 when the event
// failed before any step, e.g. it could not be parsed or planned). The step
// becomes failed, or stays unknown when f.Unknown (RT may have acted on it).
func (s *Store) Dead(ctx context.Context, id string, step int, f Failure) error {
	now := ms(s.opts.Now())
	st := StepFailed
	if f.Unknown {
		st = StepUnknown
	}
	return s.update(ctx, id, func(ctx context.Context, tx *sql.Tx) error {
		if step >= 0 {
			if _, err := s.txExec(ctx, tx, `UPDATE steps SET state = CASE WHEN state = 'done' THEN 'done' ELSE ? END,
				finished_at = ?, class = ?, message = ?, reply = ? WHERE event_id = ? AND idx = ?`,
				string(st), now, f.Class, Clip(f.Message), Clip(f.Reply), id, step); err != nil {
				return err
			}
		}
		_, err := s.txExec(ctx, tx, `UPDATE events SET state = 'dead', dead_step = ?, dead_class = ?, reason = ?, finished = 0, updated_at = ? WHERE id = ?`,
			step, f.Class, Clip(f.Message), now, id)
		return err
	})
}

// Done finishes an event whose steps all succeeded.
func (s *Store) Done(ctx context.Context, id string) error {
	return s.update(ctx, id, func(ctx context.Context, tx *sql.Tx) error {
		_, err := s.txExec(ctx, tx, `UPDATE events SET state = 'done', finished = 0, reason = '', updated_at = ? WHERE id = ?`, ms(s.opts.Now()), id)
		return err
	})
}

// Unfinished returns final events whose source disposition has not run yet,
// oldest first. A duplicate is listed only once the event it duplicates is
// final too: its disposition follows that outcome (a mail accepted again
// after a crash must not be moved before RT has the original).
func (s *Store) Unfinished(ctx context.Context, limit int) ([]*Event, error) {
	return s.list(ctx, `WHERE finished = 0 AND state IN ('done', 'ignored', 'dead', 'duplicate')
		AND NOT (state = 'duplicate' AND EXISTS (SELECT 1 FROM events o WHERE o.id = events.duplicate_of AND o.state IN `+nonFinal+`))
		ORDER BY id LIMIT ?`, limit)
}

// MarkFinished records that the source's disposition ran for the event.
func (s *Store) MarkFinished(ctx context.Context, id string) error {
	return s.update(ctx, id, func(ctx context.Context, tx *sql.Tx) error {
		_, err := s.txExec(ctx, tx, `UPDATE events SET finished = 1 WHERE id = ?`, id)
		return err
	})
}

func (s *Store) list(ctx context.Context, where string, args ...any) ([]*Event, error) {
	rows, err := s.read(ctx, `SELECT `+eventCols+` FROM events `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: list: %w", err)
	}
	defer rows.Close()
	var out []*Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			return nil, fmt.Errorf("store: list: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// update runs fn in a write transaction after checking that id exists.
func (s *Store) update(ctx context.Context, id string, fn func(ctx context.Context, tx *sql.Tx) error) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		var one int
		if err := s.txRow(ctx, tx, `SELECT 1 FROM events WHERE id = ?`, id).Scan(&one); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("%w: %s", ErrNotFound, id)
			}
			return err
		}
		return fn(ctx, tx)
	})
	if err != nil && !errors.Is(err, ErrNotFound) {
		return fmt.Errorf("store: event %s: %w", id, err)
	}
	return err
}

// Clip bounds stored messages and replies (mox keeps 512 bytes of a reply).
func Clip(s string) string {
	const max = 2048
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}

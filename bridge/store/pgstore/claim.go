package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rtbridge/rtbridge/bridge/store"
)

// Claim leases event id and its correlation keys to this instance, in one
// transaction, and reports whether it got them all. It fails (false) when
// another instance holds the event or one of the keys, or when an earlier
// unfinished event holds one of the keys (per-key order across instances).
// When the event's previous holder died mid-step, its started steps become
// unknown: they are reconciled before anything is sent again. The leases
// are renewed in the background until Release.
func (s *Store) Claim(ctx context.Context, id string, keys []string) (bool, error) {
	keys = append([]string(nil), keys...)
	sort.Strings(keys) // one lock order for every instance: no deadlock
	ttl := secs(s.opts.LeaseTTL)
	var ok bool
	err := s.exec(ctx, func(tx pgx.Tx) error {
		ok = false
		var prevOwner string
		var prevState store.State
		err := tx.QueryRow(ctx, `WITH prev AS (
				SELECT id, owner, state FROM events WHERE id = $1 AND state IN `+nonFinal+`
					AND (`+unleased+` OR owner = $2) FOR UPDATE SKIP LOCKED)
			UPDATE events e SET owner = $2, lease_until = clock_timestamp() + make_interval(secs => $3)
			FROM prev WHERE e.id = prev.id RETURNING prev.owner, prev.state`, id, s.opts.Instance, ttl).Scan(&prevOwner, &prevState)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			var earlier bool
			if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM event_keys k JOIN events e ON e.id = k.event_id
				WHERE k.key = ANY($1) AND e.id < $2 AND e.state IN `+nonFinal+` AND NOT e.replan)`, keys, id).Scan(&earlier); err != nil {
				return err
			}
			if earlier {
				return errNotClaimed
			}
		}
		for _, k := range keys {
			tag, err := tx.Exec(ctx, `INSERT INTO key_leases (key, owner, event_id, lease_until)
				VALUES ($1, $2, $3, clock_timestamp() + make_interval(secs => $4))
				ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, event_id = excluded.event_id, lease_until = excluded.lease_until
				WHERE key_leases.lease_until < clock_timestamp() OR key_leases.owner = excluded.owner`, k, s.opts.Instance, id, ttl)
			if err != nil {
				return err
			}
			if tag.RowsAffected() == 0 {
				return errNotClaimed
			}
		}
		if prevState == store.StateRunning && prevOwner != s.opts.Instance {
			// The holder died mid-step: what it started may have reached RT.
			if _, err := tx.Exec(ctx, `UPDATE steps SET state = 'unknown' WHERE event_id = $1 AND state = 'started'`, id); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE events SET state = 'waiting' WHERE id = $1`, id); err != nil {
				return err
			}
		}
		ok = true
		return nil
	})
	if errors.Is(err, errNotClaimed) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("pgstore: claim %s: %w", id, err)
	}
	if ok {
		s.mu.Lock()
		s.claims[id] = true
		s.mu.Unlock()
	}
	return ok, nil
}

// errNotClaimed rolls a claim back (it is never returned to callers).
var errNotClaimed = errors.New("pgstore: not claimed")

// Release gives up this instance's lease on event id and its keys. An
// event left running (its outcome could not be recorded) is runnable by
// any instance at once; its started steps are then reconciled.
func (s *Store) Release(ctx context.Context, id string) error {
	s.mu.Lock()
	delete(s.claims, id)
	s.mu.Unlock()
	err := s.exec(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM key_leases WHERE owner = $1 AND event_id = $2`, s.opts.Instance, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() > 0 {
			// A later event of these keys may wait on another instance: wake it.
			if _, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, wakeChannel); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE events SET owner = '', lease_until = CASE WHEN state = 'running' THEN clock_timestamp() ELSE NULL END
			WHERE id = $1 AND owner = $2`, id, s.opts.Instance)
		return err
	})
	if err != nil {
		return fmt.Errorf("pgstore: release %s: %w", id, err)
	}
	return nil
}

// renewLoop extends the leases of claimed events and their keys every
// third of LeaseTTL.
func (s *Store) renewLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.opts.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.mu.Lock()
		ids := make([]string, 0, len(s.claims))
		for id := range s.claims {
			ids = append(ids, id)
		}
		s.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), s.opts.LeaseTTL/3)
		err := s.exec(ctx, func(tx pgx.Tx) error {
			ttl := secs(s.opts.LeaseTTL)
			if _, err := tx.Exec(ctx, `UPDATE events SET lease_until = clock_timestamp() + make_interval(secs => $1)
				WHERE owner = $2 AND id = ANY($3)`, ttl, s.opts.Instance, ids); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `UPDATE key_leases SET lease_until = clock_timestamp() + make_interval(secs => $1)
				WHERE owner = $2 AND event_id = ANY($3)`, ttl, s.opts.Instance, ids)
			return err
		})
		cancel()
		if err != nil {
			s.log.Warn("pgstore: renew leases", "events", len(ids), "err", err)
		}
	}
}

// releaseAll gives up every lease of this instance (on Close).
func (s *Store) releaseAll(ctx context.Context) {
	err := s.exec(ctx, func(tx pgx.Tx) error {
		for _, q := range []string{
			`DELETE FROM key_leases WHERE owner = $1`,
			`DELETE FROM leases WHERE owner = $1`,
			`UPDATE events SET owner = '', lease_until = CASE WHEN state = 'running' THEN clock_timestamp() ELSE NULL END WHERE owner = $1`,
		} {
			if _, err := tx.Exec(ctx, q, s.opts.Instance); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.log.Warn("pgstore: release leases on close", "err", err)
	}
}

// AcquireLease takes the named lease for ttl, or renews it when this
// instance holds it, and reports whether this instance holds it now. A
// lease another instance holds is taken only after it lapsed.
func (s *Store) AcquireLease(ctx context.Context, name string, ttl time.Duration) (bool, error) {
	tag, err := s.pool.Exec(ctx, `INSERT INTO leases (name, owner, lease_until, acquired_at)
		VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3), clock_timestamp())
		ON CONFLICT (name) DO UPDATE SET lease_until = excluded.lease_until,
			acquired_at = CASE WHEN leases.owner = excluded.owner THEN leases.acquired_at ELSE excluded.acquired_at END,
			owner = excluded.owner
		WHERE leases.owner = excluded.owner OR leases.lease_until < clock_timestamp()`, name, s.opts.Instance, secs(ttl))
	if err != nil {
		return false, fmt.Errorf("pgstore: lease %s: %w", name, err)
	}
	return tag.RowsAffected() > 0, nil
}

// ReleaseLease gives up the named lease if this instance holds it.
func (s *Store) ReleaseLease(ctx context.Context, name string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM leases WHERE name = $1 AND owner = $2`, name, s.opts.Instance); err != nil {
		return fmt.Errorf("pgstore: release lease %s: %w", name, err)
	}
	return nil
}

// Leases lists the live leases of every instance: named leases
// ("mailbox"), events being run ("event") and correlation keys ("key").
func (s *Store) Leases(ctx context.Context) ([]store.Lease, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT 'mailbox', name, owner, lease_until FROM leases WHERE lease_until >= clock_timestamp()
		UNION ALL SELECT 'event', id, owner, lease_until FROM events WHERE owner <> '' AND lease_until >= clock_timestamp()
		UNION ALL SELECT 'key', key, owner, lease_until FROM key_leases WHERE lease_until >= clock_timestamp()
		ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: leases: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Lease, error) {
		var l store.Lease
		err := r.Scan(&l.Kind, &l.Name, &l.Owner, &l.Until)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: leases: %w", err)
	}
	return out, nil
}

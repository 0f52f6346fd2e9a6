package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rtbridge/rtbridge/bridge/store"
)

// Ledger returns the ledger entry for a correlation key.
func (s *Store) Ledger(ctx context.Context, key string) (store.LedgerEntry, bool, error) {
	var le store.LedgerEntry
	var c, u, r int64
	err := s.pool.QueryRow(ctx, `SELECT key, ticket, status, created_at, updated_at, resolved_at, state, event_id FROM ledger WHERE key = $1`, key).
		Scan(&le.Key, &le.Ticket, &le.Status, &c, &u, &r, &le.State, &le.EventID)
	if errors.Is(err, pgx.ErrNoRows) {
		return store.LedgerEntry{}, false, nil
	}
	if err != nil {
		return store.LedgerEntry{}, false, fmt.Errorf("pgstore: ledger %q: %w", key, err)
	}
	le.CreatedAt, le.UpdatedAt, le.ResolvedAt = fromMS(c), fromMS(u), fromMS(r)
	return le, true, nil
}

// PutLedger writes a ledger entry outside a step.
func (s *Store) PutLedger(ctx context.Context, le store.LedgerEntry) error {
	return s.exec(ctx, func(tx pgx.Tx) error { return putLedger(ctx, tx, le, le.EventID, s.opts.Now()) })
}

// putLedger upserts (the key is unique: hosts agree on one ticket per key);
// CreatedAt is kept while the ticket stays the same.
func putLedger(ctx context.Context, tx pgx.Tx, le store.LedgerEntry, eventID string, now time.Time) error {
	if le.Key == "" {
		return errors.New("ledger entry without key")
	}
	created, updated := le.CreatedAt, le.UpdatedAt
	if created.IsZero() {
		created = now
	}
	if updated.IsZero() {
		updated = now
	}
	_, err := tx.Exec(ctx, `INSERT INTO ledger (key, ticket, status, created_at, updated_at, resolved_at, state, event_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (key) DO UPDATE SET ticket = excluded.ticket, status = excluded.status, updated_at = excluded.updated_at,
			resolved_at = excluded.resolved_at, state = excluded.state, event_id = excluded.event_id,
			created_at = CASE WHEN ledger.ticket = excluded.ticket THEN ledger.created_at ELSE excluded.created_at END`,
		le.Key, le.Ticket, le.Status, ms(created), ms(updated), ms(le.ResolvedAt), le.State, eventID)
	if err != nil {
		return fmt.Errorf("ledger %q: %w", le.Key, err)
	}
	return nil
}

// Cursor returns a source's stored cursor ("" when unset); implements
// source.Cursors. Cursors are shared by every instance.
func (s *Store) Cursor(ctx context.Context, src, key string) (string, error) {
	var v string
	err := s.pool.QueryRow(ctx, `SELECT value FROM cursors WHERE source = $1 AND key = $2`, src, key).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("pgstore: cursor %s/%s: %w", src, key, err)
	}
	return v, nil
}

// SetCursor stores a source's cursor durably; implements source.Cursors.
func (s *Store) SetCursor(ctx context.Context, src, key, value string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO cursors (source, key, value, updated_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (source, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, src, key, value, ms(s.opts.Now()))
	if err != nil {
		return fmt.Errorf("pgstore: set cursor %s/%s: %w", src, key, err)
	}
	return nil
}

// Cursors lists every source's cursors: source → key → value.
func (s *Store) Cursors(ctx context.Context) (map[string]map[string]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT source, key, value FROM cursors ORDER BY source, key`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: cursors: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]string{}
	for rows.Next() {
		var src, k, v string
		if err := rows.Scan(&src, &k, &v); err != nil {
			return nil, fmt.Errorf("pgstore: cursors: %w", err)
		}
		if out[src] == nil {
			out[src] = map[string]string{}
		}
		out[src][k] = v
	}
	return out, rows.Err()
}

// SetInfo records a small piece of daemon state for `rtbridge status`.
func (s *Store) SetInfo(ctx context.Context, name, value string) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO daemon_info (name, value, updated_at) VALUES ($1, $2, $3)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, name, value, ms(s.opts.Now()))
	if err != nil {
		return fmt.Errorf("pgstore: set info %s: %w", name, err)
	}
	return nil
}

// Infos returns every SetInfo record by name.
func (s *Store) Infos(ctx context.Context) (map[string]store.Info, error) {
	rows, err := s.pool.Query(ctx, `SELECT name, value, updated_at FROM daemon_info`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: info: %w", err)
	}
	defer rows.Close()
	out := map[string]store.Info{}
	for rows.Next() {
		var n, v string
		var u int64
		if err := rows.Scan(&n, &v, &u); err != nil {
			return nil, fmt.Errorf("pgstore: info: %w", err)
		}
		out[n] = store.Info{Value: v, UpdatedAt: fromMS(u)}
	}
	return out, rows.Err()
}

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Ledger returns the ledger entry for a correlation key.
func (s *Store) Ledger(ctx context.Context, key string) (LedgerEntry, bool, error) {
	var le LedgerEntry
	var c, u, r int64
	err := s.readRow(ctx, `SELECT key, ticket, status, created_at, updated_at, resolved_at, state, event_id FROM ledger WHERE key = ?`, key).
		Scan(&le.Key, &le.Ticket, &le.Status, &c, &u, &r, &le.State, &le.EventID)
	if errors.Is(err, sql.ErrNoRows) {
		return LedgerEntry{}, false, nil
	}
	if err != nil {
		return LedgerEntry{}, false, fmt.Errorf("store: ledger %q: %w", key, err)
	}
	le.CreatedAt, le.UpdatedAt, le.ResolvedAt = fromMS(c), fromMS(u), fromMS(r)
	return le, true, nil
}

// putLedger upserts: CreatedAt is kept from the first write; zero times
// default to now (UpdatedAt) or stay unset (ResolvedAt).
func (s *Store) putLedger(ctx context.Context, tx *sql.Tx, le LedgerEntry, eventID string, now time.Time) error {
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
	_, err := s.txExec(ctx, tx, `INSERT INTO ledger (key, ticket, status, created_at, updated_at, resolved_at, state, event_id)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
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
// source.Cursors.
func (s *Store) Cursor(ctx context.Context, src, key string) (string, error) {
	var v string
	err := s.readRow(ctx, `SELECT value FROM cursors WHERE source = ? AND key = ?`, src, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: cursor %s/%s: %w", src, key, err)
	}
	return v, nil
}

// SetCursor stores a source's cursor durably; implements source.Cursors.
func (s *Store) SetCursor(ctx context.Context, src, key, value string) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := s.txExec(ctx, tx, `INSERT INTO cursors (source, key, value, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (source, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, src, key, value, ms(s.opts.Now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set cursor %s/%s: %w", src, key, err)
	}
	return nil
}

// Cursors lists every source's cursors (for status): source → key → value.
func (s *Store) Cursors(ctx context.Context) (map[string]map[string]string, error) {
	rows, err := s.read(ctx, `SELECT source, key, value FROM cursors ORDER BY source, key`)
	if err != nil {
		return nil, fmt.Errorf("store: cursors: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]string{}
	for rows.Next() {
		var src, k, v string
		if err := rows.Scan(&src, &k, &v); err != nil {
			return nil, fmt.Errorf("store: cursors: %w", err)
		}
		if out[src] == nil {
			out[src] = map[string]string{}
		}
		out[src][k] = v
	}
	return out, rows.Err()
}

// SetInfo records a small piece of daemon state (breaker state, last
// reload) so `rtbridge status` in another process can show it.
func (s *Store) SetInfo(ctx context.Context, name, value string) error {
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := s.txExec(ctx, tx, `INSERT INTO daemon_info (name, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, name, value, ms(s.opts.Now()))
		return err
	})
	if err != nil {
		return fmt.Errorf("store: set info %s: %w", name, err)
	}
	return nil
}

// Info is one SetInfo record.
type Info struct {
	Value     string
	UpdatedAt time.Time
}

// Infos returns every SetInfo record by name.
func (s *Store) Infos(ctx context.Context) (map[string]Info, error) {
	rows, err := s.read(ctx, `SELECT name, value, updated_at FROM daemon_info`)
	if err != nil {
		return nil, fmt.Errorf("store: info: %w", err)
	}
	defer rows.Close()
	out := map[string]Info{}
	for rows.Next() {
		var n, v string
		var u int64
		if err := rows.Scan(&n, &v, &u); err != nil {
			return nil, fmt.Errorf("store: info: %w", err)
		}
		out[n] = Info{v, fromMS(u)}
	}
	return out, rows.Err()
}

package store

import (
	"context"
	"fmt"
)

// EventsAfter returns up to limit events with ids above after, in id
// order, with their steps: a whole store, page by page, for moving it to
// another store (rtbridge store migrate).
func (s *Store) EventsAfter(ctx context.Context, after string, limit int) ([]*Event, error) {
	evs, err := s.list(ctx, `WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	for i, e := range evs {
		full, err := s.Event(ctx, e.ID)
		if err != nil {
			return nil, err
		}
		evs[i] = full
	}
	return evs, nil
}

// LedgerEntries returns the whole correlation ledger.
func (s *Store) LedgerEntries(ctx context.Context) ([]LedgerEntry, error) {
	rows, err := s.read(ctx, `SELECT key, ticket, status, created_at, updated_at, resolved_at, state, event_id FROM ledger ORDER BY key`)
	if err != nil {
		return nil, fmt.Errorf("store: ledger: %w", err)
	}
	defer rows.Close()
	var out []LedgerEntry
	for rows.Next() {
		var le LedgerEntry
		var c, u, r int64
		if err := rows.Scan(&le.Key, &le.Ticket, &le.Status, &c, &u, &r, &le.State, &le.EventID); err != nil {
			return nil, fmt.Errorf("store: ledger: %w", err)
		}
		le.CreatedAt, le.UpdatedAt, le.ResolvedAt = fromMS(c), fromMS(u), fromMS(r)
		out = append(out, le)
	}
	return out, rows.Err()
}

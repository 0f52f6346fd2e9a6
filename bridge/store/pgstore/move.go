package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/rtbridge/rtbridge/bridge/store"
)

// Source is a store to move from; the SQLite store (*store.Store) is one.
type Source interface {
	EventsAfter(ctx context.Context, after string, limit int) ([]*store.Event, error)
	Keys(ctx context.Context, id string) ([]string, error)
	Raw(ctx context.Context, id string) (io.ReadCloser, error)
	LedgerEntries(ctx context.Context) ([]store.LedgerEntry, error)
	Cursors(ctx context.Context) (map[string]map[string]string, error)
	Infos(ctx context.Context) (map[string]store.Info, error)
}

// Moved counts what ImportFrom copied.
type Moved struct {
	Events, Skipped, Ledger, Cursors int
}

// ImportFrom copies everything src holds: events with their payloads,
// plans, steps and keys, the ledger, the cursors and the daemon's info.
// Events already here are skipped, so an interrupted move can run again.
// Nothing may run on src meanwhile (stop its daemon first).
func (s *Store) ImportFrom(ctx context.Context, src Source) (Moved, error) {
	var m Moved
	after := ""
	for {
		evs, err := src.EventsAfter(ctx, after, 200)
		if err != nil {
			return m, err
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			if err := s.importOne(ctx, src, e, &m); err != nil {
				return m, err
			}
			after = e.ID
		}
	}
	led, err := src.LedgerEntries(ctx)
	if err != nil {
		return m, err
	}
	for _, le := range led {
		if err := s.PutLedger(ctx, le); err != nil {
			return m, err
		}
		m.Ledger++
	}
	cur, err := src.Cursors(ctx)
	if err != nil {
		return m, err
	}
	for src, kv := range cur {
		for k, v := range kv {
			if err := s.SetCursor(ctx, src, k, v); err != nil {
				return m, err
			}
			m.Cursors++
		}
	}
	infos, err := src.Infos(ctx)
	if err != nil {
		return m, err
	}
	for n, i := range infos {
		if err := s.SetInfo(ctx, n, i.Value); err != nil {
			return m, err
		}
	}
	return m, nil
}

func (s *Store) importOne(ctx context.Context, src Source, e *store.Event, m *Moved) error {
	keys, err := src.Keys(ctx, e.ID)
	if err != nil {
		return err
	}
	var raw io.Reader
	rc, err := src.Raw(ctx, e.ID)
	switch {
	case errors.Is(err, os.ErrNotExist): // pruned: moves without its payload
	case err != nil:
		return fmt.Errorf("payload of %s: %w", e.ID, err)
	default:
		defer rc.Close()
		raw = rc
	}
	added, err := s.Import(ctx, e, keys, raw)
	if err != nil {
		return err
	}
	if added {
		m.Events++
	} else {
		m.Skipped++
	}
	return nil
}

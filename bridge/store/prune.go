package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// DefaultPruneBatch is how many events one prune transaction deletes on
// PostgreSQL, whose writers do not wait for each other.
const DefaultPruneBatch = 64

// pruneWork is how long one prune transaction should work on SQLite. Its
// one writer runs the prune inside the group commit, so every accept queued
// meanwhile waits for it: the batch size follows the measured time per
// event to keep that wait near one fsync, on a small store as on a large
// one.
const pruneWork = 2 * time.Millisecond

// prunePause is the least rest between two prune transactions; the pass
// rests at least as long as its last transaction took, too. On a large
// store a shorter rest let the pass's page writes (and their checkpoint)
// crowd the disk, and accept p99 rose from 14 to 67 ms while it ran (20 ms
// of rest: 19 ms); 100,000 events still go in about two minutes.
const prunePause = 20 * time.Millisecond

// Retention says what Prune deletes.
type Retention struct {
	// Keep is, per final state, how long an event is kept after it became
	// final (its updated_at); an absent state or 0 keeps its events.
	// Only events whose disposition ran (finished) are ever deleted.
	Keep map[State]time.Duration
	// Batch fixes the events deleted per write transaction. Default: on
	// SQLite, as many as take pruneWork (1 to 256); on PostgreSQL,
	// DefaultPruneBatch.
	Batch int
}

// Prune deletes the events the retention lets go, with their steps, keys,
// dedup entries and payloads, in transactions of at most r.Batch events;
// payload files are removed after their rows commit. It then removes
// payload files no row refers to that are older than an hour (left by a
// crash between the file's fsync and the commit). Events not final, or
// final but not finished, are never deleted; the ledger (correlation key →
// ticket) is kept. It returns how many events it deleted; on ctx's end it
// stops between batches.
func (s *Store) Prune(ctx context.Context, r Retention) (events int, err error) {
	now := s.opts.Now()
	for _, state := range states {
		keep := r.Keep[state]
		if !state.Final() || keep <= 0 {
			continue
		}
		cut := ms(now.Add(-keep))
		batch := r.Batch
		if batch <= 0 {
			batch = 8
		}
		for {
			n, work, err := s.pruneBatch(ctx, state, cut, batch)
			events += n
			if err != nil {
				return events, fmt.Errorf("store: prune %s: %w", state, err)
			}
			if n < batch {
				break
			}
			if r.Batch <= 0 {
				batch = nextPruneBatch(batch, work)
			}
			select {
			case <-ctx.Done():
				return events, ctx.Err()
			case <-time.After(max(prunePause, work)):
			}
		}
	}
	return events, s.removeOrphans(ctx, now.Add(-time.Hour))
}

// nextPruneBatch scales the batch toward pruneWork from the time the last
// one took, at most doubling or halving it per step.
func nextPruneBatch(batch int, work time.Duration) int {
	want := int(float64(batch) * float64(pruneWork) / float64(max(work, time.Microsecond)))
	return min(max(want, batch/2, 1), batch*2, 256)
}

// pruneBatch deletes up to limit events of state final before cut, and
// says how long its transaction's statements took.
func (s *Store) pruneBatch(ctx context.Context, state State, cut int64, limit int) (int, time.Duration, error) {
	type victim struct{ id, source, dedup, file string }
	var vs []victim
	var work time.Duration
	err := s.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		t0 := time.Now()
		defer func() { work = time.Since(t0) }()
		rows, err := s.txQuery(ctx, tx, `SELECT id, source, dedup_key, raw_file FROM events
			WHERE state = ? AND finished = 1 AND updated_at < ? ORDER BY updated_at LIMIT ?`, state, cut, limit)
		if err != nil {
			return err
		}
		for rows.Next() {
			var v victim
			if err := rows.Scan(&v.id, &v.source, &v.dedup, &v.file); err != nil {
				rows.Close()
				return err
			}
			vs = append(vs, v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, v := range vs {
			// The dedup entry by its key (the primary key; a duplicate
			// owns none); steps and keys go with the row (ON DELETE CASCADE).
			if v.dedup != "" {
				if _, err := s.txExec(ctx, tx, `DELETE FROM dedup WHERE source = ? AND dedup_key = ? AND event_id = ?`, v.source, v.dedup, v.id); err != nil {
					return err
				}
			}
			if _, err := s.txExec(ctx, tx, `DELETE FROM events WHERE id = ?`, v.id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, work, err
	}
	for _, v := range vs {
		if v.file != "" {
			s.removeRaw(v.file)
		}
	}
	return len(vs), work, nil
}

func (s *Store) removeOrphans(ctx context.Context, before time.Time) error {
	dir := filepath.Join(s.dir, RawDir)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("store: prune: %w", err)
	}
	for _, de := range ents {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !strings.HasSuffix(de.Name(), ".raw") {
			continue
		}
		info, err := de.Info()
		if err != nil || info.ModTime().After(before) {
			continue
		}
		var one int
		err = s.readRow(ctx, `SELECT 1 FROM events WHERE raw_file = ?`, de.Name()).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			s.log.Info("store: removing orphaned payload file", "file", de.Name())
			s.removeRaw(de.Name())
		}
	}
	return nil
}

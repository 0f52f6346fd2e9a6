package pgstore

import (
	"context"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/rtbridge/rtbridge/bridge/store"
)

// Import stores an event as another store kept it: same id, state, plan,
// steps and keys, its payload streamed from raw (nil: the payload was
// pruned). An event that is already here is left alone and reported false,
// so an interrupted move can simply run again.
func (s *Store) Import(ctx context.Context, e *store.Event, keys []string, raw io.Reader) (bool, error) {
	origin, err := jsonMap(e.Origin)
	if err != nil {
		return false, err
	}
	meta, err := jsonMap(e.Meta)
	if err != nil {
		return false, err
	}
	var added bool
	err = s.exec(ctx, func(tx pgx.Tx) error {
		var inline []byte
		chunked := raw != nil && e.RawSize > int64(s.opts.InlineMax)
		if raw != nil && !chunked {
			if inline, err = io.ReadAll(io.LimitReader(raw, int64(s.opts.InlineMax)+1)); err != nil {
				return fmt.Errorf("read payload: %w", err)
			}
		}
		tag, err := tx.Exec(ctx, `INSERT INTO events (id, source, kind, dedup_key, received_at, origin, meta, raw, raw_chunked, raw_size, state, duplicate_of,
			corr_key, plan, plan_version, replan, attempts, next_attempt, updated_at, reason, rule, dead_step, dead_class, finished, retried_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)
			ON CONFLICT (id) DO NOTHING`,
			e.ID, e.Source, e.Kind, e.DedupKey, ms(e.ReceivedAt), origin, meta, inline, chunked, e.RawSize, string(e.State), e.DuplicateOf,
			e.Key, e.Plan, e.PlanVersion, e.Replan, e.Attempts, ms(e.NextAttempt), ms(e.UpdatedAt), e.Reason, e.Rule, e.DeadStep, e.DeadClass, e.Finished, ms(e.RetriedAt))
		if err != nil {
			return fmt.Errorf("insert event: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		added = true
		if chunked {
			size, err := s.writeChunks(ctx, tx, e.ID, raw)
			if err != nil {
				return err
			}
			if size != e.RawSize {
				return fmt.Errorf("payload has %d bytes, the event says %d", size, e.RawSize)
			}
		}
		if e.DedupKey != "" && e.State != store.StateDuplicate {
			if _, err := tx.Exec(ctx, `INSERT INTO dedup (source, dedup_key, event_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, e.Source, e.DedupKey, e.ID); err != nil {
				return err
			}
		}
		for _, st := range e.Steps {
			if _, err := tx.Exec(ctx, `INSERT INTO steps (event_id, idx, action, key, state, attempts, reconciles, idem, started_at, finished_at, ticket, txn, class, message, reply)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`, e.ID, st.Index, st.Action, st.Key, string(st.State), st.Attempts, st.Reconciles, st.Idem,
				ms(st.StartedAt), ms(st.FinishedAt), st.Ticket, st.Txn, st.Class, st.Message, st.Reply); err != nil {
				return err
			}
		}
		for _, k := range keys {
			if _, err := tx.Exec(ctx, `INSERT INTO event_keys (event_id, key) VALUES ($1, $2)`, e.ID, k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("pgstore: import %s: %w", e.ID, err)
	}
	return added, nil
}

package pgstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/jackc/pgx/v5"
	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
)

// Accept stores an event durably (implements source.Sink) and returns only
// after PostgreSQL committed it. A payload up to InlineMax goes into the
// row; a larger one is streamed into chunk rows of the same transaction,
// one chunk in memory at a time. A second event with the same (Source,
// DedupKey), from any instance, is recorded as a duplicate of the first.
func (s *Store) Accept(ctx context.Context, in source.Incoming) (source.Accepted, error) {
	if s.closed.Load() {
		return source.Accepted{}, store.ErrClosed
	}
	if in.Source == "" || in.Kind == "" {
		return source.Accepted{}, errors.New("pgstore: accept: source and kind are required")
	}
	origin, err := jsonMap(in.Origin)
	if err != nil {
		return source.Accepted{}, fmt.Errorf("pgstore: accept: origin: %w", err)
	}
	meta, err := jsonMap(in.Meta)
	if err != nil {
		return source.Accepted{}, fmt.Errorf("pgstore: accept: meta: %w", err)
	}
	raw := in.Raw
	if raw == nil {
		raw = eofReader{}
	}
	raw = ctxReader{ctx, raw}
	// The first InlineMax+1 bytes tell inline from chunked (a small body
	// costs only its own size).
	var head bytes.Buffer
	n64, err := io.CopyN(&head, raw, int64(s.opts.InlineMax)+1)
	if err != nil && !errors.Is(err, io.EOF) {
		return source.Accepted{}, fmt.Errorf("pgstore: accept: read payload: %w", err)
	}
	first, n := head.Bytes(), int(n64)
	var acc source.Accepted
	err = s.exec(ctx, func(tx pgx.Tx) error {
		now := s.opts.Now()
		acc = source.Accepted{ID: s.ids.Next(now)}
		state := store.StateAccepted
		if in.DedupKey != "" {
			tag, err := tx.Exec(ctx, `INSERT INTO dedup (source, dedup_key, event_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, in.Source, in.DedupKey, acc.ID)
			if err != nil {
				return fmt.Errorf("dedup: %w", err)
			}
			if tag.RowsAffected() == 0 {
				if err := tx.QueryRow(ctx, `SELECT event_id FROM dedup WHERE source = $1 AND dedup_key = $2`, in.Source, in.DedupKey).Scan(&acc.DuplicateOf); err != nil {
					return fmt.Errorf("dedup: %w", err)
				}
				state, acc.Duplicate = store.StateDuplicate, true
			}
		}
		chunked := n > s.opts.InlineMax
		var inline []byte
		if !chunked {
			inline = append([]byte{}, first...) // never NULL: NULL is a pruned payload
		}
		if _, err := tx.Exec(ctx, `INSERT INTO events (id, source, kind, dedup_key, received_at, origin, meta, raw, raw_chunked, raw_size, state, duplicate_of, next_attempt, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $5, $5)`,
			acc.ID, in.Source, string(in.Kind), in.DedupKey, ms(now), origin, meta, inline, chunked, int64(n), string(state), acc.DuplicateOf); err != nil {
			return fmt.Errorf("insert event: %w", err)
		}
		if chunked {
			size, err := s.writeChunks(ctx, tx, acc.ID, io.MultiReader(bytesReader(first), raw))
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `UPDATE events SET raw_size = $1 WHERE id = $2`, size, acc.ID); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `SELECT pg_notify($1, '')`, wakeChannel)
		return err
	})
	if err != nil {
		if s.closed.Load() {
			return source.Accepted{}, store.ErrClosed // Close raced this Accept: nothing committed
		}
		return source.Accepted{}, fmt.Errorf("pgstore: accept: %w", err)
	}
	s.wake()
	return acc, nil
}

// writeChunks streams r into payload_chunks rows of ChunkSize bytes.
func (s *Store) writeChunks(ctx context.Context, tx pgx.Tx, id string, r io.Reader) (int64, error) {
	buf := make([]byte, s.opts.ChunkSize)
	var size int64
	for seq := 0; ; seq++ {
		n, err := io.ReadFull(r, buf)
		if n > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO payload_chunks (event_id, seq, data) VALUES ($1, $2, $3)`, id, seq, buf[:n]); err != nil {
				return 0, fmt.Errorf("store payload: %w", err)
			}
			size += int64(n)
		}
		switch {
		case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
			return size, nil
		case err != nil:
			return 0, fmt.Errorf("read payload: %w", err)
		}
	}
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

func jsonMap(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

package store

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
)

// acceptReq is one Accept waiting for the group committer.
type acceptReq struct {
	in     source.Incoming
	inline []byte // payload when small
	file   string // name under RawDir when large
	size   int64
	origin string
	meta   string
	resp   chan acceptResp
}

type acceptResp struct {
	acc source.Accepted
	err error
}

// Accept stores an event durably (implements source.Sink). The raw bytes
// are read to the end first: a small payload goes into the row, a large one
// into a file that is fsync'd, with its directory, before the row commits
// (and removed if the commit fails). Accepts arriving together share one
// transaction. A second event with the same (Source, DedupKey) is recorded
// as a duplicate of the first and never processed.
func (s *Store) Accept(ctx context.Context, in source.Incoming) (source.Accepted, error) {
	if s.closed.Load() {
		return source.Accepted{}, ErrClosed
	}
	if s.readOnly() {
		return source.Accepted{}, ErrReadOnly
	}
	if in.Source == "" || in.Kind == "" {
		return source.Accepted{}, errors.New("store: accept: source and kind are required")
	}
	r := &acceptReq{in: in, resp: make(chan acceptResp, 1)}
	var err error
	if r.origin, err = jsonMap(in.Origin); err != nil {
		return source.Accepted{}, fmt.Errorf("store: accept: origin: %w", err)
	}
	if r.meta, err = jsonMap(in.Meta); err != nil {
		return source.Accepted{}, fmt.Errorf("store: accept: meta: %w", err)
	}
	if err := s.readRaw(ctx, r); err != nil {
		return source.Accepted{}, err
	}
	committed := false
	defer func() {
		if !committed && r.file != "" {
			s.removeRaw(r.file)
		}
	}()
	select {
	case s.accepts <- r:
	case <-ctx.Done():
		return source.Accepted{}, fmt.Errorf("store: accept: %w", ctx.Err())
	case <-s.stop:
		return source.Accepted{}, ErrClosed
	}
	// Once queued, wait for the verdict even if ctx ends: the batch may
	// commit, and a committed row must keep its file.
	var res acceptResp
	select {
	case res = <-r.resp:
	case <-s.done:
		// The committer has gone (Close raced this send): its verdict, if
		// it gave one, is already buffered; otherwise nothing committed.
		select {
		case res = <-r.resp:
		default:
			res.err = ErrClosed
		}
	}
	if res.err != nil {
		return source.Accepted{}, res.err
	}
	committed = true // even if ctx ended meanwhile: a resend becomes a duplicate
	return res.acc, nil
}

// readRaw reads the payload: up to InlineMax in memory, beyond that into a
// fsync'd file in RawDir.
func (s *Store) readRaw(ctx context.Context, r *acceptReq) error {
	if r.in.Raw == nil {
		return nil
	}
	var buf bytes.Buffer
	n, err := io.CopyN(&buf, r.in.Raw, int64(s.opts.InlineMax)+1)
	if err != nil && err != io.EOF {
		return fmt.Errorf("store: accept: read payload: %w", err)
	}
	if n <= int64(s.opts.InlineMax) {
		r.inline, r.size = buf.Bytes(), n
		return nil
	}
	var rnd [12]byte
	rand.Read(rnd[:])
	name := hex.EncodeToString(rnd[:]) + ".raw"
	path := filepath.Join(s.dir, RawDir, name)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fileMode)
	if err != nil {
		return fmt.Errorf("store: accept: create payload file: %w", err)
	}
	size, err := io.Copy(f, io.MultiReader(&buf, ctxReader{ctx, r.in.Raw}))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = syncDir(filepath.Join(s.dir, RawDir))
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("store: accept: write payload file: %w", err)
	}
	r.file, r.size = name, size
	return nil
}

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

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func (s *Store) removeRaw(name string) {
	if err := os.Remove(filepath.Join(s.dir, RawDir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		s.log.Warn("store: remove payload file", "file", name, "err", err)
	}
}

func jsonMap(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

func (s *Store) insertEvent(ctx context.Context, tx *sql.Tx, r *acceptReq, now time.Time) (source.Accepted, error) {
	id := s.ids.Next(now)
	acc := source.Accepted{ID: id}
	state := StateAccepted
	if r.in.DedupKey != "" {
		var first string
		var firstAt sql.NullInt64
		err := s.txRow(ctx, tx, `SELECT d.event_id, e.received_at FROM dedup d LEFT JOIN events e ON e.id = d.event_id
			WHERE d.source = ? AND d.dedup_key = ?`, r.in.Source, r.in.DedupKey).Scan(&first, &firstAt)
		expired := err == nil && r.in.DedupWindow > 0 && firstAt.Valid && firstAt.Int64 < ms(now.Add(-r.in.DedupWindow))
		switch {
		case err == nil && !expired:
			state, acc.Duplicate, acc.DuplicateOf = StateDuplicate, true, first
		case expired:
			if _, err := s.txExec(ctx, tx, `UPDATE dedup SET event_id = ? WHERE source = ? AND dedup_key = ?`, id, r.in.Source, r.in.DedupKey); err != nil {
				return acc, fmt.Errorf("dedup: %w", err)
			}
		case errors.Is(err, sql.ErrNoRows):
			if _, err := s.txExec(ctx, tx, `INSERT INTO dedup (source, dedup_key, event_id) VALUES (?, ?, ?)`, r.in.Source, r.in.DedupKey, id); err != nil {
				return acc, fmt.Errorf("dedup: %w", err)
			}
		default:
			return acc, fmt.Errorf("dedup: %w", err)
		}
	}
	var raw any // NULL when the payload is in a file
	if r.file == "" {
		b := r.inline
		if b == nil {
			b = []byte{} // an empty payload, not a pruned one (NULL)
		}
		raw = b
	}
	_, err := s.txExec(ctx, tx, `INSERT INTO events (id, source, kind, dedup_key, received_at, origin, meta, raw, raw_file, raw_size, state, duplicate_of, next_attempt, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		id, r.in.Source, string(r.in.Kind), r.in.DedupKey, ms(now), r.origin, r.meta, raw, r.file, r.size, string(state), acc.DuplicateOf, ms(now), ms(now))
	if err != nil {
		return acc, fmt.Errorf("insert event: %w", err)
	}
	return acc, nil
}

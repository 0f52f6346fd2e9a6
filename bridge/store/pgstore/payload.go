package pgstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/rtbridge/rtbridge/bridge/store"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// Raw opens the exact bytes an event was accepted with. A chunked payload
// is read one chunk per query as the reader is drained, so memory stays at
// one chunk whatever the payload's size. The payload of an old final event
// may have been pruned (os.ErrNotExist).
func (s *Store) Raw(ctx context.Context, id string) (io.ReadCloser, error) {
	var raw []byte
	var chunked, pruned bool
	var size int64
	err := s.pool.QueryRow(ctx, `SELECT raw, raw IS NULL, raw_chunked, raw_size FROM events WHERE id = $1`, id).Scan(&raw, &pruned, &chunked, &size)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", store.ErrNotFound, id)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: raw of %s: %w", id, err)
	}
	switch {
	case chunked:
		return &chunkReader{s: s, ctx: ctx, id: id, size: size}, nil
	case pruned:
		return nil, fmt.Errorf("pgstore: raw of %s: pruned: %w", id, os.ErrNotExist)
	}
	return &inlineReader{Reader: bytes.NewReader(raw), size: size}, nil
}

// chunkReader reads payload_chunks in order, one query per chunk.
type chunkReader struct {
	s    *Store
	ctx  context.Context
	id   string
	size int64
	seq  int
	buf  []byte
	eof  bool
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.eof {
			return 0, io.EOF
		}
		var data []byte
		err := r.s.pool.QueryRow(r.ctx, `SELECT data FROM payload_chunks WHERE event_id = $1 AND seq = $2`, r.id, r.seq).Scan(&data)
		if errors.Is(err, pgx.ErrNoRows) {
			r.eof = true
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("pgstore: raw of %s, chunk %d: %w", r.id, r.seq, err)
		}
		r.seq++
		r.buf = data
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

func (r *chunkReader) Close() error { r.buf, r.eof = nil, true; return nil }

// Stat gives the payload's size, so an upload can send Content-Length.
func (r *chunkReader) Stat() (fs.FileInfo, error) { return sizeInfo(r.size), nil }

type inlineReader struct {
	*bytes.Reader
	size int64
}

func (r *inlineReader) Close() error               { return nil }
func (r *inlineReader) Stat() (fs.FileInfo, error) { return sizeInfo(r.size), nil }

// sizeInfo is the fs.FileInfo of a stored payload: only its size is real.
type sizeInfo int64

func (i sizeInfo) Name() string       { return "payload" }
func (i sizeInfo) Size() int64        { return int64(i) }
func (i sizeInfo) Mode() fs.FileMode  { return 0o400 }
func (i sizeInfo) ModTime() time.Time { return time.Time{} }
func (i sizeInfo) IsDir() bool        { return false }
func (i sizeInfo) Sys() any           { return nil }

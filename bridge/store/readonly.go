package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// ErrReadOnly is returned by every write of a store opened with OpenReadOnly.
var ErrReadOnly = errors.New("store: opened read-only")

// ErrNoStore is returned by OpenReadOnly when dir holds no store yet.
var ErrNoStore = errors.New("store: no store here (the daemon has not run with this state.dir)")

// OpenReadOnly opens an existing store for reading only, for `rtbridge
// status` and `deadletter list/show`: it creates nothing, never migrates,
// and refuses a schema other than this build's. It works beside a running
// daemon (WAL readers never block the writer).
func OpenReadOnly(ctx context.Context, dir string) (*Store, error) {
	path := filepath.Join(dir, DBName)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoStore, dir)
	}
	q := url.Values{}
	q.Set("mode", "ro")
	q.Add("_pragma", "busy_timeout(10000)")
	rdb, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	var v int
	if err := rdb.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("store: read schema version of %s: %w", path, err)
	}
	if v != SchemaVersion() {
		rdb.Close()
		return nil, fmt.Errorf("store: %s has schema version %d, this rtbridge %d: start the daemon of this version once to migrate it", path, v, SchemaVersion())
	}
	done := make(chan struct{})
	close(done) // no group committer runs
	return &Store{dir: dir, rdb: rdb, rstmts: newStmtCache(rdb), log: slog.New(slog.DiscardHandler), done: done, ckptDone: done, stop: make(chan struct{}),
		kick: make(chan struct{}, 1), opts: Options{Now: time.Now}}, nil
}

func (s *Store) readOnly() bool { return s.wdb == nil }

package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go)
)

// DBName is the database file inside the state directory; raw payloads too
// large to keep inline live in RawDir beside it.
const (
	DBName = "rtbridge.db"
	RawDir = "raw"
)

// ErrNotFound is returned for an unknown event id.
var ErrNotFound = errors.New("store: no such event")

// ErrState is returned when an operation does not fit the event's state
// (e.g. retrying an event that is not dead).
var ErrState = errors.New("store: event is not in a state that allows this")

// ErrClosed is returned by Accept after Close.
var ErrClosed = errors.New("store: closed")

// Options tunes a Store; the zero value is the production default.
type Options struct {
	// InlineMax is the largest payload kept inside the database row;
	// larger ones become files in RawDir. Default 64 KiB.
	InlineMax int
	// BatchMax bounds how many Accepts share one commit. Default 256.
	BatchMax int
	// BatchWait is how long the committer waits for more Accepts after the
	// first one of a batch. Default 0: it commits what is queued at once,
	// and Accepts arriving during that commit's fsync form the next batch,
	// which batches as well under load without adding a wait to every accept.
	BatchWait time.Duration
	// Logger receives the store's own problems (a failed clean-up). Default: discard.
	Logger *slog.Logger
	// Now is the clock (tests). Default time.Now.
	Now func() time.Time
	// Instance names this process as a lease holder. Default NewInstanceID().
	Instance string
}

// Store is the SQLite implementation. It is safe for concurrent use; one
// process may run the daemon while others query and operate on the same
// directory.
type Store struct {
	dir string
	wdb *sql.DB // one connection: SQLite has one writer; BEGIN IMMEDIATE
	rdb *sql.DB // readers (WAL: they never block the writer)
	// prepared statements of the readers and of the writer
	rstmts, wstmts *stmtCache
	opts           Options
	log            *slog.Logger
	ids            IDGen

	accepts chan *acceptReq
	writeq  chan *writeReq
	stop    chan struct{}
	done    chan struct{}
	closing sync.Once
	closed  atomic.Bool

	kick chan struct{} // one slot: "new work may be runnable"

	commits  atomic.Int64 // write transactions of the group committer (one fsync each)
	accepted atomic.Int64 // events accepted through it
	writes   atomic.Int64 // write transactions of any kind (the checkpointer's cue)
	ckptDone chan struct{}
	walLong  atomic.Bool // the checkpointer found the WAL long: restartWAL
}

// Open opens (creating if needed) the store in dir and migrates its schema.
func Open(ctx context.Context, dir string, opts Options) (*Store, error) {
	if opts.InlineMax <= 0 {
		opts.InlineMax = 64 << 10
	}
	if opts.BatchMax <= 0 {
		opts.BatchMax = 256
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Instance == "" {
		opts.Instance = NewInstanceID()
	}
	if err := prepareDir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, DBName)
	dsn := func(extra string) string {
		q := url.Values{}
		for _, p := range []string{"journal_mode(WAL)", "synchronous(FULL)", "busy_timeout(10000)", "foreign_keys(1)"} {
			q.Add("_pragma", p)
		}
		if extra != "" {
			q.Set("_txlock", extra)
		}
		return "file:" + path + "?" + q.Encode()
	}
	// The writer never checkpoints inside a commit; the checkpointer does.
	wdb, err := sql.Open("sqlite", dsn("immediate")+"&_pragma=wal_autocheckpoint(0)")
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetConnMaxLifetime(0)
	rdb, err := sql.Open("sqlite", dsn(""))
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	rdb.SetMaxOpenConns(8)
	rdb.SetMaxIdleConns(8) // the scheduler reads on every wake: keep its connections open
	s := &Store{
		dir: dir, wdb: wdb, rdb: rdb, opts: opts, log: opts.Logger,
		rstmts: newStmtCache(rdb), wstmts: newStmtCache(wdb),
		accepts:  make(chan *acceptReq, 1024),
		writeq:   make(chan *writeReq, 64),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		kick:     make(chan struct{}, 1),
		ckptDone: make(chan struct{}),
	}
	if err := s.migrate(ctx); err != nil {
		wdb.Close()
		rdb.Close()
		return nil, err
	}
	go s.committer()
	go s.checkpointer()
	return s, nil
}

// Close stops the group committer (pending Accepts fail with ErrClosed) and
// closes the database.
func (s *Store) Close() error {
	s.closing.Do(func() {
		s.closed.Store(true)
		close(s.stop)
	})
	<-s.done
	<-s.ckptDone
	s.rstmts.close()
	if s.readOnly() {
		return s.rdb.Close()
	}
	s.wstmts.close()
	return errors.Join(s.wdb.Close(), s.rdb.Close())
}

// Dir returns the state directory.
func (s *Store) Dir() string { return s.dir }

// Wake returns a channel that receives when new work may be runnable
// (an Accept committed, an operator retried). It has one slot: a wake is
// never lost and never piles up (mox's queue kick).
func (s *Store) Wake() <-chan struct{} { return s.kick }

func (s *Store) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// CommitStats reports how many group-commit transactions ran and how many
// events they accepted: accepts/commits is the batching factor.
func (s *Store) CommitStats() (commits, accepts int64) {
	return s.commits.Load(), s.accepted.Load()
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

// The store is the sources' Sink and Cursors.
var (
	_ source.Sink    = (*Store)(nil)
	_ source.Cursors = (*Store)(nil)
)

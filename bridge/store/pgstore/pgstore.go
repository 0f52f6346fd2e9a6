package pgstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
)

// Options configures a Store; only DSN is required.
type Options struct {
	// DSN is a libpq connection string or postgres:// URL (pgx syntax,
	// sslmode and sslrootcert included).
	DSN string
	// MaxConns bounds the connection pool. Default 10.
	MaxConns int32
	// InlineMax is the largest payload kept in the event's row; larger ones
	// are stored in chunks of ChunkSize. Defaults 64 KiB and 256 KiB.
	InlineMax int
	ChunkSize int
	// LeaseTTL is how long an event or key claim lasts without renewal;
	// the holder renews every third of it. Default 30s.
	LeaseTTL time.Duration
	// Instance names this process as a lease holder. Default store.NewInstanceID().
	Instance string
	Logger   *slog.Logger
	// Now is the clock for event times (tests). Default time.Now.
	Now func() time.Time
}

// Store is the PostgreSQL store. It is safe for concurrent use, and any
// number of processes on any hosts may share one database.
type Store struct {
	pool *pgxpool.Pool
	opts Options
	log  *slog.Logger
	ids  store.IDGen

	kick   chan struct{}
	stop   chan struct{}
	wg     sync.WaitGroup
	closed atomic.Bool
	once   sync.Once

	mu     sync.Mutex
	claims map[string]bool // events this instance has claimed (renewed in the background)
}

// ErrDSN is returned for a connection string that does not parse; the
// string itself is never repeated (it may hold a password).
var ErrDSN = errors.New("pgstore: invalid DSN (not a postgres:// URL or key=value list pgx accepts)")

// wakeChannel is the NOTIFY channel by which an Accept or an operator
// retry on one instance wakes the executors of all of them.
const wakeChannel = "rtbridge_work"

// Open connects, migrates the schema and starts the lease renewal and the
// wake-up listener.
func Open(ctx context.Context, o Options) (*Store, error) {
	if o.MaxConns <= 0 {
		o.MaxConns = 10
	}
	if o.InlineMax <= 0 {
		o.InlineMax = 64 << 10
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = 256 << 10
	}
	if o.LeaseTTL <= 0 {
		o.LeaseTTL = 30 * time.Second
	}
	if o.Instance == "" {
		o.Instance = store.NewInstanceID()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	cfg, err := pgxpool.ParseConfig(o.DSN)
	if err != nil {
		// pgx's message may quote the DSN, password included.
		return nil, ErrDSN
	}
	cfg.MaxConns = o.MaxConns
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: connect: %w", err)
	}
	s := &Store{pool: pool, opts: o, log: o.Logger, kick: make(chan struct{}, 1), stop: make(chan struct{}), claims: map[string]bool{}}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	s.wg.Add(2)
	go s.renewLoop()
	go s.listenLoop(cfg.ConnConfig)
	return s, nil
}

// Close stops the background loops, gives up this instance's leases (so
// another instance can go on at once) and closes the pool.
func (s *Store) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		close(s.stop)
		s.wg.Wait()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.releaseAll(ctx)
		s.pool.Close()
	})
	return nil
}

// Instance returns the name this store holds leases under.
func (s *Store) Instance() string { return s.opts.Instance }

// Wake returns a channel that receives when new work may be runnable, on
// this instance or (through NOTIFY) on another one.
func (s *Store) Wake() <-chan struct{} { return s.kick }

func (s *Store) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}

// listenLoop LISTENs on a connection of its own and turns notifications
// into wakes; it reconnects after a failure (the executor polls meanwhile).
func (s *Store) listenLoop(cc *pgx.ConnConfig) {
	defer s.wg.Done()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-s.stop; cancel() }()
	for ctx.Err() == nil {
		err := s.listen(ctx, cc)
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("pgstore: wake-up listener failed; retrying", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

func (s *Store) listen(ctx context.Context, cc *pgx.ConnConfig) error {
	conn, err := pgx.ConnectConfig(ctx, cc.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+wakeChannel); err != nil {
		return err
	}
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return err
		}
		s.wake()
	}
}

// exec runs fn in one transaction.
func (s *Store) exec(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// update runs fn in a transaction after checking that id exists.
func (s *Store) update(ctx context.Context, id string, fn func(tx pgx.Tx) error) error {
	err := s.exec(ctx, func(tx pgx.Tx) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM events WHERE id = $1`, id).Scan(&one); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("%w: %s", store.ErrNotFound, id)
			}
			return err
		}
		return fn(tx)
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("pgstore: event %s: %w", id, err)
	}
	return err
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

// secs is a duration as the float seconds make_interval takes.
func secs(d time.Duration) float64 { return d.Seconds() }

var (
	_ source.Sink    = (*Store)(nil)
	_ source.Cursors = (*Store)(nil)
)

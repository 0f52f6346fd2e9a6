package daemon

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/executor"
	"github.com/rtbridge/rtbridge/bridge/imapsource"
	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/bridge/store/pgstore"
)

// Store is the durable store the daemon and the operator commands use:
// SQLite in state.dir, or PostgreSQL (state.postgres) shared by several
// instances.
type Store interface {
	executor.Store
	source.Sink
	source.Cursors
	StatusStore
	imapsource.Leaser // mailbox leases: one instance polls each folder
	DeadLetters(ctx context.Context, limit int) ([]*store.Event, error)
	Prune(ctx context.Context, r store.Retention) (int, error)
	Retry(ctx context.Context, id string) error
	Drop(ctx context.Context, id string) error
	Close() error
}

// StatusStore is what ReadStatus reads.
type StatusStore interface {
	Stats(ctx context.Context) (store.Stats, error)
	Infos(ctx context.Context) (map[string]store.Info, error)
	Cursors(ctx context.Context) (map[string]map[string]string, error)
	Leases(ctx context.Context) ([]store.Lease, error)
}

// OpenStore opens the store the config names.
func OpenStore(ctx context.Context, cfg *config.Config, log *slog.Logger) (Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if p := cfg.State.Postgres; p != nil {
		return pgstore.Open(ctx, pgstore.Options{DSN: p.ConnString(), MaxConns: int32(p.MaxConns), LeaseTTL: leaseTTL(p), Logger: log})
	}
	if err := os.MkdirAll(cfg.State.Dir, 0o700); err != nil {
		return nil, err
	}
	return store.Open(ctx, cfg.State.Dir, store.Options{Logger: log})
}

func leaseTTL(p *config.Postgres) time.Duration {
	if p.LeaseTTL > 0 {
		return p.LeaseTTL
	}
	return config.DefaultPostgresLeaseTTL
}

// OpenStoreReadOnly opens the store for `rtbridge status` and `deadletter
// list/show`. SQLite is opened read-only: nothing is created and nothing
// migrated. PostgreSQL is opened as the daemon opens it: its schema is
// versioned and migrated under a lock, so the command changes nothing the
// instances rely on.
func OpenStoreReadOnly(ctx context.Context, cfg *config.Config) (Store, error) {
	if cfg.State.Postgres != nil {
		return OpenStore(ctx, cfg, nil)
	}
	return store.OpenReadOnly(ctx, cfg.State.Dir)
}

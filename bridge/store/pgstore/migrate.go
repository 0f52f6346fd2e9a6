package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// migrations[i] brings the schema from version i to i+1. Never edit a
// released entry: append one. Times are Unix milliseconds (BIGINT) as in
// the SQLite store; leases are timestamptz on the database's clock.
var migrations = []string{
	// 1: the initial schema (SQLite store's version 5).
	`
CREATE TABLE events (
	id           text PRIMARY KEY,
	source       text NOT NULL,
	kind         text NOT NULL,
	dedup_key    text NOT NULL DEFAULT '',
	received_at  bigint NOT NULL,
	origin       text NOT NULL DEFAULT '{}',
	meta         text NOT NULL DEFAULT '{}',
	raw          bytea,                          -- inline payload (small); NULL when chunked or pruned
	raw_chunked  boolean NOT NULL DEFAULT false, -- payload in payload_chunks
	raw_size     bigint NOT NULL,
	state        text NOT NULL,
	duplicate_of text NOT NULL DEFAULT '',
	corr_key     text NOT NULL DEFAULT '',
	plan         bytea,
	plan_version integer NOT NULL DEFAULT 0,
	replan       boolean NOT NULL DEFAULT false,
	attempts     integer NOT NULL DEFAULT 0,
	next_attempt bigint NOT NULL,
	updated_at   bigint NOT NULL,
	reason       text NOT NULL DEFAULT '',
	rule         text NOT NULL DEFAULT '',
	dead_step    integer NOT NULL DEFAULT -1,
	dead_class   text NOT NULL DEFAULT '',
	finished     boolean NOT NULL DEFAULT false,
	retried_at   bigint NOT NULL DEFAULT 0,
	owner        text NOT NULL DEFAULT '',       -- instance holding the event's lease
	lease_until  timestamptz
);
CREATE INDEX events_work ON events (id) WHERE state IN ('accepted', 'planned', 'running', 'waiting');
CREATE INDEX events_finish ON events (id) WHERE NOT finished AND state IN ('done', 'ignored', 'dead', 'duplicate');
CREATE INDEX events_state ON events (state);
CREATE TABLE payload_chunks (
	event_id text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	seq      integer NOT NULL,
	data     bytea NOT NULL,
	PRIMARY KEY (event_id, seq)
);
CREATE TABLE dedup (
	source    text NOT NULL,
	dedup_key text NOT NULL,
	event_id  text NOT NULL,
	PRIMARY KEY (source, dedup_key)
);
CREATE INDEX dedup_event ON dedup (event_id);
CREATE TABLE steps (
	event_id    text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	idx         integer NOT NULL,
	action      text NOT NULL,
	key         text NOT NULL DEFAULT '',
	state       text NOT NULL,
	attempts    integer NOT NULL DEFAULT 0,
	started_at  bigint NOT NULL DEFAULT 0,
	finished_at bigint NOT NULL DEFAULT 0,
	ticket      integer NOT NULL DEFAULT 0,
	txn         integer NOT NULL DEFAULT 0,
	class       text NOT NULL DEFAULT '',
	message     text NOT NULL DEFAULT '',
	reply       text NOT NULL DEFAULT '',
	idem        text NOT NULL DEFAULT '',
	reconciles  integer NOT NULL DEFAULT 0,
	PRIMARY KEY (event_id, idx)
);
CREATE TABLE event_keys (
	event_id text NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	key      text NOT NULL,
	PRIMARY KEY (event_id, key)
);
CREATE INDEX event_keys_key ON event_keys (key);
CREATE TABLE ledger (
	key         text PRIMARY KEY,
	ticket      integer NOT NULL,
	status      text NOT NULL DEFAULT '',
	created_at  bigint NOT NULL DEFAULT 0,
	updated_at  bigint NOT NULL DEFAULT 0,
	resolved_at bigint NOT NULL DEFAULT 0,
	state       text NOT NULL DEFAULT '',
	event_id    text NOT NULL DEFAULT ''
);
CREATE TABLE cursors (
	source     text NOT NULL,
	key        text NOT NULL,
	value      text NOT NULL,
	updated_at bigint NOT NULL,
	PRIMARY KEY (source, key)
);
CREATE TABLE daemon_info (
	name       text PRIMARY KEY,
	value      text NOT NULL,
	updated_at bigint NOT NULL
);
CREATE TABLE key_leases (
	key         text PRIMARY KEY,
	owner       text NOT NULL,
	event_id    text NOT NULL,
	lease_until timestamptz NOT NULL
);
CREATE TABLE leases (
	name        text PRIMARY KEY,
	owner       text NOT NULL,
	lease_until timestamptz NOT NULL,
	acquired_at timestamptz NOT NULL
);
`,
	// 2: the count of events per state, kept by triggers.
	stateCountsSQL,
}

// SchemaVersion is the version this build migrates to.
func SchemaVersion() int { return len(migrations) }

// migrateLock is the advisory lock key migrations run under ("rtbridge"
// in ASCII): instances starting together migrate one after the other, and
// the later ones find nothing left to do.
const migrateLock = 0x7274627269646765

func (s *Store) migrate(ctx context.Context) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(migrateLock)); err != nil {
			return fmt.Errorf("pgstore: migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)`); err != nil {
			return fmt.Errorf("pgstore: schema_version: %w", err)
		}
		var v int
		err := tx.QueryRow(ctx, `SELECT version FROM schema_version`).Scan(&v)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
				return fmt.Errorf("pgstore: schema_version: %w", err)
			}
		case err != nil:
			return fmt.Errorf("pgstore: read schema version: %w", err)
		}
		if v > len(migrations) {
			return fmt.Errorf("pgstore: database schema version %d is newer than this rtbridge (%d): refusing to touch it", v, len(migrations))
		}
		for ; v < len(migrations); v++ {
			if _, err := tx.Exec(ctx, migrations[v]); err != nil {
				return fmt.Errorf("pgstore: migration %d: %w", v+1, err)
			}
			if _, err := tx.Exec(ctx, `UPDATE schema_version SET version = $1`, v+1); err != nil {
				return fmt.Errorf("pgstore: migration %d: %w", v+1, err)
			}
		}
		return nil
	})
}

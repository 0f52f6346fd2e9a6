package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations are applied in order; migrations[i] brings the schema from
// version i to i+1. Never edit a released entry: append a new one. The SQL
// is kept to what SQLite and PostgreSQL both accept (times are Unix
// milliseconds in INTEGER/BIGINT columns, JSON as TEXT).
var migrations = []string{
	// 1: the initial schema.
	`
CREATE TABLE events (
	id           TEXT PRIMARY KEY,       -- time-ordered, sortable
	source       TEXT NOT NULL,
	kind         TEXT NOT NULL,
	dedup_key    TEXT NOT NULL DEFAULT '',
	received_at  INTEGER NOT NULL,       -- commit time
	origin       TEXT NOT NULL DEFAULT '{}',
	meta         TEXT NOT NULL DEFAULT '{}',
	raw          BLOB,                   -- inline payload (small)
	raw_file     TEXT NOT NULL DEFAULT '', -- file under raw/ (large)
	raw_size     INTEGER NOT NULL,
	state        TEXT NOT NULL,
	duplicate_of TEXT NOT NULL DEFAULT '',
	corr_key     TEXT NOT NULL DEFAULT '', -- the plan's correlation key
	plan         BLOB,                   -- versioned JSON from the rules engine
	plan_version INTEGER NOT NULL DEFAULT 0,
	replan       INTEGER NOT NULL DEFAULT 0, -- 1: an operator retry asked for a fresh plan
	attempts     INTEGER NOT NULL DEFAULT 0, -- step attempts started, all steps
	next_attempt INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL,
	reason       TEXT NOT NULL DEFAULT '', -- ignored: the rule's reason; dead: RT's message
	rule         TEXT NOT NULL DEFAULT '',
	dead_step    INTEGER NOT NULL DEFAULT -1,
	dead_class   TEXT NOT NULL DEFAULT '',
	finished     INTEGER NOT NULL DEFAULT 0 -- the source's disposition ran
);
CREATE INDEX events_work ON events (state, next_attempt);
CREATE INDEX events_finish ON events (finished, state);
CREATE TABLE dedup (
	source    TEXT NOT NULL,
	dedup_key TEXT NOT NULL,
	event_id  TEXT NOT NULL,
	PRIMARY KEY (source, dedup_key)
);
CREATE TABLE steps (
	event_id    TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	idx         INTEGER NOT NULL,
	action      TEXT NOT NULL,
	key         TEXT NOT NULL DEFAULT '',
	state       TEXT NOT NULL,
	attempts    INTEGER NOT NULL DEFAULT 0,
	started_at  INTEGER NOT NULL DEFAULT 0,
	finished_at INTEGER NOT NULL DEFAULT 0,
	ticket      INTEGER NOT NULL DEFAULT 0,
	txn         INTEGER NOT NULL DEFAULT 0,
	class       TEXT NOT NULL DEFAULT '',
	message     TEXT NOT NULL DEFAULT '',
	reply       TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (event_id, idx)
);
CREATE TABLE ledger (
	key         TEXT PRIMARY KEY,
	ticket      INTEGER NOT NULL,
	status      TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL DEFAULT 0,
	updated_at  INTEGER NOT NULL DEFAULT 0,
	resolved_at INTEGER NOT NULL DEFAULT 0,
	state       TEXT NOT NULL DEFAULT '',
	event_id    TEXT NOT NULL DEFAULT ''
);
CREATE TABLE cursors (
	source     TEXT NOT NULL,
	key        TEXT NOT NULL,
	value      TEXT NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (source, key)
);
CREATE TABLE daemon_info (
	name       TEXT PRIMARY KEY,
	value      TEXT NOT NULL,
	updated_at INTEGER NOT NULL
);
`,
	// 2: every correlation key a plan holds (a plan may look up or record
	// several: the executor serialises events on all of them).
	`
CREATE TABLE event_keys (
	event_id TEXT NOT NULL REFERENCES events (id) ON DELETE CASCADE,
	key      TEXT NOT NULL,
	PRIMARY KEY (event_id, key)
);
CREATE INDEX event_keys_key ON event_keys (key);
INSERT INTO event_keys (event_id, key) SELECT id, corr_key FROM events WHERE corr_key <> '';
`,
	// 3: when an operator last retried the event (its age for giving up
	// counts from there, not from acceptance).
	`ALTER TABLE events ADD COLUMN retried_at INTEGER NOT NULL DEFAULT 0;`,
	// 4: a create's idempotency value as sent (reconciliation searches for
	// it even after a re-plan moved the step), and how many
	// reconciliations of a step of unknown outcome failed (they are bounded).
	`
ALTER TABLE steps ADD COLUMN idem TEXT NOT NULL DEFAULT '';
ALTER TABLE steps ADD COLUMN reconciles INTEGER NOT NULL DEFAULT 0;
`,
	// 5: named leases (one instance polls a mailbox folder at a time).
	`
CREATE TABLE leases (
	name        TEXT PRIMARY KEY,
	owner       TEXT NOT NULL,
	until       INTEGER NOT NULL,
	acquired_at INTEGER NOT NULL
);
`,
	// 6: retention finds the events final for longest without scanning
	// the young ones (updated_at is when an event became final).
	// The orphaned payload check looks files up by name.
	`
CREATE INDEX events_prune ON events (state, finished, updated_at);
CREATE INDEX events_raw_file ON events (raw_file) WHERE raw_file <> '';
`,
	// 7: the count of events per state, kept by triggers, so that status
	// (and the daemon's tick) costs the same on a store of any size
	// instead of a COUNT over every row. SQLite only (PostgreSQL has its
	// own migrations).
	stateCountsSQL,
}

// SchemaVersion is the version this build migrates to.
func SchemaVersion() int { return len(migrations) }

func (s *Store) migrate(ctx context.Context) error {
	return s.runTx(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)`); err != nil {
			return fmt.Errorf("store: schema_version: %w", err)
		}
		var v int
		err := tx.QueryRowContext(ctx, `SELECT version FROM schema_version`).Scan(&v)
		switch {
		case err == sql.ErrNoRows:
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version) VALUES (0)`); err != nil {
				return fmt.Errorf("store: schema_version: %w", err)
			}
		case err != nil:
			return fmt.Errorf("store: read schema version: %w", err)
		}
		if v > len(migrations) {
			return fmt.Errorf("store: database schema version %d is newer than this rtbridge (%d): refusing to touch it", v, len(migrations))
		}
		for ; v < len(migrations); v++ {
			if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
				return fmt.Errorf("store: migration %d: %w", v+1, err)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE schema_version SET version = ?`, v+1); err != nil {
				return fmt.Errorf("store: migration %d: %w", v+1, err)
			}
		}
		return nil
	})
}

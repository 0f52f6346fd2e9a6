package store

// stateCountsSQL creates state_counts, filled from the current rows and
// kept right by triggers on every insert, change of state and delete of
// an event (prune's deletes included). A row per state: the writer is one
// connection, so the counter rows are no point of contention.
// events_pending holds only the few non-final rows: the oldest pending and
// the next attempt read it whole, even where ANALYZE statistics would make
// the planner scan events (few distinct states look unselective).
const stateCountsSQL = `
CREATE INDEX events_pending ON events (received_at, next_attempt) WHERE state IN ('accepted', 'planned', 'running', 'waiting');
CREATE TABLE state_counts (
	state TEXT PRIMARY KEY,
	n     INTEGER NOT NULL
);
INSERT INTO state_counts (state, n) SELECT state, COUNT(*) FROM events GROUP BY state;
CREATE TRIGGER state_counts_insert AFTER INSERT ON events BEGIN
	INSERT INTO state_counts (state, n) VALUES (NEW.state, 1)
		ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER state_counts_update AFTER UPDATE OF state ON events WHEN OLD.state <> NEW.state BEGIN
	UPDATE state_counts SET n = n - 1 WHERE state = OLD.state;
	INSERT INTO state_counts (state, n) VALUES (NEW.state, 1)
		ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER state_counts_delete AFTER DELETE ON events BEGIN
	UPDATE state_counts SET n = n - 1 WHERE state = OLD.state;
END;
`

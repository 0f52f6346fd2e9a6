package store

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache holds one prepared statement per query text for one *sql.DB.
// The scheduler and the committer run the same few statements thousands of
// times a second under load, and parsing them again each time was a fifth
// of the daemon's CPU. The query texts are the store's own constants, so
// the cache stays small.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
	// wanted: queries the writer ran unprepared. Its one connection is
	// inside a transaction when a statement is first needed, and preparing
	// on the *sql.DB would wait for that very connection; the committer
	// prepares them between transactions (prepareWanted).
	wanted map[string]bool
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}, wanted: map[string]bool{}}
}

// get returns the statement for q, preparing it now if needed.
func (c *stmtCache) get(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.m[q]; st != nil {
		return st, nil
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.m[q] = st
	return st, nil
}

// lookup returns the statement for q if it is prepared, and otherwise
// notes q for prepareWanted.
func (c *stmtCache) lookup(q string) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	st := c.m[q]
	if st == nil {
		c.wanted[q] = true
	}
	return st
}

// prepareWanted prepares the queries lookup missed; call it while the
// database has a free connection. A query that fails to prepare is run
// unprepared again next time.
func (c *stmtCache) prepareWanted(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q := range c.wanted {
		if st, err := c.db.PrepareContext(ctx, q); err == nil {
			c.m[q] = st
		}
		delete(c.wanted, q)
	}
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}

// read runs a query on the readers.
func (s *Store) read(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := s.rstmts.get(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// readRow runs a one-row query on the readers.
func (s *Store) readRow(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := s.rstmts.get(ctx, q)
	if err != nil {
		return s.rdb.QueryRowContext(ctx, q, args...) // reports the same error
	}
	return st.QueryRowContext(ctx, args...)
}

// txExec, txQuery and txRow run a statement in a write transaction, with
// the writer's prepared statement once there is one.
func (s *Store) txExec(ctx context.Context, tx *sql.Tx, q string, args ...any) (sql.Result, error) {
	if st := s.wstmts.lookup(q); st != nil {
		return tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	}
	return tx.ExecContext(ctx, q, args...)
}

func (s *Store) txQuery(ctx context.Context, tx *sql.Tx, q string, args ...any) (*sql.Rows, error) {
	if st := s.wstmts.lookup(q); st != nil {
		return tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	}
	return tx.QueryContext(ctx, q, args...)
}

func (s *Store) txRow(ctx context.Context, tx *sql.Tx, q string, args ...any) *sql.Row {
	if st := s.wstmts.lookup(q); st != nil {
		return tx.StmtContext(ctx, st).QueryRowContext(ctx, args...)
	}
	return tx.QueryRowContext(ctx, q, args...)
}

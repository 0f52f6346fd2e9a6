package store

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
)

// A store of schema 6 holding events gets its counts filled from those
// rows by migration 7, and status (read-only) reads them.
func TestStateCountsMigrationFillsFromRows(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s := open(t, dir)
	for _, k := range []string{"a", "b", "c"} {
		if _, err := s.Accept(ctx, incoming("hook", k, "{}")); err != nil {
			t.Fatal(err)
		}
	}
	dead, _ := s.Accept(ctx, incoming("hook", "d", "{}"))
	if err := s.Dead(ctx, dead.ID, -1, Failure{Class: "parse", Message: "bad"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	// Back to schema 6: no counts, no triggers.
	db, err := sql.Open("sqlite", filepath.Join(dir, DBName))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DROP TRIGGER state_counts_insert`, `DROP TRIGGER state_counts_update`, `DROP TRIGGER state_counts_delete`,
		`DROP TABLE state_counts`, `DROP INDEX events_pending`, `UPDATE schema_version SET version = 6`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	open(t, dir).Close()
	ro, err := OpenReadOnly(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	st, err := ro.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.ByState[StateAccepted] != 3 || st.ByState[StateDead] != 1 || st.Unfinished != 1 || st.OldestPending.IsZero() {
		t.Fatalf("after migration: %+v", st)
	}
}

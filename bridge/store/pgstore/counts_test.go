package pgstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/bridge/store/pgstore"
)

func acceptKey(t *testing.T, s *pgstore.Store, key string) string {
	t.Helper()
	acc, err := s.Accept(context.Background(), source.Incoming{Source: "hook", Kind: "json", DedupKey: key, Raw: strings.NewReader("{}")})
	if err != nil {
		t.Error(err)
	}
	return acc.ID
}

// A store of schema 1 holding events gets its counts filled from those
// rows by migration 2.
func TestStateCountsMigrationFillsFromRows(t *testing.T) {
	db := freshDB(t)
	ctx := context.Background()
	s := db.open(t, pgstore.Options{})
	for _, k := range []string{"a", "b", "c"} {
		acceptKey(t, s, k)
	}
	if err := s.Dead(ctx, acceptKey(t, s, "d"), -1, store.Failure{Class: "parse", Message: "bad"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, q := range []string{`DROP TABLE %s.state_counts`, `DROP FUNCTION %s.state_counts_row() CASCADE`,
		`DROP FUNCTION %s.state_counts_deleted() CASCADE`, `UPDATE %s.schema_version SET version = 1`} {
		if _, err := db.Admin.Exec(ctx, fmt.Sprintf(q, db.Schema)); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	st, err := db.open(t, pgstore.Options{}).Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.ByState[store.StateAccepted] != 3 || st.ByState[store.StateDead] != 1 || st.Unfinished != 1 || st.OldestPending.IsZero() {
		t.Fatalf("after migration: %+v", st)
	}
}

// Instances accepting and reading the counts (each read folds the
// deltas) at the same time lose and double no count.
func TestStateCountsConcurrentInstances(t *testing.T) {
	db := freshDB(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 3 {
		s := db.open(t, pgstore.Options{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 30 {
				acceptKey(t, s, fmt.Sprintf("%d-%d", i, j))
				if _, err := s.Stats(ctx); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	st, err := db.open(t, pgstore.Options{}).Stats(ctx)
	if err != nil || st.ByState[store.StateAccepted] != 90 {
		t.Fatalf("counts %v, %v; want 90 accepted", st.ByState, err)
	}
}

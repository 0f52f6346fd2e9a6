package pgstore_test

import (
	"context"
	"testing"

	"github.com/rtbridge/rtbridge/bridge/store/pgstore"
	"github.com/rtbridge/rtbridge/bridge/store/storetest"
	"github.com/rtbridge/rtbridge/internal/pgtest"
)

// pgDB is one fresh schema in the test PostgreSQL; every Open is another
// instance.
type pgDB struct{ *pgtest.DB }

func freshDB(t testing.TB) *pgDB { return &pgDB{pgtest.Schema(t)} }

func (d *pgDB) open(t testing.TB, o pgstore.Options) *pgstore.Store {
	t.Helper()
	o.DSN = d.DSN
	s, err := pgstore.Open(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func (d *pgDB) Open(t testing.TB) storetest.Store {
	return d.open(t, pgstore.Options{InlineMax: 1024, ChunkSize: 1500})
}

// Apart counts the chunked payloads.
func (d *pgDB) Apart(t testing.TB) int {
	t.Helper()
	var n int
	q := `SELECT count(DISTINCT event_id) FROM ` + d.Schema + `.payload_chunks`
	if err := d.Admin.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSuite(t *testing.T) {
	freshDB(t) // skip or fail once, not per test
	storetest.Run(t, func(t *testing.T) storetest.DB { return freshDB(t) })
}

package pgstore_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rtbridge/rtbridge/bridge/store/pgstore"
	"github.com/rtbridge/rtbridge/bridge/store/storetest"
	"github.com/rtbridge/rtbridge/internal/testenv"
)

// pgDB is one fresh schema in the test PostgreSQL (PG_DSN, started by
// test/servers/postgres/start-postgres.sh); every Open is another instance.
type pgDB struct {
	dsn   string // with search_path set to the schema
	admin *pgxpool.Pool
	opts  pgstore.Options
}

// freshDB creates an empty schema, dropped when the test ends.
func freshDB(t testing.TB) *pgDB {
	t.Helper()
	dsn := testenv.Require(t, "PG_DSN")["PG_DSN"]
	ctx := context.Background()
	admin, err := pgxpool.New(ctx, dsn)
	if err != nil {
		t.Fatalf("PostgreSQL at PG_DSN: %v", err)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	schema := "t_" + hex.EncodeToString(rnd[:])
	if _, err := admin.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("PostgreSQL at PG_DSN: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return &pgDB{dsn: dsn + sep + "search_path=" + schema, admin: admin}
}

func (d *pgDB) open(t testing.TB, o pgstore.Options) *pgstore.Store {
	t.Helper()
	o.DSN = d.dsn
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
	q := `SELECT count(DISTINCT event_id) FROM ` + d.schema() + `.payload_chunks`
	if err := d.admin.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func (d *pgDB) schema() string {
	_, s, _ := strings.Cut(d.dsn, "search_path=")
	return s
}

func TestSuite(t *testing.T) {
	freshDB(t) // skip or fail once, not per test
	storetest.Run(t, func(t *testing.T) storetest.DB { return freshDB(t) })
}

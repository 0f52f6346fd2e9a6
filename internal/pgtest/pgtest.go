// Package pgtest gives tests an empty schema of their own in the test
// PostgreSQL (PG_DSN, started by test/servers/postgres/start-postgres.sh).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/rtbridge/rtbridge/internal/testenv"
)

// DB is one empty schema; it is dropped when the test ends.
type DB struct {
	DSN    string        // PG_DSN with search_path set to Schema
	Schema string        // a fresh name
	Admin  *pgxpool.Pool // on PG_DSN, for looking inside
}

// Schema creates the schema, or skips (fails under RTBRIDGE_INTEGRATION=1)
// when the test PostgreSQL is not there.
func Schema(t testing.TB) *DB {
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
	return &DB{DSN: dsn + sep + "search_path=" + schema, Schema: schema, Admin: admin}
}

package webhook

import (
	"context"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store/pgstore"
	"github.com/rtbridge/rtbridge/internal/pgtest"
)

// BenchmarkAccept500rpsPostgres is BenchmarkAccept500rps into the
// PostgreSQL store (each 202 after PostgreSQL committed).
func BenchmarkAccept500rpsPostgres(b *testing.B) {
	st, err := pgstore.Open(context.Background(), pgstore.Options{DSN: pgtest.Schema(b).DSN})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	benchAcceptInto(b, st, 2*time.Millisecond)
}

package webhook

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store/pgstore"
	"github.com/rtbridge/rtbridge/internal/benchtab"
	"github.com/rtbridge/rtbridge/internal/pgtest"
)

// BenchmarkAccept500rpsPostgres is BenchmarkAccept500rps into the
// PostgreSQL store (each 202 after PostgreSQL committed), side by side
// with the SQLite store in one run: BENCH_ROUNDS interleaved rounds of
// sub-benchmarks roundR/sqlite and roundR/postgres (odd rounds in reverse
// order), each reporting its p50 and p99; compare rows of one run.
//
//	RTBRIDGE_INTEGRATION=1 go test -run '^$' -bench Accept500rpsPostgres -benchtime 3000x ./bridge/webhook
func BenchmarkAccept500rpsPostgres(b *testing.B) {
	db := pgtest.Schema(b)
	for r := range benchtab.Rounds() {
		for _, leg := range benchtab.Order([]string{"sqlite", "postgres"}, r) {
			b.Run(fmt.Sprintf("round%d/%s", r, leg), func(b *testing.B) {
				var st source.Sink
				if leg == "sqlite" {
					st = openStore(b)
				} else {
					pg, err := pgstore.Open(context.Background(), pgstore.Options{DSN: db.DSN})
					if err != nil {
						b.Fatal(err)
					}
					defer pg.Close()
					warmPool(b, pg)
					st = pg
				}
				benchAcceptInto(b, st, 2*time.Millisecond)
			})
		}
	}
}

// warmPool makes the store's pool open its connections (password auth
// and all) before the clock starts: one concurrent accept per connection.
func warmPool(b *testing.B, st source.Sink) {
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := st.Accept(context.Background(), source.Incoming{Source: "warm-up", Kind: "json", Raw: strings.NewReader("{}")}); err != nil {
				b.Error(err)
			}
		}()
	}
	wg.Wait()
}

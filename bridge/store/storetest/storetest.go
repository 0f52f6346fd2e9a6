// Package storetest is the one test suite every store implementation
// passes (the embedded SQLite store and the PostgreSQL store): the same
// tests, run against each by its own package's test.
package storetest

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
)

// Store is what the suite exercises: the executor's contract plus the
// sources', the operators' and the leases'.
type Store interface {
	source.Sink
	source.Cursors
	Close() error
	Wake() <-chan struct{}
	Event(ctx context.Context, id string) (*store.Event, error)
	Raw(ctx context.Context, id string) (io.ReadCloser, error)
	Keys(ctx context.Context, id string) ([]string, error)
	Runnable(ctx context.Context, now time.Time, limit int) ([]store.Work, error)
	HeldKeys(ctx context.Context, keys []string) (map[string]string, error)
	RecoverRunning(ctx context.Context) (int, error)
	SavePlan(ctx context.Context, id string, p store.PlanRecord) error
	StepStarted(ctx context.Context, id string, idx int, lease time.Duration, idem string) (int, error)
	StepDone(ctx context.Context, id string, idx int, r store.Result, ledger []store.LedgerEntry) error
	StepFailed(ctx context.Context, id string, idx int, f store.Failure, unknown bool, next time.Time) error
	Dead(ctx context.Context, id string, step int, f store.Failure) error
	Done(ctx context.Context, id string) error
	Unfinished(ctx context.Context, limit int) ([]*store.Event, error)
	MarkFinished(ctx context.Context, id string) error
	Ledger(ctx context.Context, key string) (store.LedgerEntry, bool, error)
	Cursors(ctx context.Context) (map[string]map[string]string, error)
	Stats(ctx context.Context) (store.Stats, error)
	DeadLetters(ctx context.Context, limit int) ([]*store.Event, error)
	Recent(ctx context.Context, limit int) ([]*store.Event, error)
	Retry(ctx context.Context, id string) error
	Drop(ctx context.Context, id string) error
	Prune(ctx context.Context, r store.Retention) (int, error)
	Instance() string
	AcquireLease(ctx context.Context, name string, ttl time.Duration) (bool, error)
	ReleaseLease(ctx context.Context, name string) error
	Leases(ctx context.Context) ([]store.Lease, error)
}

// DB is one fresh, empty database of the implementation under test.
type DB interface {
	// Open opens a store on the database with InlineMax 1024. Each call is
	// another instance (a process, in effect) sharing the same data.
	Open(t testing.TB) Store
	// Apart counts the payloads stored apart from their event's row (files
	// beside the SQLite database, chunk rows in PostgreSQL).
	Apart(t testing.TB) int
}

// Run runs the suite; fresh returns a new empty database for each test.
func Run(t *testing.T, fresh func(t *testing.T) DB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, db DB)
	}{
		{"AcceptDurableAcrossReopen", testAcceptDurableAcrossReopen},
		{"AcceptReadErrorLeavesNothing", testAcceptReadErrorLeavesNothing},
		{"AcceptRacingCloseReturns", testAcceptRacingCloseReturns},
		{"Duplicate", testDuplicate},
		{"ConcurrentAccepts", testConcurrentAccepts},
		{"EmptyPayload", testEmptyPayload},
		{"WakeOnAccept", testWakeOnAccept},
		{"Cursors", testCursors},
		{"PlanStepsDeadRetryDrop", testPlanStepsDeadRetryDrop},
		{"SavePlanCarriesUnknownStep", testSavePlanCarriesUnknownStep},
		{"RecoverRunning", testRecoverRunning},
		{"Prune", testPrune},
		{"StepIdemReconcilesDeadUnknown", testStepIdemReconcilesDeadUnknown},
		{"Leases", testLeases},
		{"StatsFollowChanges", testStatsFollowChanges},
		{"UnfinishedDuplicateWaitsForOriginal", testUnfinishedDuplicateWaitsForOriginal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, fresh(t)) })
	}
}

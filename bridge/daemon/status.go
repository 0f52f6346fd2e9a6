package daemon

import (
	"context"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
)

// Status is what `rtbridge status` and GET /status show.
type Status struct {
	Queue         map[store.State]int          `json:"queue"`
	OldestPending time.Time                    `json:"oldest_pending,omitzero"`
	OldestAge     string                       `json:"oldest_pending_age,omitempty"`
	NextAttempt   time.Time                    `json:"next_attempt,omitzero"`
	DeadLetters   int                          `json:"dead_letters"`
	Breaker       string                       `json:"breaker"` // closed, open, half-open; "unknown" before the daemon recorded it
	BreakerSince  time.Time                    `json:"breaker_since,omitzero"`
	Sources       map[string]string            `json:"sources,omitempty"` // name → "ok" or the problem (daemon only)
	Cursors       map[string]map[string]string `json:"cursors,omitempty"`
	Leases        []store.Lease                `json:"leases,omitempty"` // which instance holds which mailbox, event, key
	Daemon        bool                         `json:"daemon"`           // true when read from the running daemon
}

// ReadStatus reads the status from the store directly: it works from a
// second process while the daemon runs (SQLite WAL readers).
func ReadStatus(ctx context.Context, st StatusStore) (Status, error) {
	stats, err := st.Stats(ctx)
	if err != nil {
		return Status{}, err
	}
	s := Status{Queue: stats.ByState, OldestPending: stats.OldestPending, NextAttempt: stats.NextAttempt,
		DeadLetters: stats.ByState[store.StateDead], Breaker: "unknown"}
	if !stats.OldestPending.IsZero() {
		s.OldestAge = time.Since(stats.OldestPending).Round(time.Second).String()
	}
	infos, err := st.Infos(ctx)
	if err != nil {
		return s, err
	}
	if b, ok := infos["breaker"]; ok {
		s.Breaker, s.BreakerSince = b.Value, b.UpdatedAt
	}
	if s.Cursors, err = st.Cursors(ctx); err != nil {
		return s, err
	}
	if s.Leases, err = st.Leases(ctx); err != nil {
		return s, err
	}
	return s, nil
}

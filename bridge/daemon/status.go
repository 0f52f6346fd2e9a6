package daemon

import (
	"context"
	"time"

	"github.com/rtbridge/rtbridge/bridge/imapsource"
	"github.com/rtbridge/rtbridge/bridge/store"
)

// Status is what `rtbridge status` and GET /status show.
type Status struct {
	Queue         map[store.State]int `json:"queue"`
	OldestPending time.Time           `json:"oldest_pending,omitzero"`
	OldestAge     string              `json:"oldest_pending_age,omitempty"`
	NextAttempt   time.Time           `json:"next_attempt,omitzero"`
	DeadLetters   int                 `json:"dead_letters"`
	StoreBytes    int64               `json:"store_bytes"` // database, WAL and payload files on disk
	Breaker       string              `json:"breaker"`     // closed, open, half-open; "unknown" before the daemon recorded it
	BreakerSince  time.Time           `json:"breaker_since,omitzero"`
	// RT is the daemon's last probe of RT (daemon only).
	RT      *RTState          `json:"rt,omitempty"`
	Sources map[string]string `json:"sources,omitempty"` // name → "ok" or the problem (daemon only)
	// OAuth2 is the token state of each IMAP source with auth: oauth2
	// (daemon only); never a token.
	OAuth2  map[string]imapsource.TokenStatus `json:"oauth2,omitempty"`
	Cursors map[string]map[string]string      `json:"cursors,omitempty"`
	Leases  []store.Lease                     `json:"leases,omitempty"` // which instance holds which mailbox, event, key
	// Mailboxes is, per IMAP source of this daemon sharing a PostgreSQL
	// store, "held" (this instance polls the folder) or "standby".
	Mailboxes map[string]string `json:"mailboxes,omitempty"`
	Daemon    bool              `json:"daemon"` // true when read from the running daemon
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
	if sz, ok := st.(interface {
		SizeBytes(context.Context) (int64, error)
	}); ok { // SQLite's directory; PostgreSQL's size is the database's
		if s.StoreBytes, err = sz.SizeBytes(ctx); err != nil {
			return s, err
		}
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

// liveStatus is GET /status: the counts of the last tick (every 5 s; no
// COUNT per request) with the daemon's live breaker, RT, source and token
// states.
func (d *daemon) liveStatus(ctx context.Context) (Status, error) {
	var rep Status
	if c := d.status.Load(); c != nil {
		rep = *c
	} else {
		var err error
		if rep, err = ReadStatus(ctx, d.st); err != nil {
			return rep, err
		}
	}
	if !rep.OldestPending.IsZero() {
		rep.OldestAge = time.Since(rep.OldestPending).Round(time.Second).String()
	}
	rep.Breaker = d.x.BreakerState()
	rep.RT = d.rtState()
	rep.Sources = d.sourceStates()
	rep.OAuth2 = d.oauth2States()
	rep.Mailboxes = d.mailboxStates()
	rep.Daemon = true
	return rep, nil
}

// tokenSource is a source that gets OAuth2 tokens (imapsource).
type tokenSource interface {
	Name() string
	TokenStatus() (imapsource.TokenStatus, bool)
}

// oauth2States returns the token state of every OAuth2 source.
func (d *daemon) oauth2States() map[string]imapsource.TokenStatus {
	var out map[string]imapsource.TokenStatus
	for _, s := range d.sources {
		ts, ok := s.(tokenSource)
		if !ok {
			continue
		}
		if st, ok := ts.TokenStatus(); ok {
			if out == nil {
				out = map[string]imapsource.TokenStatus{}
			}
			out[ts.Name()] = st
		}
	}
	return out
}

// recordTokens puts the token state of the OAuth2 sources in the metrics.
func (d *daemon) recordTokens() {
	for name, st := range d.oauth2States() {
		d.m.OAuth2Token(name, st.OK, st.Expiry)
	}
}

// Package source is the contract between event sources (IMAP pollers,
// webhooks) and the daemon: a source hands raw bytes to a Sink, which answers
// only after the event is durably committed; the daemon later tells the source
// the event's final state so it can act on the origin (IMAP disposition).
package source

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/rtbridge/rtbridge/event"
)

// Meta keys a source that kept only the header of an oversize message
// stores with it; the decoder adds a parse problem saying so (the event's
// raw bytes are the header only).
const (
	MetaOversize = "imap_oversize_bytes"
	MetaLimit    = "imap_size_limit"
)

// Incoming is an event as a source hands it over, before it is stored.
type Incoming struct {
	Source string     // configured source name
	Kind   event.Kind // how to parse Raw
	// DedupKey identifies the same delivery arriving twice from this source
	// (normalised Message-ID, webhook delivery id, or a body hash). Empty: no
	// de-duplication.
	DedupKey string
	// DedupWindow, when > 0, limits DedupKey to that long after the first
	// event with the key: a key first seen earlier starts afresh (webhook
	// body digests); zero keeps a key for as long as its event is stored.
	DedupWindow time.Duration
	Raw         io.Reader // the exact bytes received; streamed into the store
	// Origin is what the source needs later (mailbox, UIDVALIDITY, UID …),
	// stored with the event and handed back in Final.
	Origin map[string]string
	// Meta is parse context kept with the event (e.g. webhook path, selected
	// request headers); never secrets.
	Meta map[string]string
}

// Accepted is the store's receipt.
type Accepted struct {
	ID          string // the event id (time-ordered, the correlation id in logs)
	Duplicate   bool   // an event with the same (source, DedupKey) existed
	DuplicateOf string
}

// Sink accepts events durably. Accept returns only after the event (and its
// raw bytes) are committed and fsync'd; an error means nothing was accepted
// and the sender should retry (HTTP 503, IMAP: leave the message).
type Sink interface {
	Accept(ctx context.Context, in Incoming) (Accepted, error)
}

// Source produces events. Run returns only when ctx ends (nil) or on a
// configuration error that retrying cannot fix; transient failures
// (connection lost) are retried inside with backoff and reported by Health.
type Source interface {
	Name() string
	Run(ctx context.Context, sink Sink) error
	// Health is nil while the source works, else the latest problem.
	Health() error
}

// State is an event's final state.
type State string

// Final states a source tells apart (an ignored event also ends so).
const (
	Done      State = "done"
	Dead      State = "dead"
	Duplicate State = "duplicate"
)

// Final tells a source how one of its events ended.
type Final struct {
	EventID string
	State   State
	Reason  string // for dead/ignored: the rule's reason or RT's message
	Origin  map[string]string
	At      time.Time
}

// Finisher is implemented by sources that act on the origin once an event is
// final (IMAP: mark seen, move, or delete that UID). Finish must be
// idempotent: after a crash it may be called again for the same event.
type Finisher interface {
	Finish(ctx context.Context, f Final) error
}

// ErrNotHere is a Finish that belongs to another instance (the one holding
// the mailbox's lease): not a failure, so it is tried again without backing
// off, as this instance may hold the lease next.
var ErrNotHere = errors.New("disposition belongs to the instance holding the mailbox lease")

// Cursors persists a source's progress (e.g. IMAP UIDVALIDITY and last UID)
// in the store, so progress never depends on flags a human can change.
type Cursors interface {
	Cursor(ctx context.Context, source, key string) (string, error) // "" when unset
	SetCursor(ctx context.Context, source, key, value string) error
}

package executor

import (
	"context"
	"io"
	"time"

	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/rtapi"
)

// RT is the part of RT the executor writes to and reconciles with;
// *rtapi.Client satisfies it. Errors are classified with rtapi.KindOf.
type RT interface {
	CreateTicket(ctx context.Context, t rtapi.TicketCreate) (int, error)
	Comment(ctx context.Context, id int, m rtapi.Message) error
	Correspond(ctx context.Context, id int, m rtapi.Message) error
	EditTicket(ctx context.Context, id int, e rtapi.TicketEdit) error
	AddLink(ctx context.Context, id int, lt rtapi.LinkType, target string) error
	DeleteLink(ctx context.Context, id int, lt rtapi.LinkType, target string) error
	// SearchTickets finds the ticket an ambiguous create may have made.
	SearchTickets(ctx context.Context, query, orderby, format string) ([]rtapi.SearchResult, error)
	// History finds the comment an ambiguous comment may have made.
	History(ctx context.Context, id int, long bool) ([]rtapi.HistoryItem, error)
}

// Store is what the executor needs of the durable store; *store.Store
// and *pgstore.Store satisfy it.
type Store interface {
	Runnable(ctx context.Context, now time.Time, limit int) ([]store.Work, error)
	HeldKeys(ctx context.Context, keys []string) (map[string]string, error)
	NextDue(ctx context.Context) (time.Time, error)
	RecoverRunning(ctx context.Context) (int, error)
	Wake() <-chan struct{}
	Event(ctx context.Context, id string) (*store.Event, error)
	Raw(ctx context.Context, id string) (io.ReadCloser, error)
	SavePlan(ctx context.Context, id string, p store.PlanRecord) error
	Ignore(ctx context.Context, id, rule, reason string) error
	StepStarted(ctx context.Context, id string, idx int, lease time.Duration, idem string) (int, error)
	StepDone(ctx context.Context, id string, idx int, r store.Result, ledger []store.LedgerEntry) error
	StepFailed(ctx context.Context, id string, idx int, f store.Failure, unknown bool, next time.Time) error
	Defer(ctx context.Context, id string, next time.Time) error
	Dead(ctx context.Context, id string, step int, f store.Failure) error
	Done(ctx context.Context, id string) error
	Unfinished(ctx context.Context, limit int) ([]*store.Event, error)
	MarkFinished(ctx context.Context, id string) error
	Ledger(ctx context.Context, key string) (store.LedgerEntry, bool, error)
	SetInfo(ctx context.Context, name, value string) error
}

// Claimer is implemented by a store that several instances share
// (PostgreSQL): an event runs only on the instance that claimed it and
// its correlation keys, until it is released. A single-host store does
// not need it: the scheduler's in-process bookkeeping suffices there.
type Claimer interface {
	Claim(ctx context.Context, id string, keys []string) (bool, error)
	Release(ctx context.Context, id string) error
}

// Metrics receives the executor's counts; the daemon's Prometheus metrics
// (*metrics.Metrics) implement it. Label values come from closed sets.
type Metrics interface {
	// Finished: outcome is done, ignored, dead or duplicate.
	Finished(source, rule, outcome string)
	// Retry: class is transient, ambiguous or auth.
	Retry(class string)
	// AmbiguousRetry counts a create retried without an idempotency field.
	AmbiguousRetry()
	// StormDiverted counts keys that rule's storm guard sent to its
	// umbrella ticket, in a plan just stored.
	StormDiverted(rule string, keys int)
	// Breaker reports the RT circuit breaker opening (true) or closing.
	Breaker(open bool)
	// Capped counts a mail, once when first planned, per parser cap it
	// went over (event.Mail.Capped).
	Capped(cap string)
}

type nopMetrics struct{}

func (nopMetrics) Finished(string, string, string) {}
func (nopMetrics) Retry(string)                    {}
func (nopMetrics) AmbiguousRetry()                 {}
func (nopMetrics) StormDiverted(string, int)       {}
func (nopMetrics) Breaker(bool)                    {}
func (nopMetrics) Capped(string)                   {}

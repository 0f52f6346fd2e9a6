package store

import "time"

// State is an event's state (see the package comment).
type State string

// Event states.
const (
	StateAccepted  State = "accepted"
	StatePlanned   State = "planned"
	StateRunning   State = "running"
	StateWaiting   State = "waiting"
	StateDone      State = "done"
	StateIgnored   State = "ignored"
	StateDead      State = "dead"
	StateDuplicate State = "duplicate"
	StateDropped   State = "dropped"
)

// Final reports whether no more work happens for the event.
func (s State) Final() bool {
	switch s {
	case StateDone, StateIgnored, StateDead, StateDuplicate, StateDropped:
		return true
	}
	return false
}

// States lists every state, in flow order (for status output and metrics).
var states = []State{StateAccepted, StatePlanned, StateRunning, StateWaiting, StateDone, StateIgnored, StateDead, StateDuplicate, StateDropped}

// AllStates returns every state in flow order.
func AllStates() []State { return append([]State(nil), states...) }

// StepState is the state of one step of a plan.
type StepState string

// Step states.
const (
	StepPending StepState = "pending" // not attempted, or failed before reaching RT
	StepStarted StepState = "started" // attempt committed, outcome not yet recorded
	StepUnknown StepState = "unknown" // the attempt may have reached RT: reconcile first
	StepDone    StepState = "done"
	StepFailed  StepState = "failed" // the event died at this step and RT did not act on it
)

// Event is a stored event with its plan and step results.
type Event struct {
	ID          string
	Source      string
	Kind        string
	DedupKey    string
	ReceivedAt  time.Time
	Origin      map[string]string
	Meta        map[string]string
	RawSize     int64
	RawInFile   bool // the payload lives in a file beside the database
	State       State
	DuplicateOf string
	Key         string // correlation key of the stored plan ("" before planning or without one)
	Plan        []byte // the plan as the rules engine serialised it; nil before planning
	PlanVersion int
	// Replan is set by an operator retry: make a fresh plan with the current
	// rules, carrying over the results of Steps that are done.
	Replan      bool
	Attempts    int // step attempts started, all steps together
	NextAttempt time.Time
	RetriedAt   time.Time // the latest operator retry; zero when none
	UpdatedAt   time.Time
	Reason      string // ignored: the rule's reason; dead: RT's message (or ours)
	Rule        string // the rule that planned it, when known
	DeadStep    int    // dead: the failing step's Index (0-based; humans see DeadStep+1), -1 when not a step
	DeadClass   string // dead: permanent, transient (attempts exhausted), ambiguous, plan, parse …
	Finished    bool   // the source's disposition ran
	Steps       []Step
}

// Step is one step of a stored plan and the outcome of its attempts.
type Step struct {
	Index      int    // 0-based position in the plan; logs and operator output show Index+1
	Action     string // create, comment, correspond, link, unlink, edit
	Key        string // correlation key the step acts for (to match steps across re-plans)
	State      StepState
	Attempts   int
	Reconciles int       // failed reconciliations while the outcome is unknown
	Idem       string    // create: the idempotency value sent, kept across re-plans
	StartedAt  time.Time // the latest attempt
	FinishedAt time.Time
	Ticket     int    // ticket created or acted on
	Txn        int    // RT transaction id, when known
	Class      string // the latest failure's class
	Message    string // the latest failure's message (RT's own words)
	Reply      string // first bytes of RT's reply
}

// NewStep describes a step when a plan is stored. Carry, when set, starts
// the step from an earlier plan's step (operator retry): a done one keeps
// its result (a ticket created before the failure is reused, never created
// again); an unknown one stays unknown, so it is reconciled before it is
// sent again.
type NewStep struct {
	Action string
	Key    string
	Carry  *Step
}

// CarriedState is the state a step carried into a new plan starts in:
// unknown stays unknown (RT may have acted), done stays done, anything else
// starts over.
func (s *Step) CarriedState() StepState {
	switch s.State {
	case StepUnknown, StepStarted:
		return StepUnknown
	case StepDone:
		return StepDone
	}
	return StepPending
}

// Result is what a successful step returns.
type Result struct {
	Ticket int
	Txn    int
	Reply  string // first bytes of RT's reply, for operators
}

// Failure is a failed attempt.
type Failure struct {
	Class   string // permanent, transient, ambiguous, auth, …
	Message string // RT's message or the error text
	Reply   string
	// Reconcile (StepFailed): the failure was a reconciliation of a step of
	// unknown outcome; it counts in Step.Reconciles.
	Reconcile bool
	// Unknown (Dead): RT may have acted on the step; it stays unknown, to
	// be reconciled after an operator retry. Otherwise it becomes failed.
	Unknown bool
}

// LedgerEntry is one correlation key's ticket and lifecycle state.
type LedgerEntry struct {
	Key        string
	Ticket     int
	Status     string // the ticket's last known status
	CreatedAt  time.Time
	UpdatedAt  time.Time
	ResolvedAt time.Time
	State      string // small JSON the alert lifecycle keeps (last alert set …)
	EventID    string // the event that last wrote it
}

// Work is a runnable event as the scheduler sees it.
type Work struct {
	ID          string
	State       State
	Key         string   // stored plan's main key; "" before planning
	Keys        []string // every key of the stored plan (when Planned)
	Planned     bool     // a plan is stored and not marked for re-planning
	NextAttempt time.Time
}

// Lease is a time-bounded claim of one instance on a named resource: a
// mailbox folder (Kind "mailbox", polled by one instance at a time), or, in
// a store shared by several instances, an event being run ("event") or a
// correlation key ("key").
type Lease struct {
	Kind  string    `json:"kind"`
	Name  string    `json:"name"`
	Owner string    `json:"owner"` // the holding instance (Store.Instance)
	Until time.Time `json:"until"`
}

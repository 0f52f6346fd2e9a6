// Package plan holds what the planner decides for one event: a Plan of
// fully rendered steps (create, comment, correspond, link, unlink, edit) or
// an Ignore with its reason; and the Planner contract with the facts a
// planner decides from. It is data only: the rules (package rules) produce it, the
// store persists it as JSON, and the executor maps each step onto its RT
// call. It imports neither the RT client nor anything of bridge/.
package plan

import (
	"fmt"
	"time"
)

// Version is the version of the plan's JSON shape. The store persists
// plans as JSON tagged with it; changes to Plan and Step are additive only,
// and a change an older reader could misunderstand bumps it.
const Version = 1

// Plan is what the engine decides for one event: either an ordered list of
// fully rendered steps, or Ignore. It holds data only; the executor runs it.
type Plan struct {
	Version int    `json:"version"`
	EventID string `json:"event_id,omitempty"`
	// Rule is the first rule that matched ("" when none did); Rules lists
	// every rule that contributed steps, in order (more than one when a rule
	// says continue).
	Rule  string   `json:"rule,omitempty"`
	Rules []string `json:"rules,omitempty"`
	// Key is the first matching rule's correlation key after resolution
	// ("" when it has none).
	Key string `json:"key,omitempty"`
	// Keys is every correlation key the plan looked up or will record. The
	// executor holds their per-key locks while evaluating and running the
	// plan; the planner's Keys returns the same set before evaluation.
	Keys  []string `json:"keys,omitempty"`
	Steps []Step   `json:"steps,omitempty"`
	// Ignore is set, and Steps empty, when the event is deliberately not
	// acted on: an ignore action, a drop default, or an identical repeat.
	Ignore *Ignore `json:"ignore,omitempty"`
	// Notes are human-readable remarks for logs and `rtbridge test`, e.g.
	// "link skipped: key incident:x has no ticket".
	Notes []string `json:"notes,omitempty"`
	// Storm lists the alert keys the storm guard sent to an umbrella ticket
	// instead of their own, one entry per key: the machine-readable twin of
	// the storm notes, which the executor counts in a metric.
	Storm []StormDiversion `json:"storm,omitempty"`
}

// StormDiversion records one alert key diverted by a rule's storm_limit.
type StormDiversion struct {
	Rule     string `json:"rule"`
	Key      string `json:"key"`      // the alert key that would have had its own ticket
	Umbrella string `json:"umbrella"` // the umbrella ticket's correlation key
	Limit    int    `json:"limit"`    // the rule's storm_limit (new tickets per minute)
}

// Ignore says why an event leads to no RT action.
type Ignore struct {
	Rule   string `json:"rule,omitempty"` // "" for the no-match default
	Reason string `json:"reason"`
}

// Action names what a step does in RT.
type Action string

// The step actions; the executor maps each onto one RT call.
const (
	ActionCreate     Action = "create"
	ActionComment    Action = "comment"
	ActionCorrespond Action = "correspond"
	ActionLink       Action = "link"
	ActionUnlink     Action = "unlink"
	ActionEdit       Action = "edit"
)

// Step is one RT write. Exactly the payload field matching Action is set:
// Create for create, Message for comment/correspond, Link for link/unlink,
// Edit for edit. Every string is final: no template is left to render.
type Step struct {
	Action Action `json:"action"`
	Rule   string `json:"rule,omitempty"` // the rule that produced the step
	// Key is the correlation key under which the step's ticket (the one it
	// created, or the one it acted on) is recorded in the ledger when the
	// step succeeds; "" records nothing. The executor also uses (Action,
	// Key) to recognise a step that already succeeded when it re-plans.
	Key string `json:"key,omitempty"`
	// Record lists further keys to map to the step's ticket on success,
	// e.g. "msgid:<Message-ID>" so replies to this mail thread into it.
	Record []string `json:"record,omitempty"`
	// State is merged into the ledger entry of Key on success (e.g. the
	// alert set digest, to stay quiet on identical repeats).
	State map[string]string `json:"state,omitempty"`
	// Ticket is the ticket acted on (comment, correspond, link, unlink,
	// edit); zero for create.
	Ticket TicketRef `json:"ticket,omitzero"`

	Create  *Create  `json:"create,omitempty"`
	Message *Message `json:"message,omitempty"`
	Link    *Link    `json:"link,omitempty"`
	Edit    *Edit    `json:"edit,omitempty"`
	Gateway *Gateway `json:"gateway,omitempty"` // gateway.go

	// Attachments selects which of the event's files go with a create,
	// comment or correspond.
	Attachments Attachments `json:"attachments,omitzero"`
}

// TicketRef names a ticket. Exactly one of ID and Step is set; Key, when
// set, says which correlation key the engine resolved it from (for logs).
type TicketRef struct {
	ID   int    `json:"id,omitempty"`   // a known ticket
	Step int    `json:"step,omitempty"` // 1-based index of an earlier step of the same plan whose ticket to use
	Key  string `json:"key,omitempty"`
}

// IsZero reports whether the reference names no ticket.
func (r TicketRef) IsZero() bool { return r.ID == 0 && r.Step == 0 && r.Key == "" }

// String shows a reference the way `rtbridge test` prints it.
func (r TicketRef) String() string {
	switch {
	case r.ID != 0 && r.Key != "":
		return fmt.Sprintf("ticket %d (key %s)", r.ID, r.Key)
	case r.ID != 0:
		return fmt.Sprintf("ticket %d", r.ID)
	case r.Step != 0:
		return fmt.Sprintf("the ticket of step %d", r.Step)
	}
	return "key " + r.Key
}

// Create holds the fields of a new ticket, as RT names them. Single-line fields are already folded and
// truncated.
type Create struct {
	Queue           string              `json:"queue"`
	Subject         string              `json:"subject,omitempty"`
	Requestors      []string            `json:"requestors,omitempty"`
	Cc              []string            `json:"cc,omitempty"`
	AdminCc         []string            `json:"admin_cc,omitempty"`
	Owner           string              `json:"owner,omitempty"`
	Status          string              `json:"status,omitempty"`
	Priority        *int                `json:"priority,omitempty"`
	InitialPriority *int                `json:"initial_priority,omitempty"`
	FinalPriority   *int                `json:"final_priority,omitempty"`
	TimeEstimated   int                 `json:"time_estimated,omitempty"` // minutes
	TimeWorked      int                 `json:"time_worked,omitempty"`    // minutes
	TimeLeft        int                 `json:"time_left,omitempty"`      // minutes
	Starts          time.Time           `json:"starts,omitzero"`
	Due             time.Time           `json:"due,omitzero"`
	Text            string              `json:"text,omitempty"`
	ContentType     string              `json:"content_type,omitempty"`
	CustomFields    map[string][]string `json:"custom_fields,omitempty"`
	// Omitted names the people fields the rule left out ("requestors",
	// "cc"), which the engine filled with its defaults (From; none), so a
	// caller with a policy of its own (bridge/mailflow) knows what it may
	// replace. Not stored: the plan is final before the store sees it.
	Omitted []string `json:"-"`
}

// Message is a comment or correspondence.
type Message struct {
	Text        string   `json:"text,omitempty"`
	ContentType string   `json:"content_type,omitempty"`
	Cc          []string `json:"cc,omitempty"`
	Bcc         []string `json:"bcc,omitempty"`
	TimeWorked  int      `json:"time_worked,omitempty"` // minutes
	Status      string   `json:"status,omitempty"`      // set after the message
}

// Link is a link (or unlink) from Step.Ticket to Target: "Step.Ticket
// <Type> Target", e.g. ticket MemberOf incident.
type Link struct {
	Type   LinkType  `json:"type"`
	Target TicketRef `json:"target"`
}

// LinkType is one of RT's link relations, spelt as RT spells it.
type LinkType string

// The link types RT knows.
const (
	DependsOn    LinkType = "DependsOn"
	DependedOnBy LinkType = "DependedOnBy"
	RefersTo     LinkType = "RefersTo"
	ReferredToBy LinkType = "ReferredToBy"
	MemberOf     LinkType = "MemberOf"
	Members      LinkType = "Members"
)

// Edit sets fields of an existing ticket.
type Edit struct {
	Fields       map[string]string   `json:"fields,omitempty"` // Subject, Status, Queue, Owner, Priority, Due, …
	CustomFields map[string][]string `json:"custom_fields,omitempty"`
	Requestors   *[]string           `json:"requestors,omitempty"`
	Cc           *[]string           `json:"cc,omitempty"`
	AdminCc      *[]string           `json:"admin_cc,omitempty"`
}

// Attachments selects files of the event. The zero value selects nothing.
// The executor resolves the selection against the mail's attachments (and
// its raw bytes for Original) when it runs the step.
type Attachments struct {
	// All selects every attachment (inline parts included).
	All bool `json:"all,omitempty"`
	// Names are path.Match patterns on the attachment's file name; Types
	// are patterns on its media type ("image/*"). An attachment matching
	// any of them is selected.
	Names []string `json:"names,omitempty"`
	Types []string `json:"types,omitempty"`
	// Original attaches the raw message as "original.eml" (set
	// automatically on the first message step when the mail had parse
	// problems).
	Original bool `json:"original,omitempty"`
}

// IsZero reports whether nothing is selected.
func (a Attachments) IsZero() bool {
	return !a.All && len(a.Names) == 0 && len(a.Types) == 0 && !a.Original
}

package rtapi

import (
	"io"
	"time"
)

// Attachment is one file to upload. Open is called once per attempt, so a
// retried request streams the file again instead of holding it in memory.
type Attachment struct {
	Name        string // file name shown in RT (UTF-8); path components are stripped by RT
	ContentType string // e.g. "application/pdf"; "application/octet-stream" when empty
	Open        func() (io.ReadCloser, error)
	// Size is the exact number of bytes Open yields, when the caller knows
	// it (0: unknown). With every size known the upload carries a
	// Content-Length instead of going chunked, which RT's Perl server
	// decodes noticeably slower.
	Size int64
	// SizeKnown says Size is exact even when it is 0 (an empty part), so
	// the upload need not open the file to learn its size.
	SizeKnown bool
}

// TicketCreate is everything ticket/new accepts. Empty fields are not sent.
type TicketCreate struct {
	Queue           string
	Subject         string
	Requestors      []string
	Cc              []string
	AdminCc         []string
	Owner           string
	Status          string
	Priority        *int
	InitialPriority *int
	FinalPriority   *int
	TimeEstimated   int // minutes
	TimeWorked      int // minutes
	TimeLeft        int // minutes
	Starts          time.Time
	Due             time.Time
	Text            string // initial message; may span lines and be indented
	ContentType     string // of Text; "text/plain" when empty
	CustomFields    map[string][]string
	Attachments     []Attachment
}

// Message is a comment or a correspondence on an existing ticket.
type Message struct {
	Text        string
	ContentType string   // of Text; "text/plain" when empty
	Cc          []string // one-shot recipients for this message only
	Bcc         []string
	TimeWorked  int    // minutes recorded on the transaction
	Status      string // set after the message, when not empty
	Attachments []Attachment
}

// TicketEdit sets fields of an existing ticket; nil/empty fields are left
// alone. People and custom fields given replace the whole set in RT.
type TicketEdit struct {
	Fields       map[string]string   // Subject, Status, Queue, Owner, Priority, Due, …
	CustomFields map[string][]string // an empty slice clears the field
	Requestors   *[]string
	Cc           *[]string
	AdminCc      *[]string
}

// LinkType is one of RT's link relations.
type LinkType string

// The link types RT knows. On the incremental endpoint Members is sent as HasMember.
const (
	DependsOn    LinkType = "DependsOn"
	DependedOnBy LinkType = "DependedOnBy"
	RefersTo     LinkType = "RefersTo"
	ReferredToBy LinkType = "ReferredToBy"
	MemberOf     LinkType = "MemberOf"
	Members      LinkType = "Members"
)

// Ticket is a ticket as RT shows it.
type Ticket struct {
	ID              int
	Queue           string
	Owner           string
	Creator         string
	Subject         string
	Status          string
	Priority        int
	InitialPriority int
	FinalPriority   int
	Requestors      []string
	Cc              []string
	AdminCc         []string
	Created         time.Time // zero when RT says "Not set"
	Starts          time.Time
	Started         time.Time
	Due             time.Time
	Resolved        time.Time
	Told            time.Time
	LastUpdated     time.Time
	TimeEstimated   int // minutes
	TimeWorked      int
	TimeLeft        int
	CustomFields    map[string][]string
}

// Links is a ticket's links, each as RT's URI (fsck.com-rt://…/ticket/N or external).
type Links struct {
	ID    int
	Links map[LinkType][]string
}

// AttachmentInfo is one entry of a ticket's attachment list or metadata.
type AttachmentInfo struct {
	ID          int
	Name        string // "" for RT's "(Unnamed)"
	ContentType string
	Size        string // RT's display size, e.g. "11b", "2.5k"
	Subject     string
	Creator     string
	Created     time.Time
	Transaction int
	Parent      int
	MessageID   string
	Headers     string
}

// HistoryItem is one transaction of a ticket's history.
type HistoryItem struct {
	ID          int
	Ticket      int
	TimeTaken   int
	Type        string // Create, Comment, Correspond, Status, Set, CustomField, AddLink, …
	Field       string
	OldValue    string
	NewValue    string
	Data        string
	Description string
	Content     string
	Creator     string
	Created     time.Time
	Attachments []AttachmentInfo // ID, Name and Size only
}

// User is an RT user.
type User struct {
	ID           int
	Name         string
	EmailAddress string
	RealName     string
	Organization string
	Privileged   bool
	Disabled     bool
	Fields       map[string]string // every field as shown
}

// Queue is an RT queue.
type Queue struct {
	ID                int
	Name              string
	Description       string
	CorrespondAddress string
	CommentAddress    string
	Disabled          bool
	Fields            map[string]string
}

// SearchResult is one row of a ticket search: the id and subject, plus the
// full ticket when the long format was asked for.
type SearchResult struct {
	ID      int
	Subject string
	Ticket  *Ticket
}

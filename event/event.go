// Package event defines the one normalised event that every source produces
// and the rules engine reads: a mail, an Alertmanager or Grafana notification,
// or a generic JSON webhook. It holds data only; parsing lives with the
// sources (bridge/mailparse, bridge/alerts, bridge/webhook), and the daemon
// derives an Event from the stored raw bytes on demand, so a parser fix
// applies to replays.
package event

import (
	"encoding/json"
	"io"
	"net/textproto"
	"time"
)

// Kind names the shape of an event.
type Kind string

// The event kinds.
const (
	KindMail         Kind = "mail"
	KindAlertmanager Kind = "alertmanager"
	KindGrafana      Kind = "grafana"
	KindJSON         Kind = "json"
)

// Event is what the rules engine matches and renders. Exactly one of Mail,
// Alert and JSON is set, according to Kind.
type Event struct {
	ID         string    // sortable unique id (time-ordered); the correlation id in logs
	Source     string    // configured source name, e.g. "support-mailbox"
	Kind       Kind      //
	ReceivedAt time.Time // when the store committed it

	Mail  *Mail
	Alert *AlertNotification
	JSON  *JSONBody
}

// Mail is a parsed e-mail message.
type Mail struct {
	Header      textproto.MIMEHeader // decoded (RFC 2047) values, canonical keys, all values kept
	From        []Address
	To          []Address
	Cc          []Address
	ReplyTo     []Address
	Subject     string   // decoded, on one line
	MessageID   string   // without angle brackets; "" when absent
	InReplyTo   []string // message ids without angle brackets
	References  []string // message ids without angle brackets, oldest first
	Date        time.Time
	TextBody    string // the preferred text/plain body, UTF-8
	HTMLBody    string // the text/html body, UTF-8, when there is one
	Attachments []Attachment
	// ParseProblems lists what could not be understood (bad charset, broken
	// MIME structure, …). A mail with problems is still delivered; rules and
	// the executor attach the raw message when the list is not empty.
	ParseProblems []string
	// Capped names the parser's limits this mail went over (header_bytes,
	// depth, parts, attachments, text_bytes): what lies beyond is only in
	// the raw message, and ParseProblems says so.
	Capped []string
	// Raw opens the exact bytes received, for attaching the original .eml.
	Raw     func() (io.ReadCloser, error) `json:"-"`
	RawSize int64
	// Delivery is set for mail the local MTA handed over (rtbridge
	// mailgate, LMTP): what rt-mailgate's command line would have said.
	Delivery *Delivery
}

// Delivery is how the local MTA handed a mail over.
type Delivery struct {
	Via       string // "mailgate" or "lmtp"
	Queue     string // the queue a new ticket goes to
	Action    string // correspond, comment, or a chain such as take-comment
	Ticket    int    // the ticket the extension or route names; 0 when none
	Extension string // the recipient's +extension, as received
	Recipient string // the envelope recipient
	Sender    string // the envelope sender ("" for a bounce)
}

// Address is one mailbox of an address header.
type Address struct {
	Name    string
	Address string // lower-cased domain, local part as sent
}

// Attachment is one attachment or inline part of a mail. The content is not
// copied into the event: Open streams it from the stored raw message.
type Attachment struct {
	Name        string // decoded file name (RFC 2231/2047); generated when the part had none
	ContentType string // media type, e.g. "image/png"
	Size        int64  // decoded size in bytes
	Inline      bool   // Content-Disposition inline (e.g. an embedded image)
	ContentID   string
	Open        func() (io.ReadCloser, error) `json:"-"`
}

// AlertNotification is an Alertmanager (webhook version 4) or Grafana unified
// alerting notification.
type AlertNotification struct {
	Version           string
	Status            string // "firing" or "resolved"
	Receiver          string
	GroupKey          string
	TruncatedAlerts   int
	GroupLabels       map[string]string
	CommonLabels      map[string]string
	CommonAnnotations map[string]string
	ExternalURL       string
	Alerts            []Alert

	// Grafana only.
	OrgID   int64
	Title   string
	State   string
	Message string

	// Extra keeps unknown top-level fields, so nothing a sender adds is lost.
	Extra map[string]json.RawMessage
}

// Alert is one alert of a notification.
type Alert struct {
	Status       string
	Labels       map[string]string
	Annotations  map[string]string
	StartsAt     time.Time
	EndsAt       time.Time
	GeneratorURL string
	Fingerprint  string

	// Grafana only.
	SilenceURL   string
	DashboardURL string
	PanelURL     string
	ImageURL     string
	Values       map[string]float64
	ValueString  string

	Extra map[string]json.RawMessage
}

// JSONBody is a generic JSON webhook request.
type JSONBody struct {
	Body   any                  // the decoded body (map[string]any, []any, …)
	Header textproto.MIMEHeader // request headers (secrets such as Authorization removed)
	Path   string               // the request path it arrived on
}

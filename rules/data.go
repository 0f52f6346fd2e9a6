package rules

import (
	"net/mail"
	"strings"
	"time"

	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
)

// Data is what templates see: plain strings, lists and maps copied from the
// event, never the event itself. Values are data: nothing in them is ever
// executed as a template.
type Data struct {
	ID         string
	Source     string
	Kind       string
	ReceivedAt time.Time

	// Match holds the named captures of the rule's regexes.
	Match map[string]string
	// Key is the rule's resolved correlation key, Ticket what the ledger
	// knows about it (ID 0 when the key has no ticket yet).
	Key    string
	Ticket TicketData

	// Mail.
	From        string   // first From address (bare)
	FromName    string   // its display name
	FromFull    string   // "Name <addr>"
	To          []string // bare addresses
	Cc          []string
	ReplyTo     []string
	Subject     string
	MessageID   string
	InReplyTo   []string
	References  []string
	Date        time.Time
	Body        string // text body
	HTML        string
	Header      map[string]string   // first value of each header, canonical names
	Headers     map[string][]string // every value
	Attachments []AttachmentData
	// ParseProblems lists what the mail parser could not understand.
	ParseProblems []string
	// MTA is how the local MTA handed the mail over (rules/mta.go).
	MTA MTAData

	// Alertmanager / Grafana.
	Status            string
	Receiver          string
	GroupKey          string
	GroupLabels       map[string]string
	CommonLabels      map[string]string
	CommonAnnotations map[string]string
	ExternalURL       string
	Alerts            Alerts
	TruncatedAlerts   int
	OrgID             int64
	Title             string
	State             string
	Message           string

	// JSON webhooks.
	JSON          any
	RequestHeader map[string]string
	Path          string
}

// TicketData is the ledger entry of the rule's key.
type TicketData struct {
	ID         int
	Status     string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	ResolvedAt time.Time
	State      map[string]string
}

// AttachmentData describes one attachment of a mail.
type AttachmentData struct {
	Name        string
	ContentType string
	Size        int64
	Inline      bool
}

// AlertData is one alert of a notification.
type AlertData struct {
	Status       string
	Labels       map[string]string
	Annotations  map[string]string
	StartsAt     time.Time
	EndsAt       time.Time
	GeneratorURL string
	Fingerprint  string
	SilenceURL   string
	DashboardURL string
	PanelURL     string
	ImageURL     string
	ValueString  string
	Values       map[string]float64
}

// Alerts is a list of alerts, with Alertmanager's Firing/Resolved helpers.
type Alerts []AlertData

// Firing returns the alerts whose status is firing.
func (as Alerts) Firing() Alerts { return as.with("firing") }

// Resolved returns the alerts whose status is resolved.
func (as Alerts) Resolved() Alerts { return as.with("resolved") }

func (as Alerts) with(status string) Alerts {
	var out Alerts
	for _, a := range as {
		if a.Status == status {
			out = append(out, a)
		}
	}
	return out
}

// newData copies ev into template data.
func newData(ev *event.Event) *Data {
	d := &Data{ID: ev.ID, Source: ev.Source, Kind: string(ev.Kind), ReceivedAt: ev.ReceivedAt}
	if m := ev.Mail; m != nil {
		if len(m.From) > 0 {
			d.From, d.FromName, d.FromFull = addrText(m.From[0].Address), m.From[0].Name, addrText(m.From[0].Address)
			if m.From[0].Name != "" {
				d.FromFull = (&mail.Address{Name: m.From[0].Name, Address: m.From[0].Address}).String()
			}
		}
		d.To, d.Cc, d.ReplyTo = bare(m.To), bare(m.Cc), bare(m.ReplyTo)
		d.Subject, d.MessageID, d.Date = m.Subject, m.MessageID, m.Date
		d.InReplyTo, d.References = m.InReplyTo, m.References
		d.Body, d.HTML = m.TextBody, m.HTMLBody
		d.MTA = mtaData(m)
		d.Header = make(map[string]string, len(m.Header))
		for k, vs := range m.Header {
			if len(vs) > 0 {
				d.Header[k] = vs[0]
			}
		}
		// Templates cannot change a map, so the event's own is shared
		// (its value slices always were); an empty one stays non-nil.
		d.Headers = m.Header
		if d.Headers == nil {
			d.Headers = map[string][]string{}
		}
		if len(m.Attachments) > 0 {
			d.Attachments = make([]AttachmentData, len(m.Attachments))
			for i, a := range m.Attachments {
				d.Attachments[i] = AttachmentData{a.Name, a.ContentType, a.Size, a.Inline}
			}
		}
		d.ParseProblems = m.ParseProblems
	}
	if a := ev.Alert; a != nil {
		d.Status, d.Receiver, d.GroupKey = a.Status, a.Receiver, a.GroupKey
		d.GroupLabels, d.CommonLabels, d.CommonAnnotations = a.GroupLabels, a.CommonLabels, a.CommonAnnotations
		d.ExternalURL, d.TruncatedAlerts = a.ExternalURL, a.TruncatedAlerts
		d.OrgID, d.Title, d.State, d.Message = a.OrgID, a.Title, a.State, a.Message
		for _, x := range a.Alerts {
			d.Alerts = append(d.Alerts, AlertData{
				Status: x.Status, Labels: x.Labels, Annotations: x.Annotations,
				StartsAt: x.StartsAt, EndsAt: x.EndsAt, GeneratorURL: x.GeneratorURL,
				Fingerprint: x.Fingerprint, SilenceURL: x.SilenceURL, DashboardURL: x.DashboardURL,
				PanelURL: x.PanelURL, ImageURL: x.ImageURL, ValueString: x.ValueString, Values: x.Values,
			})
		}
	}
	if j := ev.JSON; j != nil {
		d.JSON, d.Path = j.Body, j.Path
		d.RequestHeader = make(map[string]string, len(j.Header))
		for k, vs := range j.Header {
			if len(vs) > 0 {
				d.RequestHeader[k] = vs[0]
			}
		}
	}
	return d
}

func bare(list []event.Address) []string {
	if len(list) == 0 {
		return nil
	}
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = addrText(a.Address)
	}
	return out
}

// addrText is an address as the mail wrote it: a local part that is no
// dot-atom ("a,b"@x, the parser's a,b@x) is quoted again, so a template
// list never splits it into two people and the people check refuses it
// whole.
func addrText(addr string) string {
	if addr == "" || plan.PlainAddress(addr) {
		return addr
	}
	local, domain := addr, ""
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		local, domain = addr[:i], addr[i:]
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(local) + `"` + domain
}

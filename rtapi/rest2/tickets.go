package rest2

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/rtbridge/rtbridge/rtapi"
)

// rtTime is REST2's date format for writes (UTC).
const rtTime = "2006-01-02 15:04:05"

// CreateTicket creates a ticket and returns its id. Attachments go as base64
// JSON, or as multipart when larger than Config.MultipartOver in total.
func (cl *Client) CreateTicket(ctx context.Context, t rtapi.TicketCreate) (int, error) {
	doc := map[string]any{"Queue": t.Queue, "Subject": t.Subject}
	putList(doc, "Requestor", t.Requestors) // singular: applied at create, so autoreplies go out
	putList(doc, "Cc", t.Cc)
	putList(doc, "AdminCc", t.AdminCc)
	put(doc, "Owner", t.Owner)
	put(doc, "Status", t.Status)
	put(doc, "Priority", t.Priority)
	put(doc, "InitialPriority", t.InitialPriority)
	put(doc, "FinalPriority", t.FinalPriority)
	put(doc, "TimeEstimated", t.TimeEstimated)
	put(doc, "TimeWorked", t.TimeWorked)
	put(doc, "TimeLeft", t.TimeLeft)
	putTime(doc, "Starts", t.Starts)
	putTime(doc, "Due", t.Due)
	if t.Text != "" {
		doc["Content"] = t.Text
		doc["ContentType"] = cmp.Or(t.ContentType, "text/plain")
	}
	if len(t.CustomFields) > 0 {
		doc["CustomFields"] = cfValues(t.CustomFields)
	}
	c := &call{op: "create ticket", method: http.MethodPost, path: "ticket"}
	b, err := cl.withAttachments(doc, t.Attachments)
	if err != nil {
		return 0, &rtapi.Error{Op: c.op, Path: c.path, Kind: rtapi.Permanent, Err: err}
	}
	c.body = b
	_, out, _, err := cl.do(ctx, c)
	if err != nil {
		return 0, err
	}
	var ref struct {
		ID json.Number `json:"id"`
	}
	if err := json.Unmarshal(out, &ref); err != nil || ref.ID == "" {
		return 0, &rtapi.Error{Op: c.op, Path: c.path, Code: 201, Kind: rtapi.Ambiguous, Text: "created, but the answer has no ticket id", Err: err}
	}
	id, err := strconv.Atoi(ref.ID.String())
	if err != nil {
		return 0, &rtapi.Error{Op: c.op, Path: c.path, Code: 201, Kind: rtapi.Ambiguous, Text: "created, but the ticket id is not a number"}
	}
	return id, nil
}

// Ticket reads a ticket.
func (cl *Client) Ticket(ctx context.Context, id int) (*rtapi.Ticket, error) {
	path := "ticket/" + strconv.Itoa(id)
	q := url.Values{"fields[Queue]": {"Name"}}
	var raw ticketJSON
	if err := cl.getJSON(ctx, "show ticket "+strconv.Itoa(id), path, q, &raw); err != nil {
		return nil, err
	}
	t := &rtapi.Ticket{
		ID: id, Queue: raw.Queue.name(), Owner: raw.Owner.ID, Creator: raw.Creator.ID,
		Subject: raw.Subject, Status: raw.Status,
		Priority: atoi(raw.Priority), InitialPriority: atoi(raw.InitialPriority), FinalPriority: atoi(raw.FinalPriority),
		Created: date(raw.Created), Starts: date(raw.Starts), Started: date(raw.Started), Due: date(raw.Due),
		Resolved: date(raw.Resolved), Told: date(raw.Told), LastUpdated: date(raw.LastUpdated),
		TimeEstimated: atoi(raw.TimeEstimated), TimeWorked: atoi(raw.TimeWorked), TimeLeft: atoi(raw.TimeLeft),
	}
	emails := newEmailCache(cl)
	var err error
	if t.Requestors, err = emails.of(ctx, raw.Requestor); err != nil {
		return nil, err
	}
	if t.Cc, err = emails.of(ctx, raw.Cc); err != nil {
		return nil, err
	}
	if t.AdminCc, err = emails.of(ctx, raw.AdminCc); err != nil {
		return nil, err
	}
	if len(raw.CustomFields) > 0 {
		t.CustomFields = make(map[string][]string, len(raw.CustomFields))
		for _, cf := range raw.CustomFields {
			t.CustomFields[cf.Name] = append([]string(nil), cf.Values...) // nil when empty, as REST 1.0 reads it
		}
	}
	return t, nil
}

type ref struct {
	ID   string `json:"id"`
	Name string `json:"Name"`
}

func (r ref) name() string {
	if r.Name != "" {
		return r.Name
	}
	return r.ID
}

// ticketJSON is REST2's ticket; numbers arrive as strings.
type ticketJSON struct {
	Subject, Status                               string
	Queue, Owner, Creator                         ref
	Requestor, Cc, AdminCc                        []ref
	Priority, InitialPriority, FinalPriority      flexInt
	TimeEstimated, TimeWorked, TimeLeft           flexInt
	Created, Starts, Started, Due, Resolved, Told string
	LastUpdated                                   string
	CustomFields                                  []struct {
		Name   string   `json:"name"`
		Values []string `json:"values"`
	}
}

// flexInt accepts 5 and "5".
type flexInt string

func (f *flexInt) UnmarshalJSON(b []byte) error {
	*f = flexInt(strings.Trim(string(b), `"`))
	return nil
}

func atoi(f flexInt) int { n, _ := strconv.Atoi(string(f)); return n }

// date parses REST2's W3C UTC dates; RT's "unset" (epoch) becomes zero.
func date(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil || t.Unix() <= 0 {
		return time.Time{}
	}
	return t
}

// EditTicket changes fields, watchers and custom fields (PUT ticket/N).
// RT answers 200 with messages even when it refused a change; those become
// an *rtapi.Error (Partial when other changes were applied).
func (cl *Client) EditTicket(ctx context.Context, id int, e rtapi.TicketEdit) error {
	doc := map[string]any{}
	for k, v := range e.Fields {
		doc[k] = v
	}
	if e.Requestors != nil {
		doc["Requestor"] = nonNil(*e.Requestors)
	}
	if e.Cc != nil {
		doc["Cc"] = nonNil(*e.Cc)
	}
	if e.AdminCc != nil {
		doc["AdminCc"] = nonNil(*e.AdminCc)
	}
	if len(e.CustomFields) > 0 {
		cfs := map[string]any{}
		for k, v := range e.CustomFields {
			switch len(v) {
			case 0:
				cfs[k] = nil // clears a single-value CF; multi-value: empty set
			case 1:
				cfs[k] = v[0]
			default:
				cfs[k] = v
			}
		}
		doc["CustomFields"] = cfs
	}
	if len(doc) == 0 {
		return nil
	}
	return cl.update(ctx, "edit ticket "+strconv.Itoa(id), "ticket/"+strconv.Itoa(id), doc)
}

// update PUTs doc and checks RT's message list.
func (cl *Client) update(ctx context.Context, op, path string, doc any) error {
	b, err := jsonBody(doc)
	if err != nil {
		return &rtapi.Error{Op: op, Path: path, Kind: rtapi.Permanent, Err: err}
	}
	// A PUT of the same values is idempotent: resending it cannot apply twice.
	return cl.send(ctx, &call{op: op, method: http.MethodPut, path: path, body: b, idempotent: true})
}

// send runs the write c and checks RT's answer for refusals (messagesError).
func (cl *Client) send(ctx context.Context, c *call) error {
	_, out, _, err := cl.do(ctx, c)
	if err != nil {
		return err
	}
	return messagesError(c.op, c.path, out)
}

// failureWords mark a message of a 200 answer as a refusal; RT words them
// differently per field (RT::Record, RT::Ticket, RT::Interface::Web).
var failureWords = []string{"permission denied", "no permission", "not allowed", "couldn't", "could not",
	"invalid", "illegal", "isn't", "failed", "does not exist", "not found", "can't", "cannot", "must be", "is not a"}

// messagesError inspects an update's JSON list of messages.
func messagesError(op, path string, out []byte) error {
	var msgs []string
	if len(strings.TrimSpace(string(out))) == 0 {
		return nil
	}
	if err := json.Unmarshal(out, &msgs); err != nil {
		return nil // not a message list (e.g. an object): nothing to check
	}
	var bad []string
	for _, m := range msgs {
		lm := strings.ToLower(m)
		for _, w := range failureWords {
			if strings.Contains(lm, w) {
				bad = append(bad, m)
				break
			}
		}
	}
	if len(bad) == 0 {
		return nil
	}
	e := &rtapi.Error{Op: op, Path: path, Code: 400, Kind: rtapi.Permanent, Text: strings.Join(bad, "; "),
		Comments: msgs, Partial: len(bad) < len(msgs)}
	for _, m := range bad {
		if lm := strings.ToLower(m); strings.Contains(lm, "permission") || strings.Contains(lm, "not allowed") {
			e.Code = 403
		}
	}
	return e
}

// Comment adds a comment (with attachments) to ticket id.
func (cl *Client) Comment(ctx context.Context, id int, m rtapi.Message) error {
	return cl.message(ctx, "comment", id, m)
}

// Correspond adds a reply (with attachments) to ticket id.
func (cl *Client) Correspond(ctx context.Context, id int, m rtapi.Message) error {
	return cl.message(ctx, "correspond", id, m)
}

func (cl *Client) message(ctx context.Context, kind string, id int, m rtapi.Message) error {
	op := kind + " on ticket " + strconv.Itoa(id)
	path := "ticket/" + strconv.Itoa(id) + "/" + kind
	if len(m.Cc) > 0 || len(m.Bcc) > 0 {
		// REST2 in RT 5.0 has no one-shot recipients; refusing beats silently dropping them.
		return &rtapi.Error{Op: op, Path: path, Kind: rtapi.Permanent, Text: "REST2 cannot send one-shot Cc/Bcc; use the REST 1.0 backend"}
	}
	doc := map[string]any{"Content": m.Text, "ContentType": cmp.Or(m.ContentType, "text/plain")}
	put(doc, "TimeTaken", m.TimeWorked)
	put(doc, "Status", m.Status)
	b, err := cl.withAttachments(doc, m.Attachments)
	if err != nil {
		return &rtapi.Error{Op: op, Path: path, Kind: rtapi.Permanent, Err: err}
	}
	return cl.send(ctx, &call{op: op, method: http.MethodPost, path: path, body: b})
}

// Take makes the RT user the owner of ticket id (only if it has none).
func (cl *Client) Take(ctx context.Context, id int) error { return cl.owner(ctx, id, "take") }

// Steal makes the RT user the owner of ticket id, even if someone owns it.
func (cl *Client) Steal(ctx context.Context, id int) error { return cl.owner(ctx, id, "steal") }

// Untake gives ticket id back to Nobody.
func (cl *Client) Untake(ctx context.Context, id int) error { return cl.owner(ctx, id, "untake") }

// owner PUTs ticket/N/take|steal|untake. A repeat fails in RT ("already
// own"), so like REST 1.0 it is not re-sent once it may have reached RT.
func (cl *Client) owner(ctx context.Context, id int, action string) error {
	op := fmt.Sprintf("%s ticket %d", action, id)
	path := "ticket/" + strconv.Itoa(id) + "/" + action
	b, _ := jsonBody(map[string]any{}) // RT wants a JSON content type even here (else 415)
	return cl.send(ctx, &call{op: op, method: http.MethodPut, path: path, body: b})
}

// Merge merges ticket id into ticket into.
func (cl *Client) Merge(ctx context.Context, id, into int) error {
	return cl.update(ctx, fmt.Sprintf("merge ticket %d into %d", id, into), "ticket/"+strconv.Itoa(id), map[string]any{"MergeInto": into})
}

// put sets m[k] unless v is its zero value: a field left out keeps RT's
// default. A *int is set when not nil (JSON writes the number).
func put[T comparable](m map[string]any, k string, v T) {
	var zero T
	if v != zero {
		m[k] = v
	}
}

func putList(m map[string]any, k string, v []string) {
	if len(v) > 0 {
		m[k] = v
	}
}

func putTime(m map[string]any, k string, t time.Time) {
	if !t.IsZero() {
		m[k] = t.UTC().Format(rtTime)
	}
}

func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

func cfValues(cfs map[string][]string) map[string]any {
	out := make(map[string]any, len(cfs))
	for k, v := range cfs {
		if len(v) == 1 {
			out[k] = v[0]
		} else {
			out[k] = nonNil(v)
		}
	}
	return out
}

package rtapi

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/rtbridge/rtbridge/rtapi/form"
)

// CreateTicket creates a ticket (ticket/new) and returns its id.
//
// The subject is folded onto one line; a queue, owner or status with a
// control character and a requestor/Cc containing a comma or line end are
// refused before anything is sent, so untrusted text cannot add fields.
// Attachments are streamed (see Attachment).
//
// Creating is not idempotent: when the request may have reached RT but no
// answer was read, the error has Kind Ambiguous (errors.Is ErrOutcomeUnknown)
// and is not retried. When RT created the ticket but refused part of the
// request (an unknown custom field, a failed post-create update), the id is
// returned together with an *Error whose Partial is set.
func (c *Client) CreateTicket(ctx context.Context, t TicketCreate) (int, error) {
	var kinds cfKinds
	if len(t.CustomFields) > 0 {
		kinds = c.cfKinds(ctx, t.Queue)
	}
	f, err := createForm(t, c.loc, kinds)
	r := &call{op: fmt.Sprintf("create ticket in queue %q", t.Queue), path: "ticket/new", atts: t.Attachments}
	resp, err := c.send(ctx, r, f, err)
	id, ok := createdID(resp, "ticket")
	if err != nil {
		return id, err
	}
	if !ok {
		// A 200 without "# Ticket N created.": RT may or may not have
		// made a ticket; the caller must reconcile.
		return 0, &Error{Op: r.op, Path: r.path, Code: resp.Code, Comments: resp.Comments(), Kind: Ambiguous,
			Text: "RT answered without naming the created ticket"}
	}
	return id, nil
}

// Ticket returns ticket id as RT shows it (a merged ticket shows the
// ticket it was merged into).
func (c *Client) Ticket(ctx context.Context, id int) (*Ticket, error) {
	path := "ticket/" + strconv.Itoa(id) + "/show"
	rec, err := c.record(ctx, &call{op: fmt.Sprintf("show ticket %d", id), path: path, idempotent: true})
	if err != nil {
		return nil, err
	}
	return decodeTicket(rec, c.loc, c.cfKinds(ctx, getTrim(rec, "Queue")))
}

// EditTicket sets fields of ticket id. Nothing to change (RT's empty answer)
// is success. RT applies fields one by one: when some fail, the error is an
// *Error with Code 409, FieldErrors naming each refused field, and Partial
// set when RT applied the others. Setting values is idempotent, so the
// client may repeat an edit whose answer was lost.
func (c *Client) EditTicket(ctx context.Context, id int, e TicketEdit) error {
	op := fmt.Sprintf("edit ticket %d", id)
	path := "ticket/" + strconv.Itoa(id) + "/edit"
	var kinds cfKinds
	if len(e.CustomFields) > 0 {
		kinds = c.cfKinds(ctx, c.editQueue(ctx, id, e))
	}
	f, err := editForm(e, kinds)
	if err != nil {
		return &Error{Op: op, Path: path, Kind: Permanent, Err: err}
	}
	if len(f) == 0 {
		return nil
	}
	_, err = c.send(ctx, &call{op: op, path: path, idempotent: true}, f, nil)
	return err
}

// editQueue is the queue whose custom fields edit e sets: the one it moves
// the ticket to, else the ticket's own ("" when it cannot be read).
func (c *Client) editQueue(ctx context.Context, id int, e TicketEdit) string {
	for k, v := range e.Fields {
		if strings.EqualFold(k, "Queue") && v != "" {
			return v
		}
	}
	path := "ticket/" + strconv.Itoa(id) + "/show"
	rec, err := c.record(ctx, &call{op: fmt.Sprintf("queue of ticket %d", id), path: path,
		query: url.Values{"fields": {"Queue"}}, idempotent: true})
	if err != nil {
		return ""
	}
	return getTrim(rec, "Queue")
}

// Comment adds a comment (not sent to requestors) to ticket id.
func (c *Client) Comment(ctx context.Context, id int, m Message) error {
	return c.message(ctx, id, "comment", m)
}

// Correspond adds a reply (sent to requestors, scrips permitting) to ticket id.
func (c *Client) Correspond(ctx context.Context, id int, m Message) error {
	return c.message(ctx, id, "correspond", m)
}

// message posts to ticket/<id>/comment. Cc and Bcc are one-shot recipients,
// TimeWorked is recorded on the transaction, Status is set afterwards. Not
// idempotent: an unknown outcome is Ambiguous.
func (c *Client) message(ctx context.Context, id int, action string, m Message) error {
	f, err := messageForm(action, m)
	r := &call{op: fmt.Sprintf("%s on ticket %d", action, id), path: "ticket/" + strconv.Itoa(id) + "/comment", atts: m.Attachments}
	_, err = c.send(ctx, r, f, err)
	return err
}

// Take makes the RT user the owner of ticket id (only if it has none).
func (c *Client) Take(ctx context.Context, id int) error { return c.owner(ctx, id, "take") }

// Steal makes the RT user the owner of ticket id, even if someone owns it.
func (c *Client) Steal(ctx context.Context, id int) error { return c.owner(ctx, id, "steal") }

// Untake gives ticket id back to Nobody.
func (c *Client) Untake(ctx context.Context, id int) error { return c.owner(ctx, id, "untake") }

// owner posts Action: take|steal|untake to ticket/<id>/take (the URL is
// always "take"). A repeat fails in RT ("already own"), so it is not retried
// once it may have reached RT.
func (c *Client) owner(ctx context.Context, id int, action string) error {
	r := &call{op: fmt.Sprintf("%s ticket %d", action, id), path: "ticket/" + strconv.Itoa(id) + "/take"}
	_, err := c.send(ctx, r, form.Form{{Key: "Action", Value: action}}, nil)
	return err
}

// Merge merges ticket id into ticket into. RT does this on a GET without
// content, whose failures come back as "200 Ok" comments (classified here).
// Not idempotent: an unknown outcome is Ambiguous.
func (c *Client) Merge(ctx context.Context, id, into int) error {
	op := fmt.Sprintf("merge ticket %d into %d", id, into)
	r := &call{op: op, path: fmt.Sprintf("ticket/%d/merge/%d", id, into)}
	_, err := c.exchange(ctx, r)
	return err
}

// record runs the read r and returns the first record of RT's answer.
func (c *Client) record(ctx context.Context, r *call) (form.Record, error) {
	resp, err := c.exchange(ctx, r)
	if err != nil {
		return form.Record{}, err
	}
	return oneRecord(resp, r.path)
}

// recordAs reads one record with r and decodes it with dec; a record that
// does not decode is a permanent *Error.
func recordAs[T any](ctx context.Context, c *Client, r *call, dec func(form.Record) (T, error)) (T, error) {
	rec, err := c.record(ctx, r)
	if err != nil {
		var zero T
		return zero, err
	}
	return decodeOrError(r.path, func() (T, error) { return dec(rec) })
}

// oneRecord returns the first record with fields, or an error naming path.
func oneRecord(resp *form.Response, path string) (form.Record, error) {
	for _, rec := range resp.Records {
		if len(rec.Fields) > 0 {
			return rec, nil
		}
	}
	return form.Record{}, &Error{Op: "decode " + path, Path: path, Code: resp.Code, Comments: resp.Comments(), Kind: Permanent,
		Text: "RT answered without a record"}
}

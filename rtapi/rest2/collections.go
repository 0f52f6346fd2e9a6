package rest2

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/rtbridge/rtbridge/rtapi"
)

// page is one page of a REST2 collection. total/pages may be null (RT ≥ 5.0.5
// for users who cannot see every row), so paging follows next_page only.
type page[T any] struct {
	Items    []T    `json:"items"`
	NextPage string `json:"next_page"`
}

// collect reads every page of path.
func collect[T any](ctx context.Context, cl *Client, op, path string, q url.Values) ([]T, error) {
	if q == nil {
		q = url.Values{}
	}
	q.Set("per_page", "100")
	var all []T
	for n := 1; ; n++ {
		q.Set("page", strconv.Itoa(n))
		var p page[T]
		if err := cl.getJSON(ctx, op, path, q, &p); err != nil {
			return nil, err
		}
		all = append(all, p.Items...)
		if p.NextPage == "" || len(p.Items) == 0 {
			return all, nil
		}
	}
}

// SearchTickets runs a TicketSQL query over every page. orderby is one
// field, "-" prefixed for descending ("+" or nothing: ascending; default id).
// format is "i" (ids), "s" (id and subject; default) or "l" (full tickets in
// SearchResult.Ticket, one more request per ticket), as in REST 1.0.
func (cl *Client) SearchTickets(ctx context.Context, query, orderby, format string) ([]rtapi.SearchResult, error) {
	switch format {
	case "":
		format = "s"
	case "i", "s", "l":
	default:
		return nil, &rtapi.Error{Op: "search tickets", Path: "tickets", Kind: rtapi.Permanent, Text: fmt.Sprintf("unknown format %q (use i, s or l)", format)}
	}
	order := "ASC"
	orderby = cmp.Or(orderby, "id")
	if f, ok := strings.CutPrefix(orderby, "-"); ok {
		orderby, order = f, "DESC"
	}
	orderby = strings.TrimPrefix(orderby, "+")
	q := url.Values{"query": {query}, "orderby": {orderby}, "order": {order}, "fields": {"Subject"}}
	if format == "i" {
		q.Set("fields", "id")
	}
	items, err := collect[struct {
		ID      flexInt `json:"id"`
		Subject string  `json:"Subject"`
	}](ctx, cl, "search tickets", "tickets", q)
	if err != nil {
		return nil, err
	}
	out := make([]rtapi.SearchResult, 0, len(items))
	for _, it := range items {
		r := rtapi.SearchResult{ID: atoi(it.ID), Subject: it.Subject}
		if format == "l" {
			if r.Ticket, err = cl.Ticket(ctx, r.ID); err != nil {
				return nil, err
			}
		}
		out = append(out, r)
	}
	return out, nil
}

type attachmentJSON struct {
	ID            flexInt `json:"id"`
	Filename      string
	ContentType   string
	ContentLength flexInt
	Subject       string
	Creator       any // a reference, or the name when listed
	Created       string
	TransactionId any
	Parent        any // a reference object, or 0
	MessageId     string
	Headers       string
	Content       string
}

// Not Parent: RT 5.0.3 answers 500 when a listed attachment has none.
const attachmentFields = "Filename,ContentType,ContentLength,Subject,Creator,Created,TransactionId,MessageId,Headers"

func (a attachmentJSON) info() rtapi.AttachmentInfo {
	return rtapi.AttachmentInfo{ID: atoi(a.ID), Name: a.Filename, ContentType: a.ContentType,
		Size: friendlySize(atoi(a.ContentLength)), Subject: a.Subject, Creator: refName(a.Creator),
		Created: date(a.Created), Transaction: refID(a.TransactionId),
		Parent: refID(a.Parent), MessageID: a.MessageId, Headers: a.Headers}
}

// friendlySize is RT's FriendlyContentLength, the size REST 1.0 lists.
func friendlySize(n int) string {
	if n > 1024 {
		return strconv.FormatFloat(float64(int(float64(n)/102.4))/10, 'f', -1, 64) + "k"
	}
	return strconv.Itoa(n) + "b"
}

// Attachments lists a ticket's attachments in id order.
func (cl *Client) Attachments(ctx context.Context, ticket int) ([]rtapi.AttachmentInfo, error) {
	q := url.Values{"fields": {attachmentFields}, "orderby": {"id"}, "order": {"ASC"}}
	items, err := collect[attachmentJSON](ctx, cl, "list attachments of ticket "+strconv.Itoa(ticket),
		"ticket/"+strconv.Itoa(ticket)+"/attachments", q)
	if err != nil {
		return nil, err
	}
	out := make([]rtapi.AttachmentInfo, len(items))
	for i, a := range items {
		out[i] = a.info()
	}
	return out, nil
}

// Attachment reads one attachment's metadata.
func (cl *Client) Attachment(ctx context.Context, ticket, id int) (*rtapi.AttachmentInfo, error) {
	var a attachmentJSON
	op := fmt.Sprintf("show attachment %d of ticket %d", id, ticket)
	if err := cl.getJSON(ctx, op, "attachment/"+strconv.Itoa(id), nil, &a); err != nil {
		return nil, err
	}
	info := a.info()
	return &info, nil
}

// AttachmentContent returns an attachment's content type and exact bytes
// (REST2 sends them base64 inside JSON, so they are decoded in memory).
func (cl *Client) AttachmentContent(ctx context.Context, ticket, id int) (string, io.ReadCloser, error) {
	var a attachmentJSON
	path := "attachment/" + strconv.Itoa(id)
	op := fmt.Sprintf("read attachment %d of ticket %d", id, ticket)
	if err := cl.getJSON(ctx, op, path, nil, &a); err != nil {
		return "", nil, err
	}
	b, err := base64.StdEncoding.DecodeString(a.Content)
	if err != nil {
		return "", nil, &rtapi.Error{Op: op, Path: path, Code: 200, Kind: rtapi.Permanent, Text: "attachment content is not base64", Err: err}
	}
	return a.ContentType, io.NopCloser(bytes.NewReader(b)), nil
}

type txnJSON struct {
	Kind                                  string  `json:"type"` // "transaction"; keeps the key away from Type (json matches case-insensitively)
	ID                                    flexInt `json:"id"`
	Type, Field, OldValue, NewValue, Data string
	Description                           string
	Creator                               ref
	Created                               string
	TimeTaken                             flexInt
	Object                                ref
}

const txnFields = "Type,Field,OldValue,NewValue,Data,Description,Creator,Created,TimeTaken"

func (t txnJSON) item(ticket int) rtapi.HistoryItem {
	return rtapi.HistoryItem{ID: atoi(t.ID), Ticket: ticket, TimeTaken: atoi(t.TimeTaken), Type: t.Type,
		Field: t.Field, OldValue: t.OldValue, NewValue: t.NewValue, Data: t.Data,
		Description: t.Description, Creator: refName(t.Creator), Created: date(t.Created)}
}

// History lists a ticket's transactions, oldest first. REST2 keeps message
// bodies in attachments: with long, Content is the first text part of each
// transaction (one more request per transaction).
func (cl *Client) History(ctx context.Context, ticket int, long bool) ([]rtapi.HistoryItem, error) {
	q := url.Values{"fields": {txnFields}, "orderby": {"id"}, "order": {"ASC"}}
	items, err := collect[txnJSON](ctx, cl, "history of ticket "+strconv.Itoa(ticket),
		"ticket/"+strconv.Itoa(ticket)+"/history", q)
	if err != nil {
		return nil, err
	}
	out := make([]rtapi.HistoryItem, len(items))
	for i, t := range items {
		out[i] = t.item(ticket)
		if long {
			if err := cl.fillContent(ctx, &out[i]); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// HistoryItem reads one transaction with its content.
func (cl *Client) HistoryItem(ctx context.Context, ticket, id int) (*rtapi.HistoryItem, error) {
	var t txnJSON
	if err := cl.getJSON(ctx, fmt.Sprintf("show transaction %d", id), "transaction/"+strconv.Itoa(id), nil, &t); err != nil {
		return nil, err
	}
	it := t.item(ticket)
	if err := cl.fillContent(ctx, &it); err != nil {
		return nil, err
	}
	return &it, nil
}

// fillContent sets Content and Attachments from the transaction's attachments.
func (cl *Client) fillContent(ctx context.Context, it *rtapi.HistoryItem) error {
	q := url.Values{"fields": {attachmentFields + ",Content"}, "orderby": {"id"}, "order": {"ASC"}}
	atts, err := collect[attachmentJSON](ctx, cl, fmt.Sprintf("attachments of transaction %d", it.ID),
		"transaction/"+strconv.Itoa(it.ID)+"/attachments", q)
	if err != nil {
		return err
	}
	for _, a := range atts {
		if a.Filename != "" {
			it.Attachments = append(it.Attachments, rtapi.AttachmentInfo{ID: atoi(a.ID), Name: a.Filename, Size: friendlySize(atoi(a.ContentLength))})
			continue
		}
		if it.Content == "" && strings.HasPrefix(a.ContentType, "text/plain") {
			it.Content = a.Content // collections carry Content as text; only attachment/N is base64
		}
	}
	return nil
}

// refID reads a reference ({"id": "3", …}) or a bare number.
func refID(v any) int {
	if m, ok := v.(map[string]any); ok {
		v = m["id"]
	}
	return atoi(flexInt(toString(v)))
}

// refName reads a user reference's id (its Name) or a bare string.
func refName(v any) string {
	if m, ok := v.(map[string]any); ok {
		v = m["id"]
	}
	return toString(v)
}

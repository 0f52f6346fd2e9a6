package rest2

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/rtbridge/rtbridge/rtapi"
)

// TicketByMessageID returns the ticket holding the mail whose Message-ID
// is id (without angle brackets), or 0 when RT has none. RT records the
// Message-ID of every mail its gateway files on the mail's top attachment;
// the attachment's transaction names the ticket. This is how a post to the
// mail gateway that got no answer is reconciled before it is sent again.
func (cl *Client) TicketByMessageID(ctx context.Context, id string) (int, error) {
	id = strings.Trim(strings.TrimSpace(id), "<>")
	if id == "" {
		return 0, fmt.Errorf("rest2: empty Message-ID")
	}
	q, err := jsonBody([]map[string]string{{"field": "MessageId", "value": id}})
	if err != nil {
		return 0, err
	}
	c := &call{op: "search attachments by Message-ID", method: http.MethodPost, path: "attachments", idempotent: true, body: q}
	_, b, _, err := cl.do(ctx, c)
	if err != nil {
		return 0, err
	}
	var found struct {
		Items []struct {
			ID any `json:"id"`
		} `json:"items"`
	}
	if err := json.Unmarshal(b, &found); err != nil {
		return 0, &rtapi.Error{Op: c.op, Path: c.path, Code: 200, Kind: rtapi.Permanent, Text: "answer is not the expected JSON", Err: err}
	}
	for _, it := range found.Items {
		var att struct {
			TransactionID any `json:"TransactionId"`
		}
		if err := cl.getJSON(ctx, "read attachment", "attachment/"+strconv.Itoa(refID(it.ID)), nil, &att); err != nil {
			return 0, err
		}
		var txn struct {
			Object map[string]any `json:"Object"`
		}
		if err := cl.getJSON(ctx, "read transaction", "transaction/"+strconv.Itoa(refID(att.TransactionID)), nil, &txn); err != nil {
			return 0, err
		}
		if toString(txn.Object["type"]) == "ticket" {
			if n := refID(txn.Object); n > 0 {
				return n, nil
			}
		}
	}
	return 0, nil
}

package rtapi

import (
	"context"
	"fmt"
	"net/url"
)

// History returns ticket id's transactions: ids and descriptions, or (long)
// every field including Content and the attachment list.
func (c *Client) History(ctx context.Context, id int, long bool) ([]HistoryItem, error) {
	path := fmt.Sprintf("ticket/%d/history", id)
	var q url.Values
	if long {
		q = url.Values{"format": {"l"}}
	}
	resp, err := c.exchange(ctx, &call{op: fmt.Sprintf("show history of ticket %d", id), path: path, query: q, idempotent: true})
	if err != nil {
		return nil, err
	}
	return decodeOrError(path, func() ([]HistoryItem, error) { return decodeHistory(resp) })
}

// HistoryItem returns transaction hid of ticket id in full.
func (c *Client) HistoryItem(ctx context.Context, id, hid int) (*HistoryItem, error) {
	path := fmt.Sprintf("ticket/%d/history/id/%d", id, hid)
	return recordAs(ctx, c, &call{op: fmt.Sprintf("show transaction %d of ticket %d", hid, id), path: path, idempotent: true}, decodeHistoryItem)
}

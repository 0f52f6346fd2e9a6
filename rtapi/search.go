package rtapi

import (
	"context"
	"fmt"
	"net/url"
)

// SearchTickets runs a TicketSQL query (search/ticket). orderby is one
// field, "-" prefixed for descending and "+" or nothing for ascending (the
// "+" is sent as %2B: a raw "+" would reach RT as a space). format is "i"
// (ids), "s" (id and subject; the default when empty) or "l" (full tickets
// in SearchResult.Ticket). REST 1.0 has no paging: everything comes in one
// answer, so prefer "i" or "s" for large results. No match is an empty list.
func (c *Client) SearchTickets(ctx context.Context, query, orderby, format string) ([]SearchResult, error) {
	if format == "" {
		format = "s"
	}
	switch format {
	case "i", "s", "l":
	default:
		return nil, &Error{Op: "search tickets", Path: "search/ticket", Kind: Permanent, Text: fmt.Sprintf("unknown format %q (use i, s or l)", format)}
	}
	q := url.Values{"query": {query}, "format": {format}}
	if orderby != "" {
		q.Set("orderby", orderby)
	}
	const path = "search/ticket"
	resp, err := c.exchange(ctx, &call{op: "search tickets", path: path, query: q, idempotent: true})
	if err != nil {
		return nil, err
	}
	var kinds func(string) cfKinds
	if format == "l" {
		kinds = c.searchCFKinds(ctx)
	}
	return decodeOrError(path, func() ([]SearchResult, error) { return decodeSearch(resp, format, c.loc, kinds) })
}

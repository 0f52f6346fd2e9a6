package rtapi

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/rtbridge/rtbridge/rtapi/form"
)

// Links returns ticket id's links as RT's URIs (fsck.com-rt://<org>/ticket/N
// for local tickets, external URIs verbatim).
func (c *Client) Links(ctx context.Context, id int) (*Links, error) {
	path := "ticket/" + strconv.Itoa(id) + "/links"
	return recordAs(ctx, c, &call{op: fmt.Sprintf("show links of ticket %d", id), path: path, idempotent: true}, decodeLinks)
}

// SetLinks replaces, for every link type present in links, the whole set of
// ticket id's links of that type: links not listed are deleted, new ones
// added (an empty slice deletes all links of that type). Types absent from
// the map are untouched. Targets are ticket numbers or URIs. For adding or
// removing one link without knowing the others, use AddLink/DeleteLink.
func (c *Client) SetLinks(ctx context.Context, id int, links map[LinkType][]string) error {
	op := fmt.Sprintf("set links of ticket %d", id)
	path := "ticket/" + strconv.Itoa(id) + "/links"
	b := &formBuilder{}
	b.f.Add("id", "ticket/"+strconv.Itoa(id)+"/links")
	for _, t := range slices.Sorted(maps.Keys(links)) {
		if !knownLinkType(t) {
			b.fail(fmt.Errorf("%w: unknown link type %q", form.ErrInvalidKey, t))
			continue
		}
		b.list(string(t), links[t], true)
	}
	_, err := c.send(ctx, &call{op: op, path: path, idempotent: true}, b.f, b.err)
	return err
}

// AddLink adds one link of type lt from ticket id to target (a ticket
// number or URI) through ticket/link. An existing link is success, so the
// call is idempotent.
func (c *Client) AddLink(ctx context.Context, id int, lt LinkType, target string) error {
	return c.link(ctx, id, lt, target, false)
}

// DeleteLink removes one link; a link that is already gone is success.
func (c *Client) DeleteLink(ctx context.Context, id int, lt LinkType, target string) error {
	return c.link(ctx, id, lt, target, true)
}

func (c *Client) link(ctx context.Context, id int, lt LinkType, target string, del bool) error {
	verb := "add"
	if del {
		verb = "delete"
	}
	op := fmt.Sprintf("%s link %s %s of ticket %d", verb, lt, target, id)
	if !knownLinkType(lt) {
		return &Error{Op: op, Path: "ticket/link", Kind: Permanent, Err: fmt.Errorf("unknown link type %q", lt)}
	}
	if target == "" || strings.IndexFunc(target, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return &Error{Op: op, Path: "ticket/link", Kind: Permanent, Err: fmt.Errorf("%w: link target %q", form.ErrUnsafeValue, target)}
	}
	rel := string(lt)
	if lt == Members {
		rel = "HasMember" // ticket/link's name for it
	}
	params := []param{{"id", strconv.Itoa(id)}, {"rel", rel}, {"to", target}}
	if del {
		params = append(params, param{"del", "1"})
	}
	_, err := c.exchange(ctx, &call{op: op, path: "ticket/link", params: params, idempotent: true})
	if err != nil && del {
		// Deleting a link that is not there answers "500 Error / Link not found".
		if e, ok := err.(*Error); ok && e.Code == 500 && strings.Contains(e.Text, "Link not found") {
			return nil
		}
	}
	return err
}

func knownLinkType(lt LinkType) bool {
	switch lt {
	case DependsOn, DependedOnBy, RefersTo, ReferredToBy, MemberOf, Members:
		return true
	}
	return false
}

// decodeOrError wraps a decoder's error as a permanent *Error.
func decodeOrError[T any](path string, dec func() (T, error)) (T, error) {
	v, err := dec()
	if err != nil {
		var zero T
		return zero, &Error{Op: "decode " + path, Path: path, Kind: Permanent, Err: err}
	}
	return v, nil
}

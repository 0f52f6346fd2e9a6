package rest2

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/rtbridge/rtbridge/rtapi"
)

// refTypes maps REST2's _hyperlinks refs to link types.
var refTypes = map[string]rtapi.LinkType{
	"depends-on": rtapi.DependsOn, "depended-on-by": rtapi.DependedOnBy,
	"refers-to": rtapi.RefersTo, "referred-to-by": rtapi.ReferredToBy,
	"parent": rtapi.MemberOf, "child": rtapi.Members,
}

// Links reads a ticket's links as REST 1.0 shows them: tickets as
// fsck.com-rt://<rtname>/ticket/N, external links as their URI.
func (cl *Client) Links(ctx context.Context, id int) (*rtapi.Links, error) {
	var raw struct {
		Links []struct {
			Ref  string `json:"ref"`
			Type string `json:"type"`
			ID   any    `json:"id"`
			URL  string `json:"_url"`
		} `json:"_hyperlinks"`
	}
	path := "ticket/" + strconv.Itoa(id)
	if err := cl.getJSON(ctx, "show links of ticket "+strconv.Itoa(id), path, nil, &raw); err != nil {
		return nil, err
	}
	out := &rtapi.Links{ID: id, Links: map[rtapi.LinkType][]string{}}
	for _, l := range raw.Links {
		lt, ok := refTypes[l.Ref]
		if !ok {
			continue
		}
		uri := l.URL
		if l.Type == "ticket" {
			name, err := cl.rtName(ctx, id)
			if err != nil {
				return nil, err
			}
			uri = fmt.Sprintf("fsck.com-rt://%s/ticket/%s", name, strings.Trim(toString(l.ID), `"`))
		}
		out.Links[lt] = append(out.Links[lt], uri)
	}
	return out, nil
}

// linkKey is the PUT key of a link type (Members is HasMember on writes).
func linkKey(t rtapi.LinkType) string {
	if t == rtapi.Members {
		return "Members"
	}
	return string(t)
}

// linkValue sends ticket ids as numbers and everything else as URIs.
func linkValue(target string) any {
	if n, err := strconv.Atoi(target); err == nil {
		return n
	}
	if i := strings.LastIndex(target, "/ticket/"); i >= 0 && strings.HasPrefix(target, "fsck.com-rt://") {
		if n, err := strconv.Atoi(target[i+len("/ticket/"):]); err == nil {
			return n
		}
	}
	return target
}

// AddLink adds one link (PUT {"Add<Type>": target}).
func (cl *Client) AddLink(ctx context.Context, id int, t rtapi.LinkType, target string) error {
	return cl.update(ctx, fmt.Sprintf("link ticket %d %s %s", id, t, target), "ticket/"+strconv.Itoa(id),
		map[string]any{"Add" + linkKey(t): linkValue(target)})
}

// DeleteLink removes one link (PUT {"Delete<Type>": target}).
func (cl *Client) DeleteLink(ctx context.Context, id int, t rtapi.LinkType, target string) error {
	return cl.update(ctx, fmt.Sprintf("unlink ticket %d %s %s", id, t, target), "ticket/"+strconv.Itoa(id),
		map[string]any{"Delete" + linkKey(t): linkValue(target)})
}

// SetLinks replaces the sets of the given link types (others are untouched).
func (cl *Client) SetLinks(ctx context.Context, id int, links map[rtapi.LinkType][]string) error {
	doc := map[string]any{}
	for t, targets := range links {
		vals := make([]any, 0, len(targets))
		for _, tg := range targets {
			vals = append(vals, linkValue(tg))
		}
		doc[linkKey(t)] = vals
	}
	if len(doc) == 0 {
		return nil
	}
	return cl.update(ctx, fmt.Sprintf("set links of ticket %d", id), "ticket/"+strconv.Itoa(id), doc)
}

// rtNameCache is RT's $rtname, which REST2 does not publish: configured, or
// learnt from a link transaction (its values are fsck.com-rt://<rtname>/…).
type rtNameCache struct {
	mu   sync.Mutex
	name string
}

func (cl *Client) rtName(ctx context.Context, ticket int) (string, error) {
	cl.names.mu.Lock()
	defer cl.names.mu.Unlock()
	if cl.names.name != "" {
		return cl.names.name, nil
	}
	var page struct {
		Items []struct {
			OldValue string `json:"OldValue"`
			NewValue string `json:"NewValue"`
		} `json:"items"`
	}
	q := map[string][]string{"fields": {"OldValue,NewValue"}, "per_page": {"100"}}
	_, b, _, err := cl.do(ctx, &call{op: "learn rtname", method: http.MethodGet,
		path: "ticket/" + strconv.Itoa(ticket) + "/history", query: q, idempotent: true})
	if err == nil && json.Unmarshal(b, &page) == nil {
		for _, it := range page.Items {
			for _, v := range []string{it.NewValue, it.OldValue} {
				if rest, ok := strings.CutPrefix(v, "fsck.com-rt://"); ok {
					if host, _, ok := strings.Cut(rest, "/"); ok && host != "" {
						cl.names.name = host
						return host, nil
					}
				}
			}
		}
	}
	return "", &rtapi.Error{Op: "show links", Kind: rtapi.Permanent,
		Text: "cannot tell RT's rtname for ticket link URIs; set rest2.Config.RTName"}
}

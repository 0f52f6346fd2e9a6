package rest2

import (
	"context"
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/rtbridge/rtbridge/rtapi"
)

// User reads a user by id or name.
func (cl *Client) User(ctx context.Context, idOrName string) (*rtapi.User, error) {
	var raw map[string]any
	if err := cl.getJSON(ctx, "show user "+idOrName, "user/"+url.PathEscape(idOrName), nil, &raw); err != nil {
		return nil, err
	}
	u := &rtapi.User{Fields: flatFields(raw)}
	u.ID, _ = strconv.Atoi(u.Fields["id"])
	u.Name, u.EmailAddress, u.RealName = u.Fields["Name"], u.Fields["EmailAddress"], u.Fields["RealName"]
	u.Organization = u.Fields["Organization"]
	u.Privileged = u.Fields["Privileged"] == "1"
	u.Disabled = u.Fields["Disabled"] == "1"
	return u, nil
}

// Queue reads a queue by id or name.
func (cl *Client) Queue(ctx context.Context, idOrName string) (*rtapi.Queue, error) {
	var raw map[string]any
	if err := cl.getJSON(ctx, "show queue "+idOrName, "queue/"+url.PathEscape(idOrName), nil, &raw); err != nil {
		return nil, err
	}
	q := &rtapi.Queue{Fields: flatFields(raw)}
	q.ID, _ = strconv.Atoi(q.Fields["id"])
	q.Name, q.Description = q.Fields["Name"], q.Fields["Description"]
	q.CorrespondAddress, q.CommentAddress = q.Fields["CorrespondAddress"], q.Fields["CommentAddress"]
	q.Disabled = q.Fields["Disabled"] == "1"
	return q, nil
}

// flatFields keeps the scalar fields of a REST2 object as strings, and
// references by their id.
func flatFields(raw map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range raw {
		if strings.HasPrefix(k, "_") {
			continue
		}
		switch x := v.(type) {
		case string, float64:
			out[k] = toString(x)
		case bool:
			out[k] = map[bool]string{true: "1", false: "0"}[x]
		case map[string]any:
			if id, ok := x["id"]; ok {
				out[k] = strings.Trim(strings.TrimSpace(toString(id)), `"`)
			}
		}
	}
	return out
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return ""
}

// emailCache maps REST2's watcher references (user Names) to the email
// addresses REST 1.0 shows, asking RT only for names that are not addresses.
type emailCache struct {
	cl   *Client
	seen map[string]string
}

func newEmailCache(cl *Client) *emailCache { return &emailCache{cl: cl, seen: map[string]string{}} }

func (c *emailCache) of(ctx context.Context, refs []ref) ([]string, error) {
	var out []string // nil when empty, as the REST 1.0 client reads it
	for _, r := range refs {
		if strings.Contains(r.ID, "@") {
			out = append(out, r.ID)
			continue
		}
		addr, ok := c.seen[r.ID]
		if !ok {
			u, err := c.cl.User(ctx, r.ID)
			switch {
			case errors.Is(err, rtapi.ErrNotFound):
				addr = r.ID // a group or a vanished user: keep the name
			case err != nil:
				return nil, err
			case u.EmailAddress != "":
				addr = u.EmailAddress
			default:
				addr = u.Name
			}
			c.seen[r.ID] = addr
		}
		out = append(out, addr)
	}
	return out, nil
}

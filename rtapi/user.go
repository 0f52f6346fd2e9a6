package rtapi

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// User returns an RT user by numeric id, name or e-mail address.
func (c *Client) User(ctx context.Context, idOrName string) (*User, error) {
	path, err := objectPath("user", idOrName)
	if err != nil {
		return nil, err
	}
	return recordAs(ctx, c, &call{op: fmt.Sprintf("show user %q", idOrName), path: path, idempotent: true}, decodeUser)
}

// UserCreate is what user/new accepts (needs AdminUsers).
type UserCreate struct {
	Name         string
	EmailAddress string
	RealName     string
	Password     string // never logged
	Privileged   bool   // unprivileged users cannot use REST 1.0 at all
	Disabled     bool
}

// CreateUser creates a user and returns its id. RT gives no reason when it
// refuses ("# Could not create user."). Not idempotent.
func (c *Client) CreateUser(ctx context.Context, u UserCreate) (int, error) {
	b := &formBuilder{}
	b.f.Add("id", "user/new")
	b.ident("Name", u.Name)
	b.ident("EmailAddress", u.EmailAddress)
	b.ident("RealName", u.RealName)
	b.ident("Password", u.Password)
	b.f.Add("Privileged", boolDigit(u.Privileged))
	b.f.Add("Disabled", boolDigit(u.Disabled))
	return c.createObject(ctx, "user", fmt.Sprintf("create user %q", u.Name), b)
}

// createObject posts <kind>/new and returns the id from "# <Kind> N created.".
func (c *Client) createObject(ctx context.Context, kind, op string, b *formBuilder) (int, error) {
	r := &call{op: op, path: kind + "/new"}
	resp, err := c.send(ctx, r, b.f, b.err)
	if err != nil {
		return 0, err
	}
	id, ok := createdID(resp, kind)
	if !ok {
		return 0, &Error{Op: op, Path: r.path, Code: resp.Code, Comments: resp.Comments(), Kind: Ambiguous,
			Text: "RT answered without naming the created " + kind}
	}
	return id, nil
}

func boolDigit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// objectPath builds "<kind>/<id or name>", refusing names that would change
// the path.
func objectPath(kind, idOrName string) (string, error) {
	if idOrName == "" || strings.ContainsAny(idOrName, "/\\?#") || strings.Contains(idOrName, "..") ||
		strings.IndexFunc(idOrName, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0 {
		return "", &Error{Op: "show " + kind, Path: kind + "/", Kind: Permanent, Text: fmt.Sprintf("invalid %s id or name %q", kind, idOrName)}
	}
	return kind + "/" + url.PathEscape(idOrName), nil
}

package rtapi

import (
	"context"
	"fmt"
)

// Queue returns an RT queue by numeric id or name.
func (c *Client) Queue(ctx context.Context, idOrName string) (*Queue, error) {
	path, err := objectPath("queue", idOrName)
	if err != nil {
		return nil, err
	}
	return recordAs(ctx, c, &call{op: fmt.Sprintf("show queue %q", idOrName), path: path, idempotent: true}, decodeQueue)
}

// QueueCreate is what queue/new accepts (needs AdminQueue).
type QueueCreate struct {
	Name              string
	Description       string
	CorrespondAddress string
	CommentAddress    string
}

// CreateQueue creates a queue and returns its id. RT gives no reason when
// it refuses (e.g. the name exists). Not idempotent.
func (c *Client) CreateQueue(ctx context.Context, q QueueCreate) (int, error) {
	b := &formBuilder{}
	b.f.Add("id", "queue/new")
	b.ident("Name", q.Name)
	b.ident("Description", q.Description)
	b.ident("CorrespondAddress", q.CorrespondAddress)
	b.ident("CommentAddress", q.CommentAddress)
	return c.createObject(ctx, "queue", fmt.Sprintf("create queue %q", q.Name), b)
}

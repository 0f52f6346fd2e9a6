package rtapi

import (
	"context"
	"fmt"
	"io"
)

// Attachments lists every attachment of every transaction of ticket id. A
// ticket without attachments gives an empty list.
func (c *Client) Attachments(ctx context.Context, id int) ([]AttachmentInfo, error) {
	path := fmt.Sprintf("ticket/%d/attachments", id)
	resp, err := c.exchange(ctx, &call{op: fmt.Sprintf("list attachments of ticket %d", id), path: path, idempotent: true})
	if err != nil {
		return nil, err
	}
	if resp.Empty {
		return nil, nil
	}
	rec, err := oneRecord(resp, path)
	if err != nil {
		return nil, err
	}
	return decodeOrError(path, func() ([]AttachmentInfo, error) { return decodeAttachmentList(rec) })
}

// Attachment returns the metadata of attachment aid of ticket id (not its
// content: RT's metadata view indents and mangles it; use AttachmentContent).
func (c *Client) Attachment(ctx context.Context, id, aid int) (*AttachmentInfo, error) {
	path := fmt.Sprintf("ticket/%d/attachments/%d", id, aid)
	resp, err := c.exchange(ctx, &call{op: fmt.Sprintf("show attachment %d of ticket %d", aid, id), path: path, idempotent: true})
	if err != nil {
		return nil, err
	}
	rec, err := oneRecord(resp, path)
	if err != nil {
		return nil, err
	}
	return decodeOrError(path, func() (*AttachmentInfo, error) { return decodeAttachmentInfo(rec) })
}

// AttachmentContent streams the exact stored bytes of attachment aid of
// ticket id (byte-identical for binary files) with its MIME type. It first
// reads the metadata, because RT reports a missing attachment as a "200 Ok"
// comment that could not be told apart from content; the type returned is
// the stored one (RT's HTTP header says charset=utf-8 for every text part,
// although it sends text in its original charset). The caller closes the
// stream.
func (c *Client) AttachmentContent(ctx context.Context, id, aid int) (contentType string, body io.ReadCloser, err error) {
	info, err := c.Attachment(ctx, id, aid)
	if err != nil {
		return "", nil, err
	}
	ct, body, err := c.Content(ctx, fmt.Sprintf("ticket/%d/attachments/%d/content", id, aid))
	if err != nil {
		return "", nil, err
	}
	if info.ContentType != "" {
		ct = info.ContentType
	}
	return ct, body, nil
}

package rtapi

import (
	"context"
	"fmt"
	"io"
	"net/url"

	"github.com/rtbridge/rtbridge/rtapi/form"
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
	return recordAs(ctx, c, &call{op: fmt.Sprintf("show attachment %d of ticket %d", aid, id), path: path, idempotent: true}, decodeAttachmentInfo)
}

// AttachmentContent streams the exact stored bytes of attachment aid of
// ticket id (byte-identical for binary files) with its MIME type. It first
// asks RT for the attachment's stored type, because RT reports a missing
// attachment as a "200 Ok" comment that could not be told apart from
// content; the type returned is the stored one (RT's HTTP header says
// charset=utf-8 for every text part, although it sends text in its original
// charset). The caller closes the stream.
func (c *Client) AttachmentContent(ctx context.Context, id, aid int) (contentType string, body io.ReadCloser, err error) {
	stored, err := c.attachmentType(ctx, id, aid)
	if err != nil {
		return "", nil, err
	}
	ct, body, err := c.Content(ctx, fmt.Sprintf("ticket/%d/attachments/%d/content", id, aid))
	if err != nil {
		return "", nil, err
	}
	if stored != "" {
		ct = stored
	}
	return ct, body, nil
}

// attachmentType checks that attachment aid exists and returns its stored
// ContentType. It asks for that field only: RT's full metadata answer
// carries the whole content (indented), so a 50 MB attachment would be read
// and parsed in memory just to learn its type. RT 5 honours fields= here
// ("id: <aid>" plus the field); a missing attachment is still RT's
// "# Invalid attachment id" comment, an ErrNotFound.
func (c *Client) attachmentType(ctx context.Context, id, aid int) (string, error) {
	path := fmt.Sprintf("ticket/%d/attachments/%d", id, aid)
	return recordAs(ctx, c, &call{op: fmt.Sprintf("show attachment %d of ticket %d", aid, id), path: path,
		query: url.Values{"fields": {"ContentType"}}, idempotent: true}, func(rec form.Record) (string, error) {
		got, err := parseObjectID(getTrim(rec, "id"), "attachment")
		if err != nil {
			return "", err
		}
		if got != aid {
			return "", fmt.Errorf("rt: asked for attachment %d, got %d", aid, got)
		}
		return getTrim(rec, "ContentType"), nil
	})
}

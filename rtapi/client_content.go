package rtapi

import (
	"bufio"
	"context"
	"io"
	"net/http"

	"github.com/rtbridge/rtbridge/rtapi/form"
)

// Content reads a raw REST path (ticket/<id>/attachments/<aid>/content) and
// returns the HTTP Content-Type and a stream of the exact bytes that follow
// RT's status line and blank line; nothing is buffered or altered, so binary
// content is byte-identical. The caller must close the stream; the
// per-attempt timeout runs until then.
//
// RT answers some errors (an unknown attachment id) as "200 Ok" plus a "#"
// comment, which is indistinguishable from content with that text: check
// the attachment exists first (AttachmentContent does).
func (c *Client) Content(ctx context.Context, path string) (contentType string, body io.ReadCloser, err error) {
	r := &call{op: "get " + path, path: path, idempotent: true}
	err = c.run(ctx, r, func(res *http.Response, sent func() bool, release context.CancelFunc) (int, bool, *Error) {
		br := bufio.NewReaderSize(res.Body, 4096)
		line, rerr := br.ReadSlice('\n')
		if rerr != nil && rerr != io.EOF {
			if rerr == bufio.ErrBufferFull {
				return 0, false, notRTError(r.op, r.path, res, len(line))
			}
			return 0, false, transportError(ctx, r.op, r.path, rerr, sent(), true)
		}
		st, ok := form.ParseStatus(string(trimEOL(line)))
		if !ok {
			return 0, false, notRTError(r.op, r.path, res, len(line))
		}
		if st.Code != http.StatusOK {
			rest, _ := io.ReadAll(io.LimitReader(br, 64<<10))
			if st.Code == http.StatusUnauthorized {
				return st.Code, false, nil // attempt turns this into the re-login
			}
			if resp, perr := form.Parse(append(append([]byte{}, line...), rest...)); perr == nil {
				if e, ok := classify(r.op, r.path, resp, false).(*Error); ok && e != nil {
					return st.Code, false, e
				}
			}
			return st.Code, false, &Error{Op: r.op, Path: r.path, Code: st.Code, Text: st.Text, Kind: Permanent}
		}
		if b, err := br.ReadByte(); err != nil || b != '\n' {
			return st.Code, false, &Error{Op: r.op, Path: r.path, Code: st.Code, Kind: Permanent, Err: form.ErrTruncated, Text: "no blank line after the status line"}
		}
		contentType = res.Header.Get("Content-Type")
		body = &contentBody{Reader: br, body: res.Body, release: release}
		return st.Code, true, nil
	})
	if err != nil {
		return "", nil, err
	}
	return contentType, body, nil
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// contentBody ends the attempt's context when the caller closes it.
type contentBody struct {
	io.Reader
	body    io.Closer
	release context.CancelFunc
}

func (b *contentBody) Close() error {
	err := b.body.Close()
	b.release()
	return err
}

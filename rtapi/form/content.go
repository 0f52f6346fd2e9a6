package form

import (
	"bytes"
	"fmt"
)

// SplitContent splits an attachment-content answer (…/attachments/<aid>/content):
// the status line, one empty line, then the stored bytes, returned untouched
// (they are not a form and may be binary). A non-200 status without a blank
// line (a bare "401 Credentials required") returns the status and no content.
//
// RT answers some errors (e.g. "# Invalid attachment id: 9") with 200 and a
// comment, which is indistinguishable from content with that text: callers
// should fetch the attachment's metadata first.
func SplitContent(body []byte) (Status, []byte, error) {
	i := bytes.IndexByte(body, '\n')
	if i < 0 {
		i = len(body)
	}
	st, ok := ParseStatus(string(body[:i]))
	if !ok {
		return Status{}, nil, &NotRTError{Excerpt: Excerpt(body)}
	}
	rest := body[min(i+1, len(body)):]
	if len(rest) == 0 || rest[0] != '\n' {
		if st.Code != 200 {
			return st, rest, nil
		}
		return st, nil, fmt.Errorf("%w: no empty line after the status line of attachment content", ErrTruncated)
	}
	return st, rest[1:], nil
}

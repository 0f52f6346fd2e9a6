package rtapi

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"
)

func bytesAttachment(name, ct string, data []byte) Attachment {
	return Attachment{Name: name, ContentType: ct, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}}
}

// contentOf returns the bytes of the attachment of ticket id named name, or
// (name "") the text/plain body of transaction txn.
func findAttachment(t *testing.T, c *Client, id int, match func(AttachmentInfo) bool) AttachmentInfo {
	t.Helper()
	list, err := c.Attachments(ctxT(t), id)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		if match(a) {
			return a
		}
	}
	t.Fatalf("no matching attachment in %+v", list)
	return AttachmentInfo{}
}

func readContent(t *testing.T, c *Client, id, aid int) (string, []byte) {
	t.Helper()
	ct, body, err := c.AttachmentContent(ctxT(t), id, aid)
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	return ct, b
}

func TestRTByteExactRoundTrips(t *testing.T) {
	c, _, _ := rtClient(t, nil)
	ctx := ctxT(t)
	id := mustCreate(t, c, TicketCreate{Subject: unique("h2 bytes")})

	// Indented multi-line text, tabs, a "--" line and blank lines survive.
	text := "    indented first line\n\tsecond, with a tab\n      deeper\n--\n# not a comment\n\nlast"
	if err := c.Comment(ctx, id, Message{Text: text, TimeWorked: 3}); err != nil {
		t.Fatal(err)
	}
	hist, err := c.History(ctx, id, true)
	if err != nil {
		t.Fatal(err)
	}
	var txn *HistoryItem
	for i := range hist {
		if hist[i].Type == "Comment" {
			txn = &hist[i]
		}
	}
	if txn == nil {
		t.Fatalf("no Comment transaction in %+v", hist)
	}
	// RT's history writer puts the first line right after "Content: ", and
	// its form grammar eats whitespace there, so history keeps everything
	// but the first line's indentation; /content below is byte-exact.
	histText := strings.TrimLeft(text, " \t")
	if txn.Content != histText || txn.TimeTaken != 3 {
		t.Errorf("history content = %q (time %d), want %q", txn.Content, txn.TimeTaken, histText)
	}
	one, err := c.HistoryItem(ctx, id, txn.ID)
	if err != nil || one.Content != histText {
		t.Errorf("HistoryItem = %+v, %v", one, err)
	}
	info := lastTextPart(t, c, id)
	if _, got := readContent(t, c, id, info.ID); string(got) != text {
		t.Errorf("attachment content = %q, want %q", got, text)
	}

	// Binary: every byte value, then 3 MB of random bytes; UTF-8 file name.
	bin := make([]byte, 256, 256+3<<20)
	for i := range 256 {
		bin[i] = byte(i)
	}
	random := make([]byte, 3<<20)
	_, _ = rand.Read(random)
	bin = append(bin, random...)
	small := []byte("plain attachment\r\nwith CRLF\n\n")
	name := "données ✓ 日本.bin"
	err = c.Correspond(ctx, id, Message{Text: "see files", Attachments: []Attachment{
		bytesAttachment(name, "application/octet-stream", bin),
		bytesAttachment("small.txt", "text/plain", small),
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := findAttachment(t, c, id, func(a AttachmentInfo) bool { return a.Name == name })
	ct, data := readContent(t, c, id, got.ID)
	if ct != "application/octet-stream" || !bytes.Equal(data, bin) {
		t.Errorf("binary: type %q, %d bytes (want %d), equal=%v", ct, len(data), len(bin), bytes.Equal(data, bin))
	}
	st := findAttachment(t, c, id, func(a AttachmentInfo) bool { return a.Name == "small.txt" })
	if ct, data := readContent(t, c, id, st.ID); ct != "text/plain" || !bytes.Equal(data, small) {
		t.Errorf("small: type %q data %q", ct, data)
	}
	// Attachments on create, too.
	id2 := mustCreate(t, c, TicketCreate{Subject: unique("h2 create with file"), Text: "with file",
		Attachments: []Attachment{bytesAttachment("c.bin", "application/x-test", bin[:300])}})
	ca := findAttachment(t, c, id2, func(a AttachmentInfo) bool { return a.Name == "c.bin" })
	if ct, data := readContent(t, c, id2, ca.ID); ct != "application/x-test" || !bytes.Equal(data, bin[:300]) {
		t.Errorf("create attachment: %q %d bytes", ct, len(data))
	}

	// A missing attachment is a 404, not content.
	if _, _, err := c.AttachmentContent(ctx, id, 999999999); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing attachment: %v", err)
	}
}

// lastTextPart returns the newest text/plain, unnamed attachment of ticket id.
func lastTextPart(t *testing.T, c *Client, id int) AttachmentInfo {
	t.Helper()
	list, err := c.Attachments(ctxT(t), id)
	if err != nil {
		t.Fatal(err)
	}
	var best AttachmentInfo
	for _, a := range list {
		if strings.HasPrefix(a.ContentType, "text/plain") && a.Name == "" && a.ID > best.ID {
			best = a
		}
	}
	return best
}

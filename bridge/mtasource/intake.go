package mtasource

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/rtbridge/rtbridge/bridge/mailparse"
	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/event"
)

// ErrTooLarge is returned when a mail exceeds max_message_bytes.
var ErrTooLarge = errors.New("mail exceeds max_message_bytes")

// maxHeader bounds the header block read before the mail streams on.
const maxHeader = 1 << 20

// intake is what both paths share: one mail into the store.
type intake struct {
	source       string
	defaultQueue string
	maxBytes     int64
}

// accept stores one mail with its delivery parameters. It returns only
// after the store committed (or failed). A mail the MTA already delivered
// once (a retry after a timeout that followed the commit) comes back as a
// duplicate, never a second event.
func (in intake) accept(ctx context.Context, sink source.Sink, via string, r io.Reader, p Params) (source.Accepted, error) {
	lr := &limitReader{r: r, n: in.maxBytes}
	br := bufio.NewReaderSize(lr, 64<<10)
	skipFromLine(br)
	header, err := readHeader(br)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return source.Accepted{}, err
		}
		return source.Accepted{}, fmt.Errorf("mta: read mail: %w", err)
	}
	meta := p.Meta(via, in.defaultQueue)
	acc, err := sink.Accept(ctx, source.Incoming{
		Source:   in.source,
		Kind:     event.KindMail,
		DedupKey: dedupKey(header, meta),
		Raw:      io.MultiReader(bytes.NewReader(header), br),
		Meta:     meta,
	})
	if lr.over {
		return source.Accepted{}, ErrTooLarge
	}
	if err != nil {
		return source.Accepted{}, fmt.Errorf("mta: store: %w", err)
	}
	return acc, nil
}

// skipFromLine drops the mbox "From sender date" line that Postfix's
// local(8) writes before the message: it is not part of the mail.
func skipFromLine(br *bufio.Reader) {
	if b, _ := br.Peek(5); string(b) == "From " {
		br.ReadSlice('\n')
	}
}

// readHeader reads up to and including the blank line that ends the header
// block (or the whole mail, if it has no body).
func readHeader(br *bufio.Reader) ([]byte, error) {
	var h bytes.Buffer
	for {
		line, err := br.ReadSlice('\n')
		h.Write(line)
		if h.Len() > maxHeader {
			return h.Bytes(), nil // a header this big streams on; the parser copes
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF {
			return h.Bytes(), nil
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimRight(line, "\r\n")) == 0 {
			return h.Bytes(), nil
		}
	}
}

// dedupKey is the delivery's identity: the mail's Message-ID (or its
// header block, which holds the MTA's Received lines) together with where
// it was delivered, so one mail sent to two RT addresses makes two events
// but an MTA's retry of one delivery is a duplicate.
func dedupKey(header []byte, meta map[string]string) string {
	id := ""
	m, err := mailparse.Parse(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(header)), nil })
	if err == nil && m.MessageID != "" {
		id = "msgid:" + m.MessageID
	} else {
		sum := sha256.Sum256(header)
		id = "header-sha256:" + hex.EncodeToString(sum[:])
	}
	where := strings.Join([]string{meta[source.MetaRecipient], meta[source.MetaQueue], meta[source.MetaAction], meta[source.MetaTicket]}, "\x00")
	sum := sha256.Sum256([]byte(where))
	return id + "|" + hex.EncodeToString(sum[:8])
}

// limitReader fails with ErrTooLarge past n bytes.
type limitReader struct {
	r    io.Reader
	n    int64
	over bool
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		l.over = true
		return 0, ErrTooLarge
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if l.n < 0 {
		l.over = true
		return n, ErrTooLarge
	}
	return n, err
}

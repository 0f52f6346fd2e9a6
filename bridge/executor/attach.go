package executor

import (
	"bytes"
	"context"
	"io"
	"path"
	"strings"

	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rtapi"
)

// attachments resolves a step's selection against the event's mail parts
// (and its raw bytes for Original). Each Open streams again, so a retried
// request does not hold the files in memory.
func (r *run) attachments(ctx context.Context, sel plan.Attachments) []rtapi.Attachment {
	if sel.IsZero() {
		return nil
	}
	var out []rtapi.Attachment
	if m := r.ev.Mail; m != nil {
		for _, a := range m.Attachments {
			if a.Open == nil || !selected(sel, a.Name, a.ContentType) {
				continue
			}
			out = append(out, rtapi.Attachment{Name: a.Name, ContentType: sendType(a.ContentType, a.Open), Open: a.Open, Size: a.Size, SizeKnown: true})
		}
	}
	if sel.Original {
		id, st := r.se.ID, r.x.o.Store
		open := func() (io.ReadCloser, error) {
			rc, err := st.Raw(context.WithoutCancel(ctx), id)
			if err != nil {
				return io.NopCloser(bytes.NewReader(nil)), err
			}
			return rc, nil
		}
		out = append(out, rtapi.Attachment{Name: "original.eml", ContentType: sendType("message/rfc822", open), Open: open})
	}
	return out
}

// octetStream is the type RT stores byte for byte.
const octetStream = "application/octet-stream"

// sendType is the type a part (or the raw mail) goes to RT with: its own
// when RT keeps its bytes under it, else application/octet-stream. RT
// converts text/plain, text/html and message/* parts to UTF-8 from a
// charset it guesses (RT::I18N::IsTextualContentType; a part goes without
// a charset), and /content converts back to the guess. Text without
// control bytes survives that (valid UTF-8 is guessed as UTF-8, other
// bytes as ISO-8859-1, which maps every byte back); control bytes (a GIF
// sent as text/plain) do not. A message/* part's charset is guessed from
// its MIME header, not its body, so any 8-bit byte in a forwarded .eml
// or the raw mail is mangled (2,006 bytes came back as 5,010): only a
// 7-bit message keeps its type. The whole content is scanned, as one
// byte at the end is enough to alter it.
func sendType(ctype string, open func() (io.ReadCloser, error)) string {
	mt := strings.ToLower(ctype)
	message := strings.HasPrefix(mt, "message/")
	if !message && !strings.HasPrefix(mt, "text/") {
		return ctype
	}
	rc, err := open()
	if err != nil {
		return ctype // the send reports the error
	}
	defer rc.Close()
	if altered(rc, message) {
		return octetStream
	}
	return ctype
}

// altered reports whether r holds bytes RT would not give back under a
// textual type: control bytes, or (sevenBit) any byte above 0x7f. A read
// error ends the scan; the send reports it.
func altered(r io.Reader, sevenBit bool) bool {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		for _, b := range buf[:n] {
			if b < 0x20 && b != '\t' && b != '\n' && b != '\r' && b != '\f' && b != 0x1b || sevenBit && b >= 0x80 {
				return true
			}
		}
		if err != nil {
			return false
		}
	}
}

func selected(sel plan.Attachments, name, ctype string) bool {
	if sel.All {
		return true
	}
	for _, p := range sel.Names {
		if ok, _ := path.Match(p, name); ok {
			return true
		}
	}
	for _, p := range sel.Types {
		if ok, _ := path.Match(p, ctype); ok {
			return true
		}
	}
	return false
}

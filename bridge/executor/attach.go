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
		out = append(out, rtapi.Attachment{Name: "original.eml", ContentType: "message/rfc822", Open: func() (io.ReadCloser, error) {
			rc, err := st.Raw(context.WithoutCancel(ctx), id)
			if err != nil {
				return io.NopCloser(bytes.NewReader(nil)), err
			}
			return rc, nil
		}})
	}
	return out
}

// sendType is the type a part goes to RT with. RT stores text/* parts as
// text, converting their charset, so a part declared text but holding
// binary bytes (NUL and other control bytes: a GIF sent as text/plain)
// would come back altered; it goes as application/octet-stream, which RT
// keeps byte for byte.
func sendType(ctype string, open func() (io.ReadCloser, error)) string {
	if !strings.HasPrefix(ctype, "text/") {
		return ctype
	}
	rc, err := open()
	if err != nil {
		return ctype // the send reports the error
	}
	defer rc.Close()
	head := make([]byte, 8<<10)
	n, _ := io.ReadFull(rc, head)
	for _, b := range head[:n] {
		if b < 0x20 && b != '\t' && b != '\n' && b != '\r' && b != '\f' && b != 0x1b {
			return "application/octet-stream"
		}
	}
	return ctype
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

package executor

import (
	"bytes"
	"context"
	"io"
	"path"

	"github.com/rtbridge/rtbridge/rtapi"
	"github.com/rtbridge/rtbridge/rules"
)

// attachments resolves a step's selection against the event's mail parts
// (and its raw bytes for Original). Each Open streams again, so a retried
// request does not hold the files in memory.
func (r *run) attachments(ctx context.Context, sel rules.Attachments) []rtapi.Attachment {
	if sel.IsZero() {
		return nil
	}
	var out []rtapi.Attachment
	if m := r.ev.Mail; m != nil {
		for _, a := range m.Attachments {
			if a.Open == nil || !selected(sel, a.Name, a.ContentType) {
				continue
			}
			out = append(out, rtapi.Attachment{Name: a.Name, ContentType: a.ContentType, Open: a.Open})
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

func selected(sel rules.Attachments, name, ctype string) bool {
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

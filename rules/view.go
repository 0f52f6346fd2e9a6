package rules

import (
	"net/textproto"

	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/rules/jsonpath"
)

// view gives matchers the values of an event's fields. scratch backs
// single-value answers so matching a plain field allocates nothing; a
// returned slice is valid until the next call. Derived values (address
// and attachment lists, case-folded texts for regex prefilters) are built
// on first use and kept for the rest of the event.
type view struct {
	ev       *event.Event
	scratch  [1]string
	addrs    [4][]string // from, to, cc, reply_to
	addrsSet [4]bool
	attNames []string
	attTypes []string
	// folded holds canonFold of a field's values. An event's regex
	// prefilters touch only a few fields, so a short list searched by
	// name beats hashing the two-string key on every test; fields past
	// maxFoldList go to foldMap.
	folded  []foldEntry
	foldMap map[foldKey][]string
}

type foldKey struct{ name, arg string }

type foldEntry struct {
	foldKey
	vals []string
}

const maxFoldList = 8

// canon returns canonFold(vals[i]) for field f, computing the field's
// folded values once per event.
func (v *view) canon(f *fieldCond, vals []string, i int) string {
	if vals[i] == "" {
		return ""
	}
	slot := -1
	for j := range v.folded {
		if e := &v.folded[j]; e.name == f.name && e.arg == f.arg {
			if len(e.vals) == len(vals) {
				return e.vals[i]
			}
			slot = j
			break
		}
	}
	k := foldKey{f.name, f.arg}
	if slot < 0 && len(v.folded) == maxFoldList {
		if c, ok := v.foldMap[k]; ok && len(c) == len(vals) {
			return c[i]
		}
	}
	c := make([]string, len(vals))
	for j, s := range vals {
		c[j] = canonFold(s)
	}
	switch {
	case slot >= 0:
		v.folded[slot].vals = c
	case len(v.folded) < maxFoldList:
		v.folded = append(v.folded, foldEntry{k, c})
	default:
		if v.foldMap == nil {
			v.foldMap = make(map[foldKey][]string)
		}
		v.foldMap[k] = c
	}
	return c[i]
}

// getter returns the values of a field (arg names a header, label or JSON
// path) and whether the field is present at all.
type getter func(v *view, arg string, path []jsonpath.Elem) ([]string, bool)

func (v *view) one(s string) ([]string, bool) {
	v.scratch[0] = s
	return v.scratch[:], s != ""
}

// fields maps a `when:` key to its getter; keyed fields take an argument.
var fields = map[string]struct {
	get   getter
	keyed bool
	fold  bool // equality ignores case (addresses, ids)
}{
	"id":     {get: func(v *view, _ string, _ []jsonpath.Elem) ([]string, bool) { return v.one(v.ev.ID) }},
	"source": {get: func(v *view, _ string, _ []jsonpath.Elem) ([]string, bool) { return v.one(v.ev.Source) }},
	"kind":   {get: func(v *view, _ string, _ []jsonpath.Elem) ([]string, bool) { return v.one(string(v.ev.Kind)) }},
	"subject": {get: func(v *view, _ string, _ []jsonpath.Elem) ([]string, bool) {
		if m := v.ev.Mail; m != nil {
			return v.one(m.Subject)
		}
		return nil, false
	}},
	"body": {get: func(v *view, _ string, _ []jsonpath.Elem) ([]string, bool) {
		if m := v.ev.Mail; m != nil {
			return v.one(m.TextBody)
		}
		return nil, false
	}},
	"html": {get: func(v *view, _ string, _ []jsonpath.Elem) ([]string, bool) {
		if m := v.ev.Mail; m != nil {
			return v.one(m.HTMLBody)
		}
		return nil, false
	}},
	"from":     {get: addrGetter("from"), fold: true},
	"to":       {get: addrGetter("to"), fold: true},
	"cc":       {get: addrGetter("cc"), fold: true},
	"reply_to": {get: addrGetter("reply_to"), fold: true},
	"message_id": {fold: true, get: func(v *view, _ string, _ []jsonpath.Elem) ([]string, bool) {
		if m := v.ev.Mail; m != nil {
			return v.one(m.MessageID)
		}
		return nil, false
	}},
	"in_reply_to": {fold: true, get: func(v *view, _ string, _ []jsonpath.Elem) ([]string, bool) {
		if m := v.ev.Mail; m != nil {
			return m.InReplyTo, len(m.InReplyTo) > 0
		}
		return nil, false
	}},
	"references": {fold: true, get: func(v *view, _ string, _ []jsonpath.Elem) ([]string, bool) {
		if m := v.ev.Mail; m != nil {
			return m.References, len(m.References) > 0
		}
		return nil, false
	}},
	"attachment": {get: func(v *view, _ string, _ []jsonpath.Elem) ([]string, bool) {
		if m := v.ev.Mail; m != nil && len(m.Attachments) > 0 {
			if v.attNames == nil {
				v.attNames = make([]string, len(m.Attachments))
				for i, a := range m.Attachments {
					v.attNames[i] = a.Name
				}
			}
			return v.attNames, true
		}
		return nil, false
	}},
	"attachment_type": {fold: true, get: func(v *view, _ string, _ []jsonpath.Elem) ([]string, bool) {
		if m := v.ev.Mail; m != nil && len(m.Attachments) > 0 {
			if v.attTypes == nil {
				v.attTypes = make([]string, len(m.Attachments))
				for i, a := range m.Attachments {
					v.attTypes[i] = a.ContentType
				}
			}
			return v.attTypes, true
		}
		return nil, false
	}},
	"header": {keyed: true, get: func(v *view, name string, _ []jsonpath.Elem) ([]string, bool) {
		var h textproto.MIMEHeader
		switch {
		case v.ev.Mail != nil:
			h = v.ev.Mail.Header
		case v.ev.JSON != nil:
			h = v.ev.JSON.Header
		}
		vals, ok := h[name] // name is canonical (compile time)
		return vals, ok
	}},
	"status":       {get: alertString(func(a *event.AlertNotification) string { return a.Status })},
	"receiver":     {get: alertString(func(a *event.AlertNotification) string { return a.Receiver })},
	"group_key":    {get: alertString(func(a *event.AlertNotification) string { return a.GroupKey })},
	"external_url": {get: alertString(func(a *event.AlertNotification) string { return a.ExternalURL })},
	"title":        {get: alertString(func(a *event.AlertNotification) string { return a.Title })},
	"state":        {get: alertString(func(a *event.AlertNotification) string { return a.State })},
	"message":      {get: alertString(func(a *event.AlertNotification) string { return a.Message })},
	"labels":       {keyed: true, get: alertMap(func(a *event.AlertNotification) map[string]string { return a.CommonLabels })},
	"group_labels": {keyed: true, get: alertMap(func(a *event.AlertNotification) map[string]string { return a.GroupLabels })},
	"annotations":  {keyed: true, get: alertMap(func(a *event.AlertNotification) map[string]string { return a.CommonAnnotations })},
	"json": {keyed: true, get: func(v *view, _ string, path []jsonpath.Elem) ([]string, bool) {
		if v.ev.JSON == nil {
			return nil, false
		}
		x, ok := jsonpath.Walk(v.ev.JSON.Body, path)
		if !ok {
			return nil, false
		}
		return v.one(jsonpath.Text(x))
	}},
	"mta": {keyed: true, fold: true, get: mtaField}, // rules/mta.go
	"path": {get: func(v *view, _ string, _ []jsonpath.Elem) ([]string, bool) {
		if v.ev.JSON != nil {
			return v.one(v.ev.JSON.Path)
		}
		return nil, false
	}},
}

func addrGetter(field string) getter {
	slot := map[string]int{"from": 0, "to": 1, "cc": 2, "reply_to": 3}[field]
	return func(v *view, _ string, _ []jsonpath.Elem) ([]string, bool) {
		m := v.ev.Mail
		if m == nil {
			return nil, false
		}
		if v.addrsSet[slot] {
			out := v.addrs[slot]
			return out, len(out) > 0
		}
		var list []event.Address
		switch slot {
		case 0:
			list = m.From
		case 1:
			list = m.To
		case 2:
			list = m.Cc
		default:
			list = m.ReplyTo
		}
		out := make([]string, len(list))
		for i, a := range list {
			out[i] = a.Address
		}
		v.addrs[slot], v.addrsSet[slot] = out, true
		return out, len(out) > 0
	}
}

func alertString(f func(*event.AlertNotification) string) getter {
	return func(v *view, _ string, _ []jsonpath.Elem) ([]string, bool) {
		if v.ev.Alert == nil {
			return nil, false
		}
		return v.one(f(v.ev.Alert))
	}
}

func alertMap(f func(*event.AlertNotification) map[string]string) getter {
	return func(v *view, name string, _ []jsonpath.Elem) ([]string, bool) {
		if v.ev.Alert == nil {
			return nil, false
		}
		s, ok := f(v.ev.Alert)[name]
		v.scratch[0] = s
		return v.scratch[:], ok
	}
}

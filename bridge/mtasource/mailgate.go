package mtasource

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/rtbridge/rtbridge/bridge/source"
)

// The mailgate protocol is HTTP over the unix socket: POST /mail with the
// delivery parameters in the query and the raw mail as the body. 200 with
// the event id means committed; any other answer means nothing was
// accepted (413: too large, 400: bad parameters, 503: store trouble).
const mailPath = "/mail"

// Query parameter names of the mailgate protocol.
const (
	qQueue     = "queue"
	qAction    = "action"
	qExtMode   = "extension_mode"
	qExtension = "extension"
	qRecipient = "recipient"
	qSender    = "sender"
)

// receipt is the 200 answer.
type receipt struct {
	ID        string `json:"id"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

func (p Params) query() url.Values {
	q := url.Values{}
	for k, v := range map[string]string{qQueue: p.Queue, qAction: p.Action, qExtMode: p.ExtensionMode,
		qExtension: p.Extension, qRecipient: p.Recipient, qSender: p.Sender} {
		if v != "" {
			q.Set(k, v)
		}
	}
	return q
}

func paramsOf(q url.Values) Params {
	return Params{Queue: q.Get(qQueue), Action: q.Get(qAction), ExtensionMode: q.Get(qExtMode),
		Extension: q.Get(qExtension), Recipient: q.Get(qRecipient), Sender: q.Get(qSender)}
}

// mailgateHandler serves the mailgate socket.
type mailgateHandler struct {
	in   intake
	sink func() source.Sink // nil until Run hands the sink over
	log  *slog.Logger
}

func (h *mailgateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != mailPath || r.Method != http.MethodPost {
		http.Error(w, "POST "+mailPath+" only", http.StatusNotFound)
		return
	}
	p := paramsOf(r.URL.Query())
	if err := p.Check(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sink := h.sink()
	if sink == nil {
		http.Error(w, "not ready", http.StatusServiceUnavailable)
		return
	}
	acc, err := h.in.accept(r.Context(), sink, ViaMailgate, r.Body, p)
	switch {
	case errors.Is(err, ErrTooLarge):
		http.Error(w, fmt.Sprintf("mail is larger than max_message_bytes (%d)", h.in.maxBytes), http.StatusRequestEntityTooLarge)
		return
	case err != nil:
		h.log.Warn("mailgate: mail not accepted; the MTA keeps it", "err", err)
		http.Error(w, "not accepted: "+err.Error(), http.StatusServiceUnavailable)
		return
	}
	h.log.Debug("mailgate: accepted", "event", acc.ID, "duplicate", acc.Duplicate, "queue", p.Queue, "action", p.Action)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(receipt{ID: acc.ID, Duplicate: acc.Duplicate})
}

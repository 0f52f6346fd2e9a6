// Package mtasource is mail handed over by the local MTA: `rtbridge
// mailgate` (run from an /etc/aliases pipe, as RT's rt-mailgate is) talks
// to the daemon over a unix socket, and an LMTP listener takes mail from a
// transport. Both hand the bytes to the durable store and answer success
// (exit 0, LMTP 250) only after the commit, and a temporary failure
// otherwise, so the MTA keeps the mail until the store has it.
//
// Queue, action, ticket and the recipient's +extension travel with the
// event as metadata, the way rt-mailgate's form fields do; the daemon
// turns them into the event's Delivery (source.DeliveryOf).
package mtasource

import (
	"fmt"
	"strings"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/source"
)

// Intake paths (source.MetaVia).
const (
	ViaMailgate = "mailgate"
	ViaLMTP     = "lmtp"
)

// Params is what rt-mailgate's command line (or an LMTP route) says about
// one delivery, before the extension is applied.
type Params struct {
	Queue  string
	Action string
	// ExtensionMode is rt-mailgate's --extension: queue, action, ticket or
	// "" (the extension is only recorded).
	ExtensionMode string
	Extension     string // the recipient's +extension ($EXTENSION)
	Recipient     string
	Sender        string
}

// maxParam bounds every parameter; they come from addresses.
const maxParam = 256

// Check refuses parameters that are not what a command line or route can
// say; the caller answers with a temporary failure (as RT does for an
// unknown action), so a misconfigured alias keeps its mail.
func (p Params) Check() error {
	for name, v := range map[string]string{"queue": p.Queue, "action": p.Action, "extension": p.Extension,
		"recipient": p.Recipient, "sender": p.Sender} {
		if len(v) > maxParam {
			return fmt.Errorf("%s is longer than %d bytes", name, maxParam)
		}
		if strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return fmt.Errorf("%s contains control characters", name)
		}
	}
	if p.Action != "" {
		if err := config.CheckMailAction(p.Action); err != nil {
			return fmt.Errorf("action: %w", err)
		}
	}
	switch p.ExtensionMode {
	case "", "queue", "action", "ticket":
	default:
		return fmt.Errorf("extension must be queue, action or ticket; got %q", p.ExtensionMode)
	}
	return nil
}

// Meta returns the event metadata: the extension applied as rt-mailgate
// applies it (it replaces the queue, the action or names the ticket), the
// raw extension always kept.
func (p Params) Meta(via, defaultQueue string) map[string]string {
	m := map[string]string{source.MetaVia: via, source.MetaQueue: p.Queue, source.MetaAction: strings.ToLower(p.Action)}
	if p.Extension != "" {
		m[source.MetaExtension] = p.Extension
		switch p.ExtensionMode {
		case "queue":
			m[source.MetaQueue] = p.Extension
		case "action":
			m[source.MetaAction] = strings.ToLower(p.Extension)
		case "ticket":
			m[source.MetaTicket] = p.Extension
		}
	}
	if m[source.MetaQueue] == "" {
		m[source.MetaQueue] = defaultQueue
	}
	if m[source.MetaAction] == "" {
		m[source.MetaAction] = "correspond"
	}
	if p.Recipient != "" {
		m[source.MetaRecipient] = p.Recipient
	}
	if p.Sender != "" {
		m[source.MetaSender] = p.Sender
	}
	return m
}

package source

import (
	"strconv"

	"github.com/rtbridge/rtbridge/event"
)

// Meta keys an MTA mail (rtbridge mailgate, LMTP) is stored with: what
// rt-mailgate's form fields say about the delivery.
const (
	MetaVia       = "mta_via"
	MetaQueue     = "mta_queue"
	MetaAction    = "mta_action"
	MetaTicket    = "mta_ticket"
	MetaExtension = "mta_extension"
	MetaRecipient = "mta_recipient"
	MetaSender    = "mta_sender"
)

// DeliveryOf is the event's Delivery from an MTA mail's meta; nil for mail
// from elsewhere. The decoder calls it, so rules see the same delivery on
// every attempt.
func DeliveryOf(meta map[string]string) *event.Delivery {
	via := meta[MetaVia]
	if via == "" {
		return nil
	}
	d := &event.Delivery{Via: via, Queue: meta[MetaQueue], Action: meta[MetaAction], Extension: meta[MetaExtension],
		Recipient: meta[MetaRecipient], Sender: meta[MetaSender]}
	if n, err := strconv.Atoi(meta[MetaTicket]); err == nil && n > 0 {
		d.Ticket = n
	}
	return d
}

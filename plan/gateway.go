package plan

// ActionGateway hands the raw mail to RT's own mail gateway (what
// rt-mailgate does): RT parses it, applies its mail plugins and rights,
// and records the sender as the actor.
const ActionGateway Action = "gateway"

// Gateway is a gateway step: the form fields rt-mailgate would post.
type Gateway struct {
	Queue  string `json:"queue,omitempty"`
	Action string `json:"action,omitempty"` // correspond, comment, or a chain such as take-comment
	Ticket int    `json:"ticket,omitempty"` // 0: RT takes the ticket from the subject tag, or creates one
}

package rtapi

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rtbridge/rtbridge/rtapi/form"
)

// cfKinds maps a lower-cased custom-field name to whether the field takes
// multiple values. REST 1.0 shows a single-value field's text as it is
// (lines and commas included) and a multi-value field's values joined by
// RT's comma rule, without saying which is which: the decoder needs to know.
type cfKinds map[string]bool

// values returns the values of custom field name shown as v. A field of
// unknown kind is split by the comma rule (form.SplitCFDisplay), never on
// line ends, so a multi-line single value stays whole even then; only a
// single value containing a comma is then misread.
func (k cfKinds) values(name, v string) []string {
	if multi, known := k[strings.ToLower(name)]; known && !multi {
		if strings.TrimSpace(v) == "" {
			return nil
		}
		return []string{v}
	}
	return form.SplitCFDisplay(v)
}

// cfKindsTTL bounds how long a queue's field kinds are trusted; a field
// created meanwhile is of unknown kind until then.
const cfKindsTTL = 5 * time.Minute

// cfKindCache holds the field kinds per queue (lower-cased name).
type cfKindCache struct {
	mu      sync.Mutex
	byQueue map[string]cfKindEntry
}

type cfKindEntry struct {
	kinds cfKinds
	at    time.Time
}

// cfKinds returns the kinds of the ticket custom fields of queue, from
// queue/<name>/ticketcustomfields?format=l ("Name (Description):
// SingleValueFreeform"), cached for cfKindsTTL. A failure (e.g. no right to
// see the queue) is logged and gives the last known kinds, or nil: reading a
// ticket must not fail over it.
func (c *Client) cfKinds(ctx context.Context, queue string) cfKinds {
	if queue == "" {
		return nil
	}
	key := strings.ToLower(queue)
	c.cfk.mu.Lock()
	e, ok := c.cfk.byQueue[key]
	c.cfk.mu.Unlock()
	if ok && time.Since(e.at) < cfKindsTTL {
		return e.kinds
	}
	path := "queue/" + url.PathEscape(queue) + "/ticketcustomfields"
	rec, err := c.record(ctx, &call{op: "custom fields of queue " + queue, path: path,
		query: url.Values{"format": {"l"}}, idempotent: true})
	if err != nil {
		c.log.DebugContext(ctx, "rt custom field kinds unknown", "queue", queue, "err", err)
		return e.kinds
	}
	kinds := cfKinds{}
	// "Name (Description)" is not a key RT's form grammar accepts, so the
	// parser keeps these lines as plain lines; take both to be safe.
	lines := rec.Lines
	for _, f := range rec.Fields {
		lines = append(lines, f.Key+": "+f.Value)
	}
	for _, line := range lines {
		i := max(strings.LastIndex(line, ": SingleValue"), strings.LastIndex(line, ": MultiValue"))
		if i < 0 {
			continue
		}
		name, _, _ := strings.Cut(line[:i], " (")
		kinds[strings.ToLower(strings.TrimSpace(name))] = strings.HasPrefix(line[i:], ": MultiValue")
	}
	c.cfk.mu.Lock()
	if c.cfk.byQueue == nil {
		c.cfk.byQueue = map[string]cfKindEntry{}
	}
	c.cfk.byQueue[key] = cfKindEntry{kinds: kinds, at: time.Now()}
	c.cfk.mu.Unlock()
	return kinds
}

// searchCFKinds gives decodeSearch the field kinds of each queue.
func (c *Client) searchCFKinds(ctx context.Context) func(queue string) cfKinds {
	return func(queue string) cfKinds { return c.cfKinds(ctx, queue) }
}

package config

import "time"

// Retention is how long an event is kept after it reached a final state
// and its source's disposition ran; then its row and payload are deleted.
// An absent key takes its default; 0 keeps such events for ever.
type Retention struct {
	Done      *time.Duration `yaml:"done"`
	Ignored   *time.Duration `yaml:"ignored"`
	Duplicate *time.Duration `yaml:"duplicate"`
	// Dead counts from when the event died; a dead letter is kept until an
	// operator retries or drops it, or this runs out.
	Dead    *time.Duration `yaml:"dead"`
	Dropped *time.Duration `yaml:"dropped"`
	// Interval is how often the daemon prunes (default 10m).
	Interval time.Duration `yaml:"interval"`
}

// Retention defaults: a done or dropped event stays long enough to answer
// "what happened to last month's mail", an ignored or duplicate one (noise)
// a week, and a dead letter a quarter, so that nobody loses one over a
// holiday.
const (
	DefaultRetainDone      = 30 * 24 * time.Hour
	DefaultRetainIgnored   = 7 * 24 * time.Hour
	DefaultRetainDuplicate = 7 * 24 * time.Hour
	DefaultRetainDead      = 90 * 24 * time.Hour
	DefaultRetainDropped   = 30 * 24 * time.Hour
	DefaultPruneInterval   = 10 * time.Minute
)

func (r *Retention) applyDefaults() {
	for _, f := range []struct {
		v   **time.Duration
		def time.Duration
	}{{&r.Done, DefaultRetainDone}, {&r.Ignored, DefaultRetainIgnored}, {&r.Duplicate, DefaultRetainDuplicate},
		{&r.Dead, DefaultRetainDead}, {&r.Dropped, DefaultRetainDropped}} {
		if *f.v == nil {
			d := f.def
			*f.v = &d
		}
	}
	setDefault(&r.Interval, DefaultPruneInterval)
}

// ByState returns each final state's retention (0: keep for ever), keyed by
// the store's state names.
func (r Retention) ByState() map[string]time.Duration {
	get := func(d *time.Duration) time.Duration {
		if d == nil {
			return 0
		}
		return *d
	}
	return map[string]time.Duration{"done": get(r.Done), "ignored": get(r.Ignored), "duplicate": get(r.Duplicate),
		"dead": get(r.Dead), "dropped": get(r.Dropped)}
}

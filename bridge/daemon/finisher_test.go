package daemon

import (
	"context"
	"errors"
	"testing"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/source"
)

// A source this instance does not run is finished at once on a store of
// its own, and left to another instance on a shared store: marking its mail
// finished here would mean it is never moved.
func TestFinisherOfSourceRunElsewhere(t *testing.T) {
	for _, c := range []struct {
		name    string
		pg      *config.Postgres
		notHere bool
	}{
		{"sqlite", nil, false},
		{"postgres", &config.Postgres{}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := &daemon{}
			cfg := &config.Config{Webhooks: []config.Webhook{{Name: "deploys"}}}
			cfg.State.Postgres = c.pg
			d.cfg.Store(cfg)
			if f := d.finisher("deploys"); f != nil {
				t.Fatalf("webhook source: %T, want none (finished at once)", f)
			}
			f := d.finisher("support-inbox")
			if !c.notHere {
				if f != nil {
					t.Fatalf("unknown source on SQLite: %T, want none", f)
				}
				return
			}
			if f == nil {
				t.Fatal("unknown source on a shared store: finished here")
			}
			if err := f.Finish(context.Background(), source.Final{EventID: "e1"}); !errors.Is(err, source.ErrNotHere) {
				t.Fatalf("Finish: %v, want ErrNotHere", err)
			}
		})
	}
}

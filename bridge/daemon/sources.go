package daemon

import (
	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/imapsource"
	"github.com/rtbridge/rtbridge/bridge/metrics"
	"github.com/rtbridge/rtbridge/bridge/source"
)

// degradedSource is a source that can work and yet not finish what it
// read (imapsource: a disposition that keeps failing).
type degradedSource interface{ Degraded() error }

func degraded(s source.Source) error {
	if d, ok := s.(degradedSource); ok {
		return d.Degraded()
	}
	return nil
}

// imapStates reads the IMAP sources' counts for the metrics.
func (d *daemon) imapStates() []metrics.IMAPState {
	var out []metrics.IMAPState
	for _, s := range d.sources {
		is, ok := s.(*imapsource.Source)
		if !ok {
			continue
		}
		st := is.Status()
		out = append(out, metrics.IMAPState{Source: st.Name, Fetched: st.Accepted, Errors: st.Errors,
			Reconnects: st.Reconnects, Idle: st.Idling, LastSuccess: st.LastCheck, LeaseHeld: is.LeaseHeld()})
	}
	return out
}

// mailboxStates is each leased IMAP source's lease state for /status (nil
// on a single host, where the lease is implicit).
func (d *daemon) mailboxStates() map[string]string {
	var out map[string]string
	for _, s := range d.sources {
		is, ok := s.(*imapsource.Source)
		if !ok {
			continue
		}
		if st := is.Status(); st.Lease != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[st.Name] = st.Lease
		}
	}
	return out
}

// useMailboxLease puts an IMAP source under its mailbox lease when the
// store is PostgreSQL, which several instances share. The SQLite store
// serves one process: there the lease is implicit and always held.
func useMailboxLease(cfg *config.Config, st PartsStore, s *imapsource.Source) {
	p := cfg.State.Postgres
	l, ok := st.(imapsource.Leaser)
	if p == nil || !ok {
		return
	}
	s.UseLease(l, leaseTTL(p))
}

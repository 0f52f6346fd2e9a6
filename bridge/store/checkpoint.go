package store

import (
	"context"
	"time"
)

// checkpointEvery is how often the checkpointer copies the WAL into the
// database file when something was written since its last pass.
const checkpointEvery = 500 * time.Millisecond

// checkpointer runs WAL checkpoints off the commit path. The writer
// connection has wal_autocheckpoint=0: SQLite's automatic checkpoint runs
// inside the commit that crosses 1000 WAL pages, and its page copies and
// two fsyncs then delay every Accept waiting behind that commit (the p99 of
// accept latency). A PASSIVE checkpoint on a reader connection runs beside
// the writer instead; the WAL still restarts from its start once a
// checkpoint has copied it all.
func (s *Store) checkpointer() {
	defer close(s.ckptDone)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	var done int64
	for {
		select {
		case <-tick.C:
		case <-s.stop:
			return
		}
		n := s.writes.Load()
		if n == done {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := s.rdb.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
		cancel()
		if err != nil {
			s.log.Warn("store: wal checkpoint", "err", err)
			continue
		}
		done = n
	}
}

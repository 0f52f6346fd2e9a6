package store

import (
	"context"
	"time"
)

// checkpointEvery is how often the checkpointer copies the WAL into the
// database file when something was written since its last pass.
const checkpointEvery = 500 * time.Millisecond

// walRestartFrames is the WAL length (in 4 KiB pages) past which the
// committer finishes the checkpoint itself and rewinds the WAL.
const walRestartFrames = 4096

// checkpointer runs WAL checkpoints off the commit path. The writer
// connection has wal_autocheckpoint=0: SQLite's automatic checkpoint runs
// inside the commit that crosses 1000 WAL pages, and its page copies and
// two fsyncs then delay every Accept waiting behind that commit (the p99 of
// accept latency). A PASSIVE checkpoint on a reader connection runs beside
// the writer instead and copies the bulk of the WAL. But the WAL only
// rewinds when a write transaction begins with the checkpoint complete, and
// under sustained load a commit always lands while a checkpoint runs beside
// it: at 500 events/s the WAL grew by 23 MB/s and never rewound. So when the
// WAL is long after a pass, the committer finishes the job between two
// batches (restartWAL), where nothing can be appended meanwhile.
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
		var busy, frames, copied int
		err := s.rdb.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
		cancel()
		if err != nil {
			s.log.Warn("store: wal checkpoint", "err", err)
			continue
		}
		if frames > walRestartFrames {
			s.walLong.Store(true)
		}
		done = n
	}
}

// restartWAL checkpoints what the checkpointer left and rewinds the WAL,
// on the writer connection between two batches. Readers still on an older
// snapshot are waited for briefly (their queries take milliseconds); if one
// takes longer, the WAL is rewound at a later try.
func (s *Store) restartWAL() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := s.wdb.Conn(ctx) // free: the committer is between batches
	if err != nil {
		s.log.Warn("store: wal restart", "err", err)
		return
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `PRAGMA busy_timeout = 20`); err != nil {
		s.log.Warn("store: wal restart", "err", err)
		return
	}
	defer conn.ExecContext(ctx, `PRAGMA busy_timeout = 10000`)
	var busy, frames, copied int
	if err := conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(RESTART)`).Scan(&busy, &frames, &copied); err != nil {
		s.log.Warn("store: wal restart", "err", err)
	}
}

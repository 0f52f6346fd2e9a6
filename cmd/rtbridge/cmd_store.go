package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/bridge/store/pgstore"
)

const storeUsage = `usage: rtbridge store migrate [--config FILE] [--from sqlite:DIR] [--to postgres:DSN]

Copies a single-host SQLite store into a PostgreSQL store (events with their
payloads, plans and steps, the ledger, the cursors). --from defaults to the
config's state.dir, --to to its state.postgres (dsn_file keeps the password
off the command line). Stop the daemon first. Events already copied are
skipped, so an interrupted run can simply be repeated.`

// cmdStore moves a store: rtbridge store migrate.
func cmdStore(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("store", stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, storeUsage); fs.PrintDefaults() }
	cfgPath := fs.String("config", defaultConfig, "config file naming the stores when --from or --to is left out")
	from := fs.String("from", "", "source store: sqlite:DIR")
	to := fs.String("to", "", "destination store: postgres:DSN")
	pos, code, ok := parseFlagsMax(fs, args, 1)
	if !ok {
		return code
	}
	if len(pos) != 1 || pos[0] != "migrate" {
		fs.Usage()
		return exitUsage
	}
	dir, _ := strings.CutPrefix(*from, "sqlite:")
	dsn := ""
	if *to != "" {
		var okTo bool
		if dsn, okTo = strings.CutPrefix(*to, "postgres:"); !okTo || dsn == "" {
			fmt.Fprintln(stderr, "rtbridge store migrate: --to must be postgres:DSN")
			return 2
		}
	}
	if *from != "" && (!strings.HasPrefix(*from, "sqlite:") || dir == "") {
		fmt.Fprintln(stderr, "rtbridge store migrate: --from must be sqlite:DIR")
		return 2
	}
	if dir == "" || dsn == "" {
		cfg, err := config.LoadForOps(*cfgPath)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitFailure
		}
		dir = cmp.Or(dir, cfg.State.Dir)
		if dsn == "" {
			if cfg.State.Postgres == nil {
				fmt.Fprintf(stderr, "rtbridge store migrate: no --to, and %s has no state.postgres\n", *cfgPath)
				return 2
			}
			dsn = cfg.State.Postgres.ConnString()
		}
	}
	src, err := store.Open(ctx, dir, store.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "rtbridge store migrate: open sqlite:%s: %v\n", dir, err)
		return 1
	}
	defer src.Close()
	dst, err := pgstore.Open(ctx, pgstore.Options{DSN: dsn})
	if err != nil {
		fmt.Fprintf(stderr, "rtbridge store migrate: open PostgreSQL: %v\n", err)
		return 1
	}
	defer dst.Close()
	m, err := dst.ImportFrom(ctx, src)
	if err != nil {
		fmt.Fprintf(stderr, "rtbridge store migrate: %v (after %d events; run it again to go on)\n", err, m.Events)
		return 1
	}
	fmt.Fprintf(stdout, "moved %d events (%d were there already), %d ledger entries, %d cursors from sqlite:%s to PostgreSQL\n",
		m.Events, m.Skipped, m.Ledger, m.Cursors, dir)
	return 0
}

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/dustin/go-humanize"
	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/daemon"
	"github.com/rtbridge/rtbridge/bridge/imapsource"
	"github.com/rtbridge/rtbridge/bridge/store"
)

// cmdStatus shows the queue from the store (works while the daemon runs),
// plus breaker and source health from the daemon's /status when it answers.
func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", defaultConfig, "config file")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, code, ok := parseFlagsMax(fs, args, 0); !ok {
		return code
	}
	cfg, st, code := openStore(ctx, *cfgPath, false, stderr)
	if st == nil {
		return code
	}
	defer st.Close()
	s, err := daemon.ReadStatus(ctx, st)
	if err != nil {
		fmt.Fprintf(stderr, "rtbridge status: %v\n", err)
		return 1
	}
	if live, ok := fetchLive(ctx, cfg); ok {
		s.Breaker, s.Sources, s.OAuth2, s.Daemon = live.Breaker, live.Sources, live.OAuth2, true
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.Encode(s)
		return 0
	}
	printStatus(stdout, s)
	return 0
}

func printStatus(w io.Writer, s daemon.Status) {
	fmt.Fprintln(w, "queue:")
	for _, state := range store.AllStates() {
		fmt.Fprintf(w, "  %-10s %d\n", state, s.Queue[state])
	}
	if s.OldestAge != "" {
		fmt.Fprintf(w, "oldest pending: %s (received %s)\n", s.OldestAge, s.OldestPending.Format(time.RFC3339))
	}
	if !s.NextAttempt.IsZero() {
		fmt.Fprintf(w, "next retry:     %s\n", s.NextAttempt.Format(time.RFC3339))
	}
	fmt.Fprintf(w, "dead letters:   %d\n", s.DeadLetters)
	fmt.Fprintf(w, "store on disk:  %s\n", humanize.IBytes(uint64(max(s.StoreBytes, 0))))
	fmt.Fprintf(w, "RT breaker:     %s", s.Breaker)
	if !s.BreakerSince.IsZero() {
		fmt.Fprintf(w, " (recorded %s)", s.BreakerSince.Format(time.RFC3339))
	}
	fmt.Fprintln(w)
	if !s.Daemon {
		fmt.Fprintln(w, "daemon:         not reachable on http.listen (state read from the store only)")
	}
	for _, n := range slices.Sorted(maps.Keys(s.Sources)) {
		fmt.Fprintf(w, "source %-20s %s\n", n, s.Sources[n])
	}
	for _, n := range slices.Sorted(maps.Keys(s.OAuth2)) {
		fmt.Fprintf(w, "oauth2 %-20s %s\n", n, tokenLine(s.OAuth2[n]))
	}
	for _, src := range slices.Sorted(maps.Keys(s.Cursors)) {
		for _, k := range slices.Sorted(maps.Keys(s.Cursors[src])) {
			fmt.Fprintf(w, "cursor %s %s = %s\n", clean(src, 0), clean(k, 0), clean(s.Cursors[src][k], 0))
		}
	}
}

// fetchLive asks the running daemon's /status (loopback-only listeners
// and TLS are both tried as configured).
func fetchLive(ctx context.Context, cfg *config.Config) (daemon.Status, bool) {
	host, port, err := net.SplitHostPort(cfg.HTTP.Listen)
	if err != nil {
		return daemon.Status{}, false
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	scheme := "http"
	if cfg.HTTP.TLS != nil {
		scheme = "https"
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", scheme+"://"+net.JoinHostPort(host, port)+"/status", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return daemon.Status{}, false
	}
	defer resp.Body.Close()
	var s daemon.Status
	if resp.StatusCode != 200 || json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&s) != nil {
		return daemon.Status{}, false
	}
	return s, true
}

// openStore loads the config without secrets and opens its store:
// read-only (nothing created, never migrated) unless write is set.
func openStore(ctx context.Context, path string, write bool, stderr io.Writer) (*config.Config, *store.Store, int) {
	cfg, err := config.LoadForOps(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, nil, exitFailure
	}
	var st *store.Store
	if write {
		st, err = store.Open(ctx, cfg.State.Dir, store.Options{})
	} else {
		st, err = store.OpenReadOnly(ctx, cfg.State.Dir)
	}
	if err != nil {
		fmt.Fprintf(stderr, "open store in %s: %v\n", cfg.State.Dir, err)
		return nil, nil, exitFailure
	}
	return cfg, st, exitOK
}

// tokenLine sums up an OAuth2 source's token state.
func tokenLine(t imapsource.TokenStatus) string {
	line := "token ok"
	if !t.OK {
		line = "token failing"
	}
	if !t.Expiry.IsZero() {
		line += ", expires " + t.Expiry.Format(time.RFC3339)
	}
	line += fmt.Sprintf(", %d obtained, %d failed", t.Refreshes, t.Failures)
	if t.LastError != "" {
		line += fmt.Sprintf("; last error %s: %s", t.LastErrorAt.Format(time.RFC3339), clean(t.LastError, 0))
	}
	return line
}

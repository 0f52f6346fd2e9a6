package main

import (
	"context"
	"encoding/json"
	"errors"
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
	fs := newFlags("status", stderr)
	cfgPath := fs.String("config", defaultConfig, "config file")
	asJSON := fs.Bool("json", false, "print JSON")
	adminSecret := fs.String("admin-secret-file", "", "read the bearer token or Basic password of http.admin_auth from `FILE` (default: the config's token_file or password_file)")
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
	live, err := fetchLive(ctx, cfg, *adminSecret)
	if err == nil {
		s.Breaker, s.RT, s.Sources, s.OAuth2, s.Daemon = live.Breaker, live.RT, live.Sources, live.OAuth2, true
	} else if errors.Is(err, errAdminAuth) {
		fmt.Fprintf(stderr, "rtbridge status: %v\n", err)
	}
	if *asJSON {
		printJSON(stdout, s)
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
	if s.RT != nil {
		state := "up"
		if !s.RT.Up {
			state = "down: " + clean(s.RT.Error, 0)
		}
		fmt.Fprintf(w, "RT:             %s (checked %s)\n", state, s.RT.CheckedAt.Format(time.RFC3339))
	}
	if !s.Daemon {
		fmt.Fprintln(w, "daemon:         not reachable (state read from the store only)")
	}
	for _, n := range slices.Sorted(maps.Keys(s.Sources)) {
		fmt.Fprintf(w, "source %-20s %s\n", n, s.Sources[n])
	}
	for _, n := range slices.Sorted(maps.Keys(s.OAuth2)) {
		fmt.Fprintf(w, "oauth2 %-20s %s\n", n, tokenLine(s.OAuth2[n]))
	}
	for _, l := range s.Leases {
		fmt.Fprintf(w, "lease %-7s %s held by %s until %s\n", l.Kind, clean(l.Name, 0), clean(l.Owner, 0), l.Until.Format(time.RFC3339))
	}
	for _, src := range slices.Sorted(maps.Keys(s.Cursors)) {
		for _, k := range slices.Sorted(maps.Keys(s.Cursors[src])) {
			fmt.Fprintf(w, "cursor %s %s = %s\n", clean(src, 0), clean(k, 0), clean(s.Cursors[src][k], 0))
		}
	}
}

// errAdminAuth marks a /status the daemon refused, or could not be asked
// for, for want of http.admin_auth's credentials.
var errAdminAuth = errors.New("admin credentials")

// fetchLive asks the running daemon's /status: on http.admin_listen when
// set, else http.listen (a wildcard address is asked on loopback), over
// TLS when http.tls is set, with http.admin_auth's credentials (read from
// secretFile, else from the config's file).
func fetchLive(ctx context.Context, cfg *config.Config, secretFile string) (daemon.Status, error) {
	addr := cfg.HTTP.Listen
	if cfg.HTTP.AdminListen != "" {
		addr = cfg.HTTP.AdminListen
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return daemon.Status{}, err
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
	req, err := http.NewRequestWithContext(ctx, "GET", scheme+"://"+net.JoinHostPort(host, port)+"/status", nil)
	if err != nil {
		return daemon.Status{}, err
	}
	if err := adminCredentials(req, cfg, secretFile); err != nil {
		return daemon.Status{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return daemon.Status{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusUnauthorized {
		return daemon.Status{}, fmt.Errorf("%w: the daemon on %s refused them (401)", errAdminAuth, addr)
	}
	var s daemon.Status
	if resp.StatusCode != 200 {
		return s, fmt.Errorf("%s answered HTTP %d", addr, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&s); err != nil {
		return s, fmt.Errorf("%s: %w", addr, err)
	}
	return s, nil
}

// adminCredentials adds http.admin_auth's credentials to req. The config
// was loaded without secrets, so the file is read here.
func adminCredentials(req *http.Request, cfg *config.Config, secretFile string) error {
	a := cfg.HTTP.AdminAuth
	if !cfg.HTTP.AdminGuarded() {
		return nil
	}
	file := secretFile
	if file == "" {
		if a.Bearer != nil {
			file = a.Bearer.TokenFile
		} else {
			file = a.Basic.PasswordFile
		}
		cfg.Abs(&file)
	}
	var secret string
	switch {
	case file != "":
		s, err := config.ReadSecretFile(file)
		if err != nil {
			return fmt.Errorf("%w: %v (give --admin-secret-file)", errAdminAuth, err)
		}
		secret = string(s)
	case a.Bearer != nil && a.Bearer.Token != "":
		secret = string(a.Bearer.Token)
	case a.Basic != nil && a.Basic.Password != "":
		secret = string(a.Basic.Password)
	default:
		return fmt.Errorf("%w: http.admin_auth asks for them and its file is not readable here (give --admin-secret-file)", errAdminAuth)
	}
	if a.Bearer != nil {
		req.Header.Set("Authorization", "Bearer "+secret)
	} else {
		req.SetBasicAuth(a.Basic.Username, secret)
	}
	return nil
}

// openStore loads the config without secrets and opens its store:
// read-only (nothing created, never migrated) unless write is set.
func openStore(ctx context.Context, path string, write bool, stderr io.Writer) (*config.Config, daemon.Store, int) {
	cfg, err := config.LoadForOps(path)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return nil, nil, exitFailure
	}
	var st daemon.Store
	if write {
		st, err = daemon.OpenStore(ctx, cfg, nil)
	} else {
		st, err = daemon.OpenStoreReadOnly(ctx, cfg)
	}
	if err != nil {
		where := "in " + cfg.State.Dir
		if cfg.State.Postgres != nil {
			where = "in PostgreSQL (state.postgres)"
		}
		fmt.Fprintf(stderr, "open store %s: %v\n", where, err)
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

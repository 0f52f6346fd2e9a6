// Package daemon is `rtbridge run`: it builds every part in data-flow order
// (config → store → RT client → rules → executor → sources and the HTTP
// server), reloads config and rules on SIGHUP, and stops in reverse order
// so that nothing accepted is lost.
//
// # Failure contract
//
// Start-up fails (non-zero exit, the reason logged) when the config, the
// rules, the store or the listener cannot be set up. Once running, a reload
// that fails validation keeps the old config and rules (counted in
// rtbridge_config_reloads_total{result="failure"}). A stop closes intake
// first (webhooks answer 503), lets requests in flight finish their durable
// accept, then stops the executor: a step in flight either completes or is
// recorded as unknown and reconciled on the next start.
package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/executor"
	"github.com/rtbridge/rtbridge/bridge/mailflow"
	"github.com/rtbridge/rtbridge/bridge/metrics"
	"github.com/rtbridge/rtbridge/bridge/notify"
	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/bridge/webhook"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
	"github.com/rtbridge/rtbridge/rules"
)

// Options are what `rtbridge run` passes in.
type Options struct {
	ConfigPath string
	// Reload receives a value per SIGHUP.
	Reload <-chan os.Signal
	// LogOutput gets the log (default os.Stderr: journald adds timestamps).
	LogOutput io.Writer
	Version   string
	// Listening is called with the HTTP server's address once it accepts
	// connections (tests use port 0).
	Listening func(addr string)
	// AdminListening is Listening for http.admin_listen, when it is set.
	AdminListening func(addr string)
}

type daemon struct {
	path   string
	level  *slog.LevelVar
	log    *slog.Logger
	m      *metrics.Metrics
	st     Store
	x      *executor.Executor
	hooks  *webhook.Server
	sd     *notify.Notifier
	checks []*check
	tls    *tls.Config // the HTTP server's; nil: plain HTTP

	rtProbe *check      // RT reachable; shown in /status and rtbridge_rt_up
	intake  atomic.Bool // webhooks and sources accept
	admin   atomic.Pointer[adminGuard]
	// reloadNote is the last reload's outcome, kept in systemd's status
	// line ("" before any reload).
	reloadNote atomic.Value
	status     atomic.Pointer[Status]
	sink       source.Sink // the store, counted (Parts.Sink)

	cfg     atomic.Pointer[config.Config]
	rules   atomic.Pointer[rules.RuleSet]
	sources []source.Source
}

// Run runs the daemon until ctx ends, then stops cleanly.
func Run(ctx context.Context, o Options) error {
	if o.LogOutput == nil {
		o.LogOutput = os.Stderr
	}
	cfg, err := LoadConfig(o.ConfigPath)
	if err != nil {
		return err
	}
	d := &daemon{path: o.ConfigPath, level: new(slog.LevelVar)}
	d.log = NewLogger(o.LogOutput, cfg.Log, d.level)
	d.sd = notify.New(d.log)
	d.m = metrics.New()
	// The parts are built, and every file they need read, before anything
	// is created or connected: `rtbridge check` builds them the same way.
	st := &storeRef{}
	parts, err := Build(cfg, st, d.m, d.log)
	if err != nil {
		return err
	}
	for _, w := range parts.Rules.Warnings() {
		d.log.Warn("rules", "warning", w.String())
	}
	for _, w := range cfg.RT.Warnings() {
		d.log.Warn("rt", "warning", w)
	}
	d.cfg.Store(cfg)
	d.rules.Store(parts.Rules)
	d.m.ConfigLoaded(true, fileHash(o.ConfigPath), time.Now())
	d.hooks, d.sources, d.tls, d.sink = parts.Hooks, parts.Sources, parts.TLS, parts.Sink
	d.admin.Store(parts.admin)
	d.m.IMAP(d.imapStates)
	for _, s := range d.sources {
		d.m.InitSource(s.Name())
	}

	d.st, err = OpenStore(ctx, cfg, d.log)
	if err != nil {
		return fmt.Errorf("state: %w", err)
	}
	defer d.st.Close()
	st.Store = d.st
	// Each mailbox's mail policy (loops, automatic mail, …) wraps the rules;
	// like the IMAP accounts themselves it takes effect at start.
	mta, err := mtaSources(cfg, d.log)
	if err != nil {
		return err
	}
	d.sources = append(d.sources, mta...)
	d.x, err = executor.New(executor.Options{
		Store: d.st, RT: parts.RT,
		Rules:            func(k event.Kind) plan.Planner { return mailflow.Planner(d.rules.Load(), parts.Policies, k) },
		Finisher:         d.finisher,
		Workers:          cfg.Executor.Workers,
		IdempotencyField: cfg.RT.IdempotencyField,
		Settle:           executor.SettleFor(cfg.RT.Timeout), // reconcile an unknown step only after RT finished it
		Backoff: executor.Backoff{Base: cfg.Executor.Backoff.Initial, Max: cfg.Executor.Backoff.Max,
			MaxAttempts: cfg.Executor.MaxAttempts, MaxAge: cfg.Executor.MaxAge},
		Breaker: executor.BreakerConfig{Threshold: cfg.Executor.Breaker.Failures, Cooldown: cfg.Executor.Breaker.OpenFor},
		Logger:  d.log, Metrics: d.m,
		Gateway: parts.Gateway, // deliver: gateway (mta.go)
	})
	if err != nil {
		return err
	}
	d.checks = d.readinessChecks(&d.intake)
	// RT's state for /status and rtbridge_rt_up, also while no event runs.
	d.rtProbe = &check{name: "rt", ttl: rtProbeEvery, fn: func(ctx context.Context) error { return probeRT(ctx, parts.RTHTTP, cfg.RT.URL) }}

	ln, err := listen("http.listen", cfg.HTTP.Listen, cfg.HTTP)
	if err != nil {
		return err
	}
	var aln net.Listener
	if a := cfg.HTTP.AdminListen; a != "" {
		if aln, err = listen("http.admin_listen", a, cfg.HTTP); err != nil {
			ln.Close()
			return err
		}
	}
	return d.serve(ctx, o, ln, aln)
}

// serve runs everything until ctx ends, then stops in reverse order; aln
// is http.admin_listen's listener (nil: none).
func (d *daemon) serve(ctx context.Context, o Options, ln, aln net.Listener) error {
	cfg := d.cfg.Load()
	fatal := make(chan error, 3)
	d.intake.Store(true)
	srv := d.startHTTP("http server", d.handler(), ln, fatal)
	var admin *http.Server
	if aln != nil {
		admin = d.startHTTP("admin http server", d.adminHandler(), aln, fatal)
	}
	xctx, stopX := context.WithCancel(context.WithoutCancel(ctx))
	defer stopX()
	xdone := make(chan error, 1)
	// No pause after a crash: only a step whose attempt the killed process
	// left in flight waits for it to settle (executor Options.Settle);
	// every other event runs at once.
	go func() { xdone <- d.x.Run(xctx) }()
	sctx, stopSources := context.WithCancel(ctx)
	defer stopSources()
	go d.pruneLoop(sctx)
	for _, s := range d.sources {
		go func() {
			if err := s.Run(sctx, d.sink); err != nil {
				fatal <- fmt.Errorf("source %s: %w", s.Name(), err)
			}
		}()
	}
	started := []any{"listen", ln.Addr().String(), "state", cfg.State.Dir, "webhooks", len(cfg.Webhooks), "rules", d.rules.Load().Len(), "version", o.Version}
	if aln != nil {
		started = append(started, "admin_listen", aln.Addr().String())
	}
	d.log.Info("rtbridge started", started...)
	if o.Listening != nil {
		o.Listening(ln.Addr().String())
	}
	if aln != nil && o.AdminListening != nil {
		o.AdminListening(aln.Addr().String())
	}
	go d.rtProbe.refresh(ctx)
	d.tick(ctx, true)
	d.sd.Ready(d.statusLine())

	var err error
	err = d.loop(ctx, o.Reload, fatal, xdone)

	// Stop: intake first, then the work.
	d.sd.Stopping()
	d.log.Info("stopping: intake closed, finishing requests in flight")
	d.intake.Store(false)
	d.hooks.Stop()
	stopSources()
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.HTTP.ShutdownTimeout)
	if e := srv.Shutdown(shutCtx); e != nil {
		d.log.Warn("http shutdown", "err", e)
	}
	if admin != nil {
		admin.Shutdown(shutCtx)
	}
	cancel()
	// Let steps in flight finish (an interrupted RT call must be reconciled
	// later); at the deadline cancel whatever still runs.
	deadline := time.Now().Add(cfg.Executor.StopTimeout)
	for n := d.x.InFlight(); n > 0 && time.Now().Before(deadline); n = d.x.InFlight() {
		d.log.Debug("waiting for steps in flight", "events", n)
		time.Sleep(100 * time.Millisecond)
	}
	stopX()
	select {
	case <-xdone:
	case <-time.After(max(time.Until(deadline), 2*time.Second)):
		d.log.Warn("executor did not stop in time; unfinished steps are reconciled on the next start", "timeout", cfg.Executor.StopTimeout)
	}
	d.log.Info("rtbridge stopped")
	return err
}

// rtProbeEvery is how often RT's REST root is asked for /status and
// rtbridge_rt_up (the tick's 5 s would be 17,000 requests a day).
const rtProbeEvery = 15 * time.Second

// startHTTP serves h on ln (with http.tls when set) until Shutdown; an
// error other than the shutdown goes to fatal.
func (d *daemon) startHTTP(name string, h http.Handler, ln net.Listener, fatal chan<- error) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute,
		WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute, ErrorLog: slog.NewLogLogger(d.log.Handler(), slog.LevelWarn)}
	go func() {
		var err error
		if d.tls != nil {
			srv.TLSConfig = d.tls
			err = srv.ServeTLS(ln, "", "")
		} else {
			err = srv.Serve(ln)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			fatal <- fmt.Errorf("%s: %w", name, err)
		}
	}()
	return srv
}

// loop is the main loop: reloads, periodic metrics/status, watchdog.
func (d *daemon) loop(ctx context.Context, reload <-chan os.Signal, fatal <-chan error, xdone <-chan error) error {
	every := 5 * time.Second
	if wd := notify.WatchdogInterval(); wd > 0 && wd < every {
		every = wd
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-fatal:
			d.log.Error("fatal", "err", err)
			return err
		case err := <-xdone:
			if err == nil {
				err = errors.New("executor stopped unexpectedly")
			}
			d.log.Error("executor", "err", err)
			return fmt.Errorf("executor: %w", err)
		case <-reload:
			d.reload(ctx)
		case <-t.C:
			go d.rtProbe.refresh(ctx)
			if d.tick(ctx, false) {
				d.sd.Watchdog()
			}
		}
	}
}

// tick refreshes the queue gauges, the cached /status and systemd's
// status line; it reports whether the daemon is healthy (the store
// answers), which gates the watchdog ping.
func (d *daemon) tick(ctx context.Context, first bool) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	s, err := ReadStatus(ctx, d.st)
	if err != nil {
		d.log.Error("store unreadable", "err", err)
		return false
	}
	d.status.Store(&s)
	for state, n := range s.Queue {
		d.m.Queue.WithLabelValues(string(state)).Set(float64(n))
	}
	d.m.DeadLetters.Set(float64(s.DeadLetters))
	age := 0.0
	if !s.OldestPending.IsZero() {
		age = time.Since(s.OldestPending).Seconds()
	}
	d.m.OldestPending.Set(age)
	if s, ok := d.st.(interface {
		SizeBytes(context.Context) (int64, error)
	}); ok { // the SQLite store's directory; PostgreSQL's size is the database's
		if n, err := s.SizeBytes(ctx); err == nil {
			d.m.StoreBytes.Set(float64(n))
		}
	}
	for _, s := range d.sources {
		up := 1.0
		if s.Health() != nil {
			up = 0
		}
		d.m.SourceUp.WithLabelValues(s.Name()).Set(up)
		d.m.Degraded(s.Name(), degraded(s) != nil)
	}
	d.recordTokens()
	if !first {
		d.sd.Status(d.statusLine())
	}
	return true
}

// statusLine is systemd's status line: countsLine, with the last reload's
// outcome after a refused one.
func (d *daemon) statusLine() string {
	line := d.countsLine()
	if note, _ := d.reloadNote.Load().(string); note != "" && note != notify.ReloadNote(nil) {
		line += "; last " + note
	}
	return line
}

// countsLine sums up the last tick's counts and the breaker.
func (d *daemon) countsLine() string {
	s := d.status.Load()
	if s == nil {
		return "store unreadable"
	}
	return statusText(s.Queue, d.x.BreakerState())
}

func statusText(byState map[store.State]int, breaker string) string {
	pending := 0
	for state, n := range byState {
		if !state.Final() {
			pending += n
		}
	}
	return fmt.Sprintf("%d pending, %d dead letters, RT breaker %s", pending, byState[store.StateDead], breaker)
}

// finisher is the disposition of source name's events: nil when it has
// none (a webhook: finished at once). A source this instance does not run
// is finished here too on a store of its own (it was removed from the
// config); on a shared store it is left to an instance that runs it, or
// its mail would never be moved.
func (d *daemon) finisher(name string) source.Finisher {
	for _, s := range d.sources {
		if s.Name() != name {
			continue
		}
		if f, ok := s.(source.Finisher); ok {
			return f
		}
		return nil
	}
	cfg := d.cfg.Load()
	for _, w := range cfg.Webhooks {
		if w.Name == name {
			return nil
		}
	}
	if cfg.State.Postgres != nil {
		return notHere{}
	}
	return nil
}

// notHere is the disposition of a source another instance runs.
type notHere struct{}

func (notHere) Finish(context.Context, source.Final) error {
	return fmt.Errorf("source not configured on this instance: %w", source.ErrNotHere)
}

func (d *daemon) sourceStates() map[string]string {
	out := map[string]string{}
	for _, w := range d.cfg.Load().Webhooks {
		out[w.Name] = "ok"
	}
	for _, s := range d.sources {
		out[s.Name()] = "ok"
		if err := s.Health(); err != nil {
			out[s.Name()] = err.Error()
		} else if err := degraded(s); err != nil {
			out[s.Name()] = "degraded: " + err.Error()
		}
	}
	return out
}

// storeRef lets the parts be built before the store is opened; nothing
// uses it before Run sets Store.
type storeRef struct{ Store }

func fileHash(path string) uint32 {
	h := fnv.New32a()
	if b, err := os.ReadFile(path); err == nil {
		h.Write(b)
	}
	return h.Sum32()
}

package daemon

import (
	"context"
	"reflect"
	"sort"
	"time"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/notify"
)

// reload loads the config and builds every part from it as a start would
// (Build), then swaps in the rules, webhooks, log level, retention and the
// credentials (RT client, IMAP passwords: applySecrets); on any failure
// the old ones stay. Plans already stored keep their rules. Settings that
// need a restart (rt and imap other than their secrets, state.dir, http,
// executor) are compared and named in a warning.
func (d *daemon) reload(ctx context.Context) bool {
	d.sd.Reloading()
	var refused error
	// systemd hears the outcome, and the status line keeps saying so until
	// the next reload.
	defer func() {
		d.reloadNote.Store(notify.ReloadNote(refused))
		d.sd.Reloaded(refused, d.countsLine())
	}()
	d.log.Info("reloading configuration", "file", d.path)
	fail := func(stage string, err error) bool {
		refused = err
		d.log.Error("reload failed; keeping the running configuration", "stage", stage, "err", err)
		d.m.ConfigLoaded(false, 0, time.Now())
		return false
	}
	cfg, err := LoadConfig(d.path)
	if err != nil {
		return fail("config", err)
	}
	parts, err := Build(cfg, d.st, d.m, d.log)
	if err != nil {
		return fail("build", err)
	}
	rs := parts.Rules
	// Last fallible step: it swaps the endpoints only when all build.
	if err := d.hooks.Update(cfg.Webhooks); err != nil {
		return fail("webhooks", err)
	}
	old := d.cfg.Swap(cfg)
	d.applySecrets(old, cfg, parts)
	d.rules.Store(rs)
	d.admin.Store(parts.admin)
	d.level.Set(parseLevel(cfg.Log.Level))
	for _, w := range rs.Warnings() {
		d.log.Warn("rules", "warning", w.String())
	}
	if changed := restartNeeded(old, cfg); len(changed) > 0 {
		d.log.Warn("changed settings take effect only after a restart", "sections", changed)
	}
	d.m.ConfigLoaded(true, fileHash(d.path), time.Now())
	d.log.Info("configuration reloaded", "rules", rs.Len(), "webhooks", len(cfg.Webhooks))
	return true
}

func restartNeeded(old, cur *config.Config) []string {
	var out []string
	// http.admin_auth is swapped on reload (a rotated admin secret).
	oh, ch := old.HTTP, cur.HTTP
	oh.AdminAuth, ch.AdminAuth = config.Auth{}, config.Auth{}
	for name, pair := range map[string][2]any{
		"rt": {rtSettings(old.RT), rtSettings(cur.RT)}, "state.dir": {old.State.Dir, cur.State.Dir},
		"state.postgres": {old.State.Postgres, cur.State.Postgres}, "http": {oh, ch},
		"executor": {old.Executor, cur.Executor}, "log.format": {old.Log.Format, cur.Log.Format},
		"imap": {imapSettings(old.IMAP), imapSettings(cur.IMAP)}, "mta": {old.MTA, cur.MTA},
	} {
		if !reflect.DeepEqual(pair[0], pair[1]) {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

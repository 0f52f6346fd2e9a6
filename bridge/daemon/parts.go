package daemon

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"syscall"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/executor"
	"github.com/rtbridge/rtbridge/bridge/imapsource"
	"github.com/rtbridge/rtbridge/bridge/mailflow"
	"github.com/rtbridge/rtbridge/bridge/metrics"
	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/webhook"
	"github.com/rtbridge/rtbridge/rtapi/kerberos"
	"github.com/rtbridge/rtbridge/rules"
)

// Parts are what `run` builds from a config before it connects anywhere.
// `rtbridge check` and a reload build them with the same Build and drop
// them, so a config they accept is one `run` starts with.
type Parts struct {
	Rules    *rules.RuleSet
	RT       executor.RT
	RTHTTP   *http.Client // RT's transport, for the readiness probe
	Policies map[string]mailflow.Policy
	Gateway  executor.Gateway // RT's mail gateway, for deliver: gateway; nil when rt.auth cannot reconcile a post
	Sources  []source.Source  // one per IMAP folder
	Hooks    *webhook.Server
	TLS      *tls.Config // the HTTP server's; nil: plain HTTP
	admin    *adminGuard // http.admin_auth; nil: no credentials asked
	// Sink is the store as every source accepts into it: counted in the
	// metrics whatever the source.
	Sink source.Sink
}

// PartsStore is what the parts are wired to: sources keep cursors in it
// and webhooks accept into it. Nothing calls it before the parts run.
type PartsStore interface {
	source.Sink
	source.Cursors
}

// Build builds every part of cfg. It reads every file they need (CA
// files, the TLS pair, keytab and krb5.conf) but opens no connection and
// writes nothing. All problems are returned at once, each positioned in
// the config file (*config.Error, or *rules.CompileError for the rules).
func Build(cfg *config.Config, st PartsStore, m *metrics.Metrics, log *slog.Logger) (*Parts, error) {
	p := &Parts{Sink: m.Sink(st)}
	var errs []error
	add := func(section string, err error) {
		if err != nil {
			errs = append(errs, cfg.ErrorIn(section, err))
		}
	}
	var err error
	if p.Rules, err = CompileRules(cfg); err != nil {
		errs = append(errs, err)
	}
	add("state.dir", stateDirProblem(cfg.State.Dir))
	var rtErr error
	p.RT, rtErr = NewRT(cfg.RT, m, log)
	add("rt", rtErr)
	if p.RTHTTP, err = RTHTTPClient(cfg.RT, m); rtErr == nil {
		add("rt", err) // else NewRT failed on the same file: said once
	}
	if t := cfg.HTTP.TLS; t != nil {
		p.TLS, err = serverTLS(*t)
		add("http.tls", err)
	}
	p.admin, err = newAdminGuard(cfg.HTTP)
	add("http", err)
	for i, a := range cfg.IMAP {
		srcs, err := imapsource.NewAll(a, st, log)
		add(fmt.Sprintf("imap[%d]", i), err)
		for _, s := range srcs {
			useMailboxLease(cfg, st, s)
			p.Sources = append(p.Sources, s)
		}
	}
	p.Policies, err = mailflow.Policies(cfg.IMAP)
	add("imap", err)
	add("mta", addMTAPolicy(cfg, p.Policies))
	p.Gateway, err = mtaGateway(cfg, m, log)
	add("mta", err)
	p.Hooks, err = webhook.New(cfg.Webhooks, webhook.Options{Sink: p.Sink, Metrics: m, Logger: log,
		Kinds: webhook.AlertKinds(), HMAC: webhook.HMAC, Limits: cfg.HTTP.Limits})
	add("webhooks", err)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return p, nil
}

// Check is `rtbridge check`: LoadConfig and Build as Run does them, with
// a store that is never opened and nothing started.
func Check(path string) (*config.Config, *Parts, error) {
	cfg, err := LoadConfig(path)
	if err != nil {
		return nil, nil, err
	}
	parts, err := Build(cfg, &storeRef{}, metrics.New(), slog.New(slog.DiscardHandler))
	if err != nil {
		return cfg, nil, err
	}
	return cfg, parts, nil
}

// serverTLS loads the HTTP server's certificate and key.
func serverTLS(t config.TLS) (*tls.Config, error) {
	cert, err := os.ReadFile(t.CertFile)
	if err != nil {
		return nil, &config.KeyError{Key: "cert_file", Err: err}
	}
	key, err := os.ReadFile(t.KeyFile)
	if err != nil {
		return nil, &config.KeyError{Key: "key_file", Err: err}
	}
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("%s and %s: %w", t.CertFile, t.KeyFile, err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}, nil
}

// stateDirProblem says why run could not create or write the state
// directory (its nearest existing ancestor decides), without creating it.
func stateDirProblem(dir string) error {
	d := dir
	fi, err := os.Stat(d)
	for errors.Is(err, os.ErrNotExist) && d != filepath.Dir(d) {
		d = filepath.Dir(d)
		fi, err = os.Stat(d)
	}
	switch {
	case err != nil:
		return err
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory", d)
	case syscall.Access(d, 2 /* W_OK */) != nil:
		return fmt.Errorf("%s is not writable", d)
	}
	return nil
}

// kerberosKey names the rt key a Kerberos set-up error is about.
func kerberosKey(err error) string {
	var ke *kerberos.Error
	if errors.As(err, &ke) {
		switch ke.Op {
		case "read krb5.conf":
			return "kerberos.krb5_conf"
		case "read keytab":
			return "kerberos.keytab_file"
		case "read credential cache":
			return "kerberos.ccache"
		}
	}
	return "kerberos"
}

package daemon

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rtbridge/rtbridge/bridge/alerts"
	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/event"
	"github.com/rtbridge/rtbridge/bridge/executor"
	"github.com/rtbridge/rtbridge/bridge/imapsource"
	"github.com/rtbridge/rtbridge/bridge/mailparse"
	"github.com/rtbridge/rtbridge/bridge/metrics"
	"github.com/rtbridge/rtbridge/bridge/mtasource"
	"github.com/rtbridge/rtbridge/bridge/webhook"
	"github.com/rtbridge/rtbridge/rtapi"
	"github.com/rtbridge/rtbridge/rtapi/kerberos"
	"github.com/rtbridge/rtbridge/rtapi/rest2"
	"github.com/rtbridge/rtbridge/rules"
)

// NewLogger builds the slog logger the config asks for; level is shared so
// a reload can change it.
func NewLogger(w io.Writer, c config.Log, level *slog.LevelVar) *slog.Logger {
	level.Set(parseLevel(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func parseLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

// CompileRules compiles the config's rules and templates.
func CompileRules(c *config.Config) (*rules.RuleSet, error) {
	return rules.Compile(rules.Source{File: c.File, Rules: &c.Rules, Templates: &c.Templates, NoMatch: &c.NoMatch})
}

// RTHTTPClient is the HTTP client for RT: the config's TLS settings, and
// every request timed by the metrics (nil m: untimed).
func RTHTTPClient(c config.RT, m *metrics.Metrics) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// Keep a connection per concurrent request: with Go's default of two idle
	// connections per host, every request past the second would open a new
	// connection and cost RT's server an accept and a fresh worker setup.
	tr.MaxIdleConnsPerHost = max(c.MaxConcurrency, 2) + 2
	if c.CAFile != "" || c.InsecureSkipVerify {
		tc := &tls.Config{InsecureSkipVerify: c.InsecureSkipVerify} //nolint:gosec // the operator asked for it
		if c.CAFile != "" {
			pem, err := os.ReadFile(c.CAFile)
			if err != nil {
				return nil, fmt.Errorf("rt.ca_file: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("rt.ca_file: no PEM certificate in %s", c.CAFile)
			}
		}
		tr.TLSClientConfig = tc
	}
	var rt http.RoundTripper = tr
	if m != nil {
		rt = m.InstrumentRT(tr)
	}
	return &http.Client{Transport: rt}, nil
}

// NewRTClient builds the REST 1.0 client of the config (also used by
// operator commands).
func NewRTClient(c config.RT, m *metrics.Metrics, log *slog.Logger) (*rtapi.Client, error) {
	if c.API != "rest1" {
		return nil, fmt.Errorf("rt.api is %q; this needs rest1", c.API)
	}
	hc, auth, err := rtTransport(c, m, log)
	if err != nil {
		return nil, err
	}
	// The executor owns retries (backoff across restarts, the breaker); the
	// client only retries once at once, for a blip.
	return rtapi.New(rtapi.Config{URL: c.URL, Auth: auth, HTTPClient: hc, Logger: log, Timeout: c.Timeout,
		Retry: rtapi.RetryPolicy{Attempts: 2, Initial: 500 * time.Millisecond, Max: 2 * time.Second}})
}

// NewRT builds the executor's RT backend: REST 1.0 or REST2 (rt.api).
func NewRT(c config.RT, m *metrics.Metrics, log *slog.Logger) (executor.RT, error) {
	if c.API != "rest2" {
		return NewRTClient(c, m, log)
	}
	if c.Auth != "token" && c.Auth != "basic" && c.Auth != "kerberos" {
		return nil, fmt.Errorf("rt.api rest2 needs rt.auth token, basic or kerberos (REST2 has no login form); got %q", c.Auth)
	}
	hc, auth, err := rtTransport(c, m, log)
	if err != nil {
		return nil, err
	}
	return rest2.New(rest2.Config{URL: c.URL, Auth: auth, HTTPClient: hc, Logger: log, Timeout: c.Timeout, Attempts: 2})
}

func rtTransport(c config.RT, m *metrics.Metrics, log *slog.Logger) (*http.Client, rtapi.Authenticator, error) {
	hc, err := RTHTTPClient(c, m)
	if err != nil {
		return nil, nil, err
	}
	var auth rtapi.Authenticator
	switch c.Auth {
	case "basic":
		auth = rtapi.NewBasicAuth(c.User, string(c.Password))
	case "query":
		auth = rtapi.NewQueryAuth(c.User, string(c.Password))
	case "cookie":
		auth = rtapi.NewCookieAuth(c.User, string(c.Password))
	case "token":
		auth = rtapi.NewTokenAuth(string(c.Token))
	case "kerberos":
		kc := kerberos.Config{Principal: c.User, Password: string(c.Password), Logger: log}
		if k := c.Kerberos; k != nil {
			kc = kerberos.Config{Krb5Conf: k.Krb5Conf, Principal: k.PrincipalName(), Realm: k.Realm, KeytabFile: k.KeytabFile,
				PasswordFile: k.PasswordFile, CCache: k.CCache, SPN: k.SPN, DisablePAFXFAST: k.DisablePAFXFAST, Logger: log}
		}
		k, err := kerberos.New(kc, c.URL)
		if err != nil {
			return nil, nil, fmt.Errorf("rt kerberos: %w", err)
		}
		auth = k
	default:
		return nil, nil, fmt.Errorf("rt.auth %q unknown", c.Auth)
	}
	return hc, auth, nil
}

// Parse derives an event from its stored bytes, by kind (the executor's
// Parser): a parser fix applies to retries and replays. open returns the
// stored payload: a mail is streamed from it (and its attachments read
// from it again when sent); webhook bodies, bounded when received, are
// read whole.
func Parse(kind event.Kind, open func() (io.ReadCloser, error), meta map[string]string) (*event.Event, error) {
	ev := &event.Event{Kind: kind}
	var err error
	switch kind {
	case event.KindJSON:
		var raw []byte
		if raw, err = readAll(open); err == nil {
			ev.JSON, err = webhook.ParseJSON(raw, meta)
		}
	case event.KindAlertmanager, event.KindGrafana:
		var raw []byte
		if raw, err = readAll(open); err == nil {
			ev.Alert, err = alerts.Parse(kind, raw)
		}
	case event.KindMail:
		ev.Mail, err = parseMail(open, meta)
	default:
		err = fmt.Errorf("unknown event kind %q", kind)
	}
	if err != nil {
		return nil, err
	}
	return ev, nil
}

// readAll reads a (small) payload whole; errors are wrapped so the
// executor sees a storage failure as one.
func readAll(open func() (io.ReadCloser, error)) ([]byte, error) {
	rc, err := open()
	if err != nil {
		return nil, fmt.Errorf("open payload: %w", err)
	}
	defer rc.Close()
	raw, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("read payload: %w", err)
	}
	return raw, nil
}

// parseMail parses a stored mail, streaming it from open. An IMAP source
// that kept only the header of an oversize message says so in meta; the
// mail then carries a problem saying so, which also attaches what was kept.
func parseMail(open func() (io.ReadCloser, error), meta map[string]string) (*event.Mail, error) {
	m, err := mailparse.Parse(open)
	if err != nil {
		return nil, err
	}
	m.Delivery = mtasource.DeliveryOf(meta)
	if size := meta[imapsource.MetaOversize]; size != "" {
		m.ParseProblems = append(m.ParseProblems, fmt.Sprintf(
			"the message (%s bytes) is larger than max_message_bytes (%s): only its header was kept; the full message stays in the mailbox",
			oneToken(size), oneToken(meta[imapsource.MetaLimit])))
	}
	return m, nil
}

// oneToken keeps a meta value to the digits it should be.
func oneToken(s string) string {
	if _, err := strconv.ParseInt(s, 10, 64); err != nil {
		return "?"
	}
	return s
}

var _ executor.RuleSet = (*rules.RuleSet)(nil)

// probeRT asks RT's REST root with a short timeout: any answer from RT
// (even "401 Credentials required") means reachable; no answer or a 5xx
// (a proxy's error page) means not.
func probeRT(ctx context.Context, hc *http.Client, base string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	u := strings.TrimSuffix(base, "/")
	if !strings.HasSuffix(u, "/REST/1.0") {
		u += "/REST/1.0"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u+"/", nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("RT unreachable: %w", err)
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode >= 500 {
		return fmt.Errorf("RT answered HTTP %d", resp.StatusCode)
	}
	return nil
}

package daemon

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/executor"
	"github.com/rtbridge/rtbridge/bridge/metrics"
	"github.com/rtbridge/rtbridge/rtapi"
	"github.com/rtbridge/rtbridge/rtapi/kerberos"
	"github.com/rtbridge/rtbridge/rtapi/rest2"
	"github.com/rtbridge/rtbridge/rules"
)

// NewLogger builds the slog logger the config asks for, with every control
// character in a record's text replaced; level is shared so a reload can
// change it.
func NewLogger(w io.Writer, c config.Log, level *slog.LevelVar) *slog.Logger {
	level.Set(parseLevel(c.Level))
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if c.Format == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	// No attribute can put a control character in the log (logsafe.go).
	return slog.New(safeHandler{h})
}

func parseLevel(s string) slog.Level {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return slog.LevelInfo
	}
	return l
}

// LoadConfig is config.Load for run, check and reload. When the file has
// problems, the rules are compiled too and their problems added, so that
// one attempt reports every problem; a rule's source is then not checked,
// as the list of sources may be incomplete.
func LoadConfig(path string) (*config.Config, error) {
	c, err := config.Load(path)
	if err != nil && c != nil {
		if _, rerr := rules.Compile(rulesOf(c)); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	if err != nil {
		return nil, err
	}
	return c, nil
}

// CompileRules compiles the config's rules and templates; a rule's
// `source:` must name a configured source.
func CompileRules(c *config.Config) (*rules.RuleSet, error) {
	src := rulesOf(c)
	src.Sources = c.SourceNames()
	src.Deliver, src.GatewayProblem = c.MailDeliver(), c.RT.GatewayProblem()
	return rules.Compile(src)
}

func rulesOf(c *config.Config) rules.Source {
	return rules.Source{File: c.File, Rules: &c.Rules, Templates: &c.Templates, NoMatch: &c.NoMatch}
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
			pool, err := config.LoadCertPool(c.CAFile)
			if err != nil {
				return nil, &config.KeyError{Key: "ca_file", Err: err}
			}
			tc.RootCAs = pool
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
	if err := c.CheckAPIAuth(); err != nil {
		return nil, &config.KeyError{Key: "auth", Err: err}
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
				Password: string(k.Password), CCache: k.CCache, SPN: k.SPN, DisablePAFXFAST: k.DisablePAFXFAST, Logger: log}
		}
		k, err := kerberos.New(kc, c.URL)
		if err != nil {
			key := "auth"
			if c.Kerberos != nil {
				key = kerberosKey(err)
			}
			return nil, nil, &config.KeyError{Key: key, Err: err}
		}
		auth = k
	default:
		return nil, nil, fmt.Errorf("rt.auth %q unknown", c.Auth)
	}
	return hc, auth, nil
}

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

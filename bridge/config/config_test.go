package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testEnv(name string) (string, bool) {
	switch name {
	case "CREDENTIALS_DIRECTORY":
		abs, _ := filepath.Abs("testdata")
		return abs, true
	case "CI_PASSWORD":
		return "ci-pass-from-env", true
	}
	return "", false
}

func TestLoadGood(t *testing.T) {
	c, err := load("testdata/good.yaml", testEnv, false)
	if err != nil {
		t.Fatal(err)
	}
	if c.RT.Password != "rt-pass" || c.RT.Timeout != DefaultRTTimeout || c.RT.API != "rest1" {
		t.Errorf("rt = %+v", c.RT)
	}
	if want, _ := filepath.Abs("testdata/state"); c.State.Dir != want && c.State.Dir != "testdata/state" {
		t.Errorf("state.dir = %q", c.State.Dir)
	}
	if c.Log.Format != "json" || c.HTTP.Listen != "127.0.0.1:9090" || c.HTTP.MaxBodyBytes != DefaultMaxBodyBytes {
		t.Errorf("log/http = %+v %+v", c.Log, c.HTTP)
	}
	if len(c.Webhooks) != 3 {
		t.Fatalf("webhooks = %d", len(c.Webhooks))
	}
	if w := c.Webhooks[0]; w.Auth.Bearer.Token != "hook-secret" || w.Kind != KindJSON || w.MaxBodyBytes != DefaultMaxBodyBytes {
		t.Errorf("webhook 0 = %+v", w)
	}
	if !c.Webhooks[1].Auth.None || c.Webhooks[1].Auth.Method() != "none" {
		t.Errorf("webhook 1 auth = %+v", c.Webhooks[1].Auth)
	}
	if b := c.Webhooks[2].Auth.Basic; b.Username != "ci" || b.Password != "ci-pass-from-env" {
		t.Errorf("webhook 2 basic = %+v", b)
	}
	e := c.Executor
	if e.Workers != 2 || e.MaxAge != 2*time.Hour || e.Backoff.Initial != time.Second || e.Backoff.Max != time.Minute || e.MaxAttempts != DefaultMaxAttempts {
		t.Errorf("executor = %+v", e)
	}
	if c.Rules.Kind == 0 || c.Rules.Line != 34 {
		t.Errorf("rules node kind %v line %d", c.Rules.Kind, c.Rules.Line)
	}
}

// One fixture per problem, each asserted on the exact message.
func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"unknown-key", []string{`testdata/unknown-key.yaml:6:3: http.lisen: unknown key "lisen" in http (known: listen, tls, max_body_bytes, shutdown_timeout, limits, admin_listen, admin_auth)`}},
		{"unknown-top", []string{`testdata/unknown-top.yaml:2:1: webhook: unknown key "webhook" at the top level (known: rt, state, log, http, webhooks, executor, imap, mta, rules, templates, no_match)`}},
		{"bad-duration", []string{`testdata/bad-duration.yaml:1:57: rt.timeout: invalid duration (use e.g. 500ms, 30s, 5m, 2h, 7d, 1w)`}},
		{"no-auth", []string{`testdata/no-auth.yaml:3:5: webhooks[0].auth: required: one of bearer, basic, hmac (write "auth: none" to accept unauthenticated requests)`}},
		{"auth-scalar", []string{`testdata/auth-scalar.yaml:5:11: webhooks[0].auth: must be "none" or a mapping with one of bearer, basic, hmac`,
			`testdata/auth-scalar.yaml:5:11: webhooks[0].auth: required: one of bearer, basic, hmac (write "auth: none" to accept unauthenticated requests)`}},
		{"both-secret", []string{`testdata/both-secret.yaml:5:15: rt.token_file: token and token_file are mutually exclusive`}},
		{"missing-env", []string{`testdata/missing-env.yaml:4:10: rt.token: environment variable RT_TOKEN_NOT_SET is not set`,
			`testdata/missing-env.yaml:3:9: rt.auth: token needs rt.token or rt.token_file`}},
		{"missing-file", []string{`testdata/missing-file.yaml:4:15: rt.token_file: open testdata/nope.txt: no such file or directory`,
			`testdata/missing-file.yaml:3:9: rt.auth: token needs rt.token or rt.token_file`}},
		{"empty-file", []string{`testdata/empty-file.yaml:4:15: rt.token_file: file testdata/empty.txt is empty`,
			`testdata/empty-file.yaml:3:9: rt.auth: token needs rt.token or rt.token_file`}},
		{"dup-webhook", []string{
			`testdata/dup-webhook.yaml:4:12: webhooks[1].name: "a" is used by another webhook`,
			`testdata/dup-webhook.yaml:4:21: webhooks[1].path: /a is used by another webhook`,
			`testdata/dup-webhook.yaml:5:21: webhooks[2].path: /metrics is served by rtbridge itself`,
			`testdata/dup-webhook.yaml:5:37: webhooks[2].kind: must be json, alertmanager or grafana; got "xml"`}},
		{"many", []string{
			`testdata/many.yaml:2:8: rt.url: must be an http:// or https:// URL; got "ftp://rt/"`,
			`testdata/many.yaml:3:9: rt.auth: must be one of basic, query, cookie, token, kerberos; got "magic"`,
			`testdata/many.yaml:5:10: log.level: must be one of debug, info, warn, error; got "loud"`,
			`testdata/many.yaml:6:11: log.format: must be text or json; got "xml"`,
			`testdata/many.yaml:8:12: executor.workers: must be at least 1 (leave it out for the default)`,
			`testdata/many.yaml:9:23: executor.breaker.failures: must be at least 1 (leave it out for the default)`,
			`testdata/many.yaml:10:31: executor.backoff.max: must not be below backoff.initial (1m0s)`}},
		{"wrong-shape", []string{
			`testdata/wrong-shape.yaml:1:70: rt.insecure_skip_verify: expected true or false`,
			`testdata/wrong-shape.yaml:3:3: webhooks: expected a list, got a mapping`,
			`testdata/wrong-shape.yaml:5:12: executor.workers: expected a whole number`}},
		{"no-creds-dir", []string{`testdata/no-creds-dir.yaml:4:15: rt.token_file: environment variable CREDENTIALS_DIRECTORY is not set (it is set by systemd for units with LoadCredential=)`,
			`testdata/no-creds-dir.yaml:3:9: rt.auth: token needs rt.token or rt.token_file`}},
	} {
		t.Run(tc.file, func(t *testing.T) {
			lookup := testEnv
			if tc.file == "no-creds-dir" {
				lookup = func(string) (string, bool) { return "", false }
			}
			_, err := load("testdata/"+tc.file+".yaml", lookup, false)
			if err == nil {
				t.Fatal("loaded without error")
			}
			got := strings.Split(err.Error(), "\n")
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.Line == 0 {
				t.Errorf("errors.As(*Error) = %v, %+v", errors.As(err, &ce), ce)
			}
		})
	}
}

// A printed, marshalled or logged config shows no secret.
func TestConfigLeaksNoSecret(t *testing.T) {
	c, err := load("testdata/good.yaml", testEnv, false)
	if err != nil {
		t.Fatal(err)
	}
	c.RT.Token = "rt-token-value"
	c.Webhooks[2].Auth.HMAC = &HMACAuth{Header: "X-Sig", Secret: "hmac-secret-value"}
	secrets := []string{"rt-pass", "hook-secret", "ci-pass-from-env", "rt-token-value", "hmac-secret-value"}
	var logged strings.Builder
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("config", "rt", c.RT, "pw", c.RT.Password, "hooks", c.Webhooks)
	slog.New(slog.NewTextHandler(&logged, nil)).Info("config", "pw", c.RT.Password, "c", c)
	js, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"%v": fmt.Sprintf("%v", c), "%+v": fmt.Sprintf("%+v", c), "%#v": fmt.Sprintf("%#v", c),
		"%s secret": fmt.Sprintf("%s %v %q", c.RT.Password, c.Webhooks[0].Auth.Bearer, c.Webhooks[2].Auth.Basic),
		"yaml":      c.Redacted(), "json": string(js), "slog": logged.String(),
	}
	for name, out := range outputs {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s output contains secret %q:\n%s", name, s, out)
			}
		}
	}
	if !strings.Contains(c.Redacted(), "password: <secret>") {
		t.Errorf("redacted yaml does not show <secret>:\n%s", c.Redacted())
	}
}

func TestExpand(t *testing.T) {
	d := &decoder{lookup: func(n string) (string, bool) { return "v-" + n, n != "UNSET" }}
	for in, want := range map[string]string{
		"plain $dollar":   "plain $dollar",
		"${A}/x/${B}":     "v-A/x/v-B",
		"lit $${A} ${B}":  "lit ${A} v-B",
		"pa$$word":        "pa$$word",
		"${CREDENTIALS}/": "v-CREDENTIALS/",
	} {
		got, err := d.expand(in)
		if err != nil || got != want {
			t.Errorf("expand(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := d.expand("${UNSET}"); err == nil {
		t.Error("unset variable expanded without error")
	}
	if _, err := d.expand("${OPEN"); err == nil {
		t.Error("unterminated ${ accepted")
	}
}

// Operator commands load the config without the secrets (no
// $CREDENTIALS_DIRECTORY in an operator's shell).
func TestLoadForOps(t *testing.T) {
	none := func(string) (string, bool) { return "", false }
	c, err := load("testdata/no-creds-dir.yaml", none, true)
	if err != nil {
		t.Fatal(err)
	}
	if c.RT.Token != "" || c.State.Dir != DefaultStateDir {
		t.Errorf("rt %+v state %+v", c.RT, c.State)
	}
	if _, err := load("testdata/unknown-key.yaml", none, true); err == nil {
		t.Error("unknown key accepted by LoadForOps")
	}
}

// REST2 has no login form: its default login is basic, not cookie.
func TestRest2DefaultAuth(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("rt: { url: 'https://rt/', api: rest2, user: u, password: p }\n"), 0o600)
	c, err := load(path, testEnv, false)
	if err != nil || c.RT.Auth != "basic" {
		t.Fatalf("auth %q, %v", c.RT.Auth, err)
	}
}

// TestShapeErrorsNeverEchoValues: a secret written where a mapping, a
// number or a duration belongs is not repeated in the error, and durations
// take Prometheus' units too.
func TestShapeErrorsNeverEchoValues(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	body := "rt:\n  url: http://127.0.0.1:18080/\n  auth: token\n  token: t\n  timeout: SuperSecretTok3\n" +
		"executor:\n  workers: SuperSecretTok4\n  max_age: 7d\n" +
		"webhooks:\n  - name: h\n    path: /h\n    auth: { bearer: 'SuperSecretTok' }\n"
	os.WriteFile(path, []byte(body), 0o600)
	_, err := Load(path)
	if err == nil {
		t.Fatal("loaded")
	}
	if strings.Contains(err.Error(), "SuperSecretTok") {
		t.Errorf("error echoes a value:\n%v", err)
	}
	for _, want := range []string{"expected a mapping, got a single value", "rt.timeout: invalid duration", "executor.workers: expected a whole number"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "max_age") {
		t.Errorf("7d refused:\n%v", err)
	}
}

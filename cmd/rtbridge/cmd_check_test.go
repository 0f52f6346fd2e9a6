package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"

	"github.com/rtbridge/rtbridge/bridge/daemon"
)

// checkBase is a config `run` starts with: nothing it names is reachable
// (RT on port 9, IMAP on port 1), which only matters once it runs.
const checkBase = `rt:
  url: http://127.0.0.1:9/
  auth: token
  token_file: rt-token
state:
  dir: state
http:
  listen: 127.0.0.1:0
webhooks:
  - name: grafana
    path: /hooks/grafana
    kind: grafana
    auth:
      hmac:
        style: grafana
        header: X-Grafana-Alerting-Signature
        timestamp_header: X-Grafana-Alerting-Signature-Timestamp
        secret_file: hmac-secret
imap:
  - name: support
    address: 127.0.0.1:1
    tls: none
    allow_plaintext: true
    username: bridge
    password_file: imap.pass
    folders: [INBOX]
    disposition: seen
rules:
  - name: alerts
    when: { source: grafana }
    do: [ { create: { queue: General } } ]
  - name: mail
    when: { source: support/INBOX }
    do: [ { create: { queue: General } } ]
`

// checkCases are the misconfigurations `check` once called ok although
// `run` refused them or ran wrongly, and a YAML syntax error; each changes
// the base in one place.
// at is the text the problem must be reported at (FILE:LINE:COL of its
// first character) and key what the message names there.
var checkCases = []struct {
	name, old, new, at, key string
}{
	{"imap unknown key username", "    username: bridge", "    usernme: bridge", "usernme", `imap[0].usernme: unknown key "usernme"`},
	{"imap unknown key folders", "    folders: [INBOX]", "    foldrs: [INBOX]", "foldrs", `imap[0].foldrs: unknown key "foldrs"`},
	{"imap tls bogus", "tls: none", "tls: bogus", "bogus", "imap[0].tls: must be implicit, starttls or none"},
	{"imap disposition shred", "disposition: seen", "disposition: shred", "shred", "imap[0].disposition: must be seen, delete"},
	{"imap disposition move without folder", "disposition: seen", `disposition: "move:"`, `"move:"`, "imap[0].disposition: move needs a folder"},
	{"imap address without port", "address: 127.0.0.1:1", "address: 127.0.0.1", "127.0.0.1\n", "imap[0].address: must be host:port"},
	{"imap missing password_file", "password_file: imap.pass", "password_file: nope.pass", "nope.pass", "imap[0].password_file: open "},
	{"imap missing ca_file", "    disposition: seen", "    disposition: seen\n    ca_file: nope-ca.pem", "nope-ca.pem", "imap[0].ca_file: open "},
	{"hmac style nonsense", "style: grafana", "style: nonsense", "nonsense", "webhooks[0].auth.hmac.style: must be github or grafana"},
	{"hmac github with timestamp", "style: grafana", "style: github", "X-Grafana-Alerting-Signature-Timestamp", "webhooks[0].auth.hmac.timestamp_header: the github style signs no timestamp"},
	{"rest2 with cookie auth", "  auth: token\n  token_file: rt-token", "  api: rest2\n  auth: cookie\n  user: u\n  password: p", "cookie", "rt.auth: rt.api rest2 needs rt.auth token, basic or kerberos"},
	{"missing rt ca_file", "  token_file: rt-token", "  token_file: rt-token\n  ca_file: nope-ca.pem", "nope-ca.pem", "rt.ca_file: open "},
	{"missing http tls cert", "  listen: 127.0.0.1:0", "  listen: 127.0.0.1:0\n  tls: { cert_file: nope-cert.pem, key_file: key.pem }", "nope-cert.pem", "http.tls.cert_file: open "},
	{"missing http tls key", "  listen: 127.0.0.1:0", "  listen: 127.0.0.1:0\n  tls: { cert_file: cert.pem, key_file: nope-key.pem }", "nope-key.pem", "http.tls.key_file: open "},
	{"missing kerberos keytab", "  auth: token\n  token_file: rt-token", "  auth: kerberos\n  kerberos: { krb5_conf: krb5.conf, principal: bridge@EXAMPLE.ORG, keytab_file: nope.keytab }", "nope.keytab", "rt.kerberos.keytab_file: kerberos: configuration (read keytab"},
	{"missing kerberos password_file", "  auth: token\n  token_file: rt-token", "  auth: kerberos\n  kerberos: { krb5_conf: krb5.conf, principal: bridge@EXAMPLE.ORG, password_file: nope.pass }", "nope.pass", "rt.kerberos.password_file: open "},
	{"rule source not configured", "when: { source: grafana }", "when: { source: grafna }", "grafna", `rule "alerts": source: unknown source "grafna" (did you mean "grafana"?)`},
	{"state dir under a file", "  dir: state", "  dir: rt-token/state", "rt-token/state", "state.dir: "},
	{"yaml syntax error", "disposition: seen", "disposition: move: Done", ": Done", "mapping values are not allowed in this context"},
}

func writeCheckConfig(t *testing.T, text string) string {
	t.Helper()
	return writeCheckConfigIn(t, t.TempDir(), text)
}

func writeCheckConfigIn(t *testing.T, dir, text string) string {
	t.Helper()
	for name, content := range map[string]string{"rt-token": "t\n", "hmac-secret": "s\n", "imap.pass": "p\n",
		"cert.pem": "not used: the key is missing\n", "krb5.conf": "[libdefaults]\n  default_realm = EXAMPLE.ORG\n"} {
		writeFile(t, filepath.Join(dir, name), content)
	}
	path := filepath.Join(dir, "config.yaml")
	writeFile(t, path, text)
	return path
}

// runDaemon starts the daemon on path and reports its start-up error, or
// nil once it listened (it is then stopped).
func runDaemon(t *testing.T, path string) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	listening := make(chan string, 1)
	go func() {
		done <- daemon.Run(ctx, daemon.Options{ConfigPath: path, LogOutput: io.Discard, Version: "test",
			Listening: func(addr string) { listening <- addr }})
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("daemon ended without an error before it listened")
		}
		return err
	case <-listening:
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("daemon stop: %v", err)
		}
		return nil
	case <-time.After(30 * time.Second):
		t.Fatal("daemon neither started nor failed in 30s")
	}
	return nil
}

// TestCheckAgreesWithRun: for each misconfiguration, `check` exits 1 and
// the daemon refuses to start, both with the same problems, the expected
// one at its FILE:LINE:COL; the base config passes both.
func TestCheckAgreesWithRun(t *testing.T) {
	path := writeCheckConfig(t, checkBase)
	var out, errb bytes.Buffer
	if code := dispatch(context.Background(), []string{"check", "--config", path}, &out, &errb); code != 0 {
		t.Fatalf("check of the base config: exit %d\n%s", code, errb.String())
	}
	if err := runDaemon(t, path); err != nil {
		t.Fatalf("daemon refused the base config: %v", err)
	}
	for _, tc := range checkCases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(checkBase, tc.old) {
				t.Fatalf("base lacks %q", tc.old)
			}
			text := strings.Replace(checkBase, tc.old, tc.new, 1)
			path := writeCheckConfig(t, text)
			want := fmt.Sprintf("%s:%s %s", path, position(text, tc.at), tc.key)

			var out, errb bytes.Buffer
			if code := dispatch(context.Background(), []string{"check", "--config", path}, &out, &errb); code != 1 {
				t.Fatalf("check: exit %d, want 1\n%s%s", code, out.String(), errb.String())
			}
			checkLines := strings.Split(strings.TrimSpace(errb.String()), "\n")
			if n := strings.Count(errb.String(), want); !strings.HasPrefix(checkLines[0], want) || n != 1 {
				t.Errorf("check said:\n%s\nwant it first and once: %s", errb.String(), want)
			}
			err := runDaemon(t, path)
			if runLines := strings.Split(err.Error(), "\n"); strings.Join(runLines, "\n") != strings.Join(checkLines, "\n") {
				t.Errorf("run said:\n%s\ncheck said:\n%s", err, errb.String())
			}
		})
	}
}

// position is "LINE:COL:" of the first occurrence of at in text.
func position(text, at string) string {
	i := strings.Index(text, at)
	return fmt.Sprintf("%d:%d:", strings.Count(text[:i], "\n")+1, i-strings.LastIndex(text[:i], "\n"))
}

// TestReloadAgreesWithCheck: a reload refuses each misconfiguration that
// check refuses, naming the same position, and keeps running.
func TestReloadAgreesWithCheck(t *testing.T) {
	dir := t.TempDir()
	path := writeCheckConfigIn(t, dir, checkBase)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	reload := make(chan os.Signal, 1)
	logs := &testenv.LogBuffer{}
	listening := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- daemon.Run(ctx, daemon.Options{ConfigPath: path, LogOutput: logs, Reload: reload, Version: "test",
			Listening: func(addr string) { listening <- addr }})
	}()
	select {
	case <-listening:
	case err := <-done:
		t.Fatalf("daemon: %v", err)
	}
	for _, tc := range checkCases {
		text := strings.Replace(checkBase, tc.old, tc.new, 1)
		writeFile(t, path, text)
		want := path + ":" + position(text, tc.at) // the log quotes the rest
		before := strings.Count(logs.String(), "reload failed")
		reload <- syscall.SIGHUP
		deadline := time.Now().Add(10 * time.Second)
		for strings.Count(logs.String(), "reload failed") == before && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if tail := logs.String(); !strings.Contains(tail[strings.LastIndex(tail, "reloading configuration"):], want) {
			t.Errorf("%s: reload did not fail at %s:\n%s", tc.name, want, tail[strings.LastIndex(tail, "reloading configuration"):])
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("daemon stop: %v", err)
	}
}

// check --json reports the same problems as data.
func TestCheckJSON(t *testing.T) {
	path := writeCheckConfig(t, strings.Replace(checkBase, "tls: none", "tls: bogus", 1))
	var out, errb bytes.Buffer
	if code := dispatch(context.Background(), []string{"check", "--json", "--config", path}, &out, &errb); code != 1 {
		t.Fatalf("exit %d", code)
	}
	var r checkReport
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v in %s", err, out.String())
	}
	if r.OK || len(r.Errors) != 1 || r.Errors[0].Key != "imap[0].tls" || r.Errors[0].Line != 22 || r.Errors[0].Col != 10 || errb.Len() != 0 {
		t.Errorf("report %+v, stderr %q", r, errb.String())
	}
	path = writeCheckConfig(t, checkBase)
	out.Reset()
	if code := dispatch(context.Background(), []string{"check", "--json", "--config", path}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	r = checkReport{}
	json.Unmarshal(out.Bytes(), &r)
	if !r.OK || r.Rules != 2 || strings.Join(r.Sources, ",") != "grafana,support/INBOX" || len(r.Errors) != 0 {
		t.Errorf("report %+v", r)
	}
}

// `rtbridge test` reads no secret, so it works on config.example.yaml
// without $CREDENTIALS_DIRECTORY.
func TestTestNeedsNoSecrets(t *testing.T) {
	t.Setenv("CREDENTIALS_DIRECTORY", "")
	os.Unsetenv("CREDENTIALS_DIRECTORY")
	var out, errb bytes.Buffer
	code := dispatch(context.Background(), []string{"test", "--config", "../../config.example.yaml", "--source", "support/INBOX",
		"../../rules/testdata/events/support-new.eml"}, &out, &errb)
	if code != 0 || !strings.Contains(out.String(), `"rule": "mail to the support box"`) {
		t.Fatalf("exit %d\n%s%s", code, out.String(), errb.String())
	}
}

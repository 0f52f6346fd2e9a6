package daemon

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// startAdmin starts the daemon and returns the webhook and admin
// listeners' addresses (admin "" when the config has no admin_listen).
func startAdmin(t *testing.T, cfgPath string) (*running, string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{reload: make(chan os.Signal, 1), cancel: cancel, done: make(chan error, 1), log: &testenv.LogBuffer{}}
	addr, admin := make(chan string, 1), make(chan string, 1)
	go func() {
		r.done <- Run(ctx, Options{ConfigPath: cfgPath, Reload: r.reload, LogOutput: r.log, Version: "test",
			Listening: func(a string) { addr <- a }, AdminListening: func(a string) { admin <- a }})
	}()
	select {
	case r.addr = <-addr:
	case err := <-r.done:
		t.Fatalf("daemon did not start: %v\n%s", err, r.log)
	case <-time.After(20 * time.Second):
		t.Fatalf("daemon did not start in 20s\n%s", r.log)
	}
	t.Cleanup(func() { r.stop(t) })
	select {
	case a := <-admin:
		return r, a
	default:
		return r, ""
	}
}

// request does one request; auth is the Authorization header ("": none).
func request(t *testing.T, method, url, auth, body string) (int, http.Header, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(b)
}

var adminPaths = []string{"/metrics", "/status", "/healthz", "/readyz"}

// The admin endpoints on http.admin_listen: refused without the bearer
// token (or with a wrong one), served with it, gone from the webhook
// listener; a reload rotates the token; no secret shows in /status or
// /metrics.
func TestAdminListener(t *testing.T) {
	dir := t.TempDir()
	secrets := map[string]string{"rt-token": "rt-secret-value", "hook-token": "hook-secret-value", "admin-token": "admin-secret-value"}
	for n, v := range secrets {
		os.WriteFile(filepath.Join(dir, n), []byte(v+"\n"), 0o600)
	}
	cfgPath := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`rt: { url: "http://127.0.0.1:9/", auth: token, token_file: rt-token }
state: { dir: state }
http:
  listen: "127.0.0.1:0"
  admin_listen: "127.0.0.1:0"
  admin_auth: { bearer: { token_file: admin-token } }
webhooks:
  - { name: deploys, path: /hooks/deploy, auth: { bearer: { token_file: hook-token } } }
rules:
%s`, createRule)), 0o600)
	r, admin := startAdmin(t, cfgPath)
	if admin == "" || admin == r.addr {
		t.Fatalf("admin listener %q (webhooks on %s)", admin, r.addr)
	}
	good := "Bearer admin-secret-value"
	for _, p := range adminPaths {
		for _, auth := range []string{"", "Bearer wrong", "Bearer hook-secret-value", "Basic YWRtaW46YWRtaW4="} {
			code, hdr, body := request(t, "GET", "http://"+admin+p, auth, "")
			if code != http.StatusUnauthorized || hdr.Get("WWW-Authenticate") != `Bearer realm="rtbridge"` {
				t.Errorf("admin %s with %q: %d %q %s", p, auth, code, hdr.Get("WWW-Authenticate"), body)
			}
			if strings.Contains(body, "rtbridge_") || strings.Contains(body, "queue") {
				t.Errorf("admin %s with %q answered content: %s", p, auth, body)
			}
		}
		if code, _, body := request(t, "GET", "http://"+admin+p, good, ""); code != http.StatusOK {
			t.Errorf("admin %s with the token: %d %s", p, code, body)
		}
		// The webhook listener no longer serves it, with or without the token.
		if code, _, body := request(t, "GET", "http://"+r.addr+p, good, ""); code != http.StatusNotFound {
			t.Errorf("webhook listener %s: %d %s", p, code, body)
		}
	}
	if code, _, body := request(t, "POST", "http://"+r.addr+"/hooks/deploy", "Bearer hook-secret-value", `{"subject":"x","n":1}`); code != http.StatusAccepted {
		t.Errorf("webhook: %d %s", code, body)
	}
	if code, _, _ := request(t, "POST", "http://"+admin+"/hooks/deploy", "Bearer hook-secret-value", `{"subject":"x","n":1}`); code == http.StatusAccepted {
		t.Error("the admin listener accepted a webhook")
	}
	_, _, status := request(t, "GET", "http://"+admin+"/status", good, "")
	_, _, metrics := request(t, "GET", "http://"+admin+"/metrics", good, "")
	for _, v := range secrets {
		for name, text := range map[string]string{"status": status, "metrics": metrics, "log": r.log.String()} {
			if strings.Contains(text, v) {
				t.Errorf("%s shows the secret %q", name, v)
			}
		}
	}
	if !strings.Contains(r.log.String(), `msg="admin request not authenticated"`) {
		t.Error("refused admin requests not logged")
	}

	// A rotated admin token takes effect on reload, without a restart warning.
	os.WriteFile(filepath.Join(dir, "admin-token"), []byte("rotated-admin-value\n"), 0o600)
	r.reload <- nil
	waitFor(t, "rotated admin token", r, func() bool {
		code, _, _ := request(t, "GET", "http://"+admin+"/healthz", "Bearer rotated-admin-value", "")
		return code == http.StatusOK
	})
	if code, _, _ := request(t, "GET", "http://"+admin+"/metrics", good, ""); code != http.StatusUnauthorized {
		t.Errorf("old admin token after the rotation: %d", code)
	}
	if strings.Contains(r.log.String(), "take effect only after a restart") {
		t.Errorf("rotating the admin token asked for a restart:\n%s", r.log)
	}
}

// Without admin_listen, http.admin_auth guards the admin endpoints on the
// webhook listener (here Basic), and the webhooks keep their own auth.
func TestAdminAuthOnWebhookListener(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "rt-token"), []byte("unused\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "admin-password"), []byte("pw\n"), 0o600)
	cfgPath := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfgPath, []byte(fmt.Sprintf(`rt: { url: "http://127.0.0.1:9/", auth: token, token_file: rt-token }
state: { dir: state }
http:
  listen: "127.0.0.1:0"
  admin_auth: { basic: { username: prometheus, password_file: admin-password } }
webhooks:
  - { name: deploys, path: /hooks/deploy, auth: none }
rules:
%s`, createRule)), 0o600)
	r, admin := startAdmin(t, cfgPath)
	if admin != "" {
		t.Fatalf("an admin listener without admin_listen: %s", admin)
	}
	for _, p := range adminPaths {
		code, hdr, _ := request(t, "GET", "http://"+r.addr+p, "", "")
		if code != http.StatusUnauthorized || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("%s without credentials: %d %q", p, code, hdr.Get("WWW-Authenticate"))
		}
		req, _ := http.NewRequest("GET", "http://"+r.addr+p, nil)
		req.SetBasicAuth("prometheus", "pw")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s with credentials: %d", p, resp.StatusCode)
		}
	}
	if code, _, body := request(t, "POST", "http://"+r.addr+"/hooks/deploy", "", `{"subject":"x","n":1}`); code != http.StatusAccepted {
		t.Errorf("webhook: %d %s", code, body)
	}
}

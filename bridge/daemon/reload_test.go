package daemon

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Reload without RT (it is never contacted here): a file that fails to
// load leaves the running endpoints and secrets in place; a good one
// swaps them (a rotated webhook token takes effect).
func TestReloadKeepsOldConfigOnInvalidFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "rt-token"), []byte("unused\n"), 0o600)
	write := func(token, extra string) string {
		os.WriteFile(filepath.Join(dir, "hook-token"), []byte(token+"\n"), 0o600)
		cfg := fmt.Sprintf(`rt: { url: "http://127.0.0.1:9/", auth: token, token_file: rt-token }
state: { dir: state }
http: { listen: "127.0.0.1:0" }
webhooks:
  - { name: deploys, path: /hooks/deploy, auth: { bearer: { token_file: hook-token } } }
rules:
%s%s`, createRule, extra)
		p := filepath.Join(dir, "config.yaml")
		os.WriteFile(p, []byte(cfg), 0o600)
		return p
	}
	r := start(t, write("first-token", ""))
	post := func(token string) int {
		req, _ := http.NewRequest("POST", "http://"+r.addr+"/hooks/deploy", strings.NewReader(`{"subject":"x","n":1}`))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if c := post("first-token"); c != 202 {
		t.Fatalf("first token: %d", c)
	}
	for _, bad := range []string{
		"  - name: broken\n    when: { nonsense: 1 }\n    do: [ { ignore: x } ]\n", // rules do not compile
		"surprise: 1\n", // unknown key
	} {
		write("second-token", bad)
		r.reload <- nil
		n := strings.Count(bad, "surprise") + 1 // failures so far
		waitFor(t, "failed reload", r, func() bool {
			_, m := r.get(t, "/metrics")
			return strings.Contains(m, fmt.Sprintf(`rtbridge_config_reloads_total{result="failure"} %d`, n))
		})
		if c := post("first-token"); c != 202 {
			t.Errorf("old token after a failed reload: %d", c)
		}
	}
	write("second-token", "")
	r.reload <- nil
	waitFor(t, "good reload", r, func() bool {
		_, m := r.get(t, "/metrics")
		return strings.Contains(m, `rtbridge_config_reloads_total{result="success"} 2`)
	})
	if c := post("first-token"); c != 401 {
		t.Errorf("old token after the rotation: %d", c)
	}
	if c := post("second-token"); c != 202 {
		t.Errorf("new token: %d", c)
	}
	if !strings.Contains(r.log.String(), "reload failed; keeping the running configuration") {
		t.Error("failed reload not logged")
	}
	// RT is unreachable: intake is still ready; /status says RT is down.
	if code, body := r.get(t, "/readyz"); code != 200 {
		t.Errorf("readyz with RT unreachable: %d %s", code, body)
	}
	waitFor(t, "RT down in /status", r, func() bool {
		_, body := r.get(t, "/status")
		return strings.Contains(body, `"up": false`) && strings.Contains(body, "RT unreachable")
	})
}

package e2e_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/bridge/daemon"
)

// What RT's mail gateway cannot do is refused when the config is loaded,
// positioned in the file: `rtbridge check` and `run` (and a reload) share
// daemon.Check's loader and Build. No server is needed.
func TestGatewayRulesRefusedByCheck(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		name, auth, mta, rules string
		want                   []string
	}{
		{"rt.auth cannot reconcile", "cookie", "", `
  - name: mail via the gateway
    when: { kind: mail }
    deliver: gateway
    do: [ { create: { queue: General } } ]`, []string{"rtbridge.yaml:13:14", "rt.auth token, basic or kerberos"}},
		{"not only mail", "token", "", `
  - name: anything via the gateway
    deliver: gateway
    do: [ { create: { queue: General } } ]`, []string{"rtbridge.yaml:12:14", "not mail"}},
		{"inherited from mta.deliver", "token", "  deliver: gateway\n", `
  - name: mail with a subject
    when: { kind: mail }
    do: [ { create: { queue: General, subject: x } } ]`, []string{"rtbridge.yaml:14:13", `source "mta"`, "cannot apply create subject"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-"), "rtbridge.yaml")
			os.MkdirAll(filepath.Dir(path), 0o700)
			cfg := `rt:
  url: http://127.0.0.1:1/
  auth: ` + tc.auth + `
  user: bridge
  password: secret
  token: "1-2-abc"
state: { dir: ` + filepath.Join(filepath.Dir(path), "state") + ` }
mta:
  mailgate: { socket: ` + filepath.Join(filepath.Dir(path), "mg.sock") + ` }
` + tc.mta + `rules:` + tc.rules + "\n"
			if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
				t.Fatal(err)
			}
			_, _, err := daemon.Check(path)
			if err == nil {
				t.Fatalf("check accepted:\n%s", cfg)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v\nconfig:\n%s", w, err, cfg)
				}
			}
		})
	}
}

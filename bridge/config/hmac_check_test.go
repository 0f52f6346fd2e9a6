package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestGrafanaHMACNeedsTimestamp(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte(`rt: {url: "https://rt.example.com/", auth: token, token: t}
webhooks:
  - name: grafana
    path: /hooks/grafana
    kind: grafana
    auth:
      hmac:
        header: X-Grafana-Alerting-Signature
        secret: s
`), 0o600)
	_, err := load(p, testEnv, false)
	want := p + ":8:9: webhooks[0].auth.hmac: the grafana style needs timestamp_header"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("got %v\nwant %s…", err, want)
	}
}

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func loadMTA(t *testing.T, mta string) (*MTA, error) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	body := "rt:\n  url: http://127.0.0.1:18080/\n  auth: token\n  token: t\nmta:\n" + mta
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	// The one loader decodes and checks mta: with the rest of the file.
	c, err := load(path, testEnv, false)
	if err != nil {
		return nil, err
	}
	return c.MTA, nil
}

func TestMTADefaults(t *testing.T) {
	m, err := loadMTA(t, `  mailgate: {}
  lmtp:
    listen: unix:run/lmtp.sock
    routes:
      - { recipient: support@rt.example.com, queue: Support }
      - { recipient: "*@rt.example.com", extension: queue, action: take-comment }
  rt_names: [rt.example.com]
`)
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "mta" || m.Mailgate.Socket != DefaultMailgateSocket || m.Mailgate.Mode != "0660" || m.MaxMessageBytes != DefaultMTAMaxMessage ||
		m.DefaultQueue != "General" || m.AutoReply != "thread" || m.Requestor != "reply-to" {
		t.Errorf("defaults: %+v %+v", m, m.Mailgate)
	}
	if p := m.LMTP.UnixPath(); !filepath.IsAbs(p) || !strings.HasSuffix(p, "/run/lmtp.sock") {
		t.Errorf("lmtp socket %q, want it made absolute beside the config", p)
	}
	if m.LMTP.Routes[0].Action != "correspond" {
		t.Errorf("route action default %q", m.LMTP.Routes[0].Action)
	}
}

func TestMTAErrorsHavePositions(t *testing.T) {
	_, err := loadMTA(t, `  mailgate: { mode: "0999" }
  lmtp:
    listen: "nowhere"
    routes:
      - { recipient: support, action: frobnicate, extension: subject }
  auto_reply: sometimes
  bogus: 1
`)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{
		`c.yaml:6:21: mta.mailgate.mode: mode must be octal`,
		`c.yaml:8:13: mta.lmtp.listen: must be unix:/path or host:port`,
		`mta.lmtp.routes[0].recipient: must be an address`,
		`mta.lmtp.routes[0].action: unknown action "frobnicate"`,
		`mta.lmtp.routes[0].extension: must be queue, action or ticket`,
		`mta.auto_reply: must be thread, ignore or allow`,
		`c.yaml:12:3: mta.bogus: unknown key "bogus"`,
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in:\n%v", want, err)
		}
	}
	if _, err := loadMTA(t, "  name: x\n"); err == nil || !strings.Contains(err.Error(), "needs mailgate or lmtp") {
		t.Errorf("empty mta: %v", err)
	}
}

package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// `rtbridge test` shows a deliver: gateway rule's step as RT's mail
// gateway would get it: queue and action, no REST fields.
func TestTestShowsGatewayStep(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rtbridge.yaml")
	writeFile(t, cfg, `rt:
  url: http://127.0.0.1:1/
  auth: token
  token: not-used
imap:
  - name: support
    address: 127.0.0.1:1143
    tls: none
    allow_plaintext: true
    username: bridge
    password: not-used
    rt_names: [example.com]
rules:
  - name: support mail through RT's mail gateway
    when: { source: support/INBOX }
    deliver: gateway
    do: [ { create: { queue: Support } } ]
`)
	msg := filepath.Join(dir, "new.eml")
	writeFile(t, msg, "From: alice@example.org\r\nTo: support@example.org\r\nSubject: printer\r\nMessage-ID: <gw-1@example.org>\r\n\r\nbroken\r\n")
	var out, errb bytes.Buffer
	if code := dispatch(context.Background(), []string{"test", "--config", cfg, "--source", "support/INBOX", "--format", "text", msg}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"step 1: gateway", "  queue: Support\n", "  action: correspond\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "subject:") {
		t.Errorf("a gateway step shows REST fields:\n%s", out.String())
	}
}

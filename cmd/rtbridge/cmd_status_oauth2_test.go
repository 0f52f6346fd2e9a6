package main

import (
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/daemon"
	"github.com/rtbridge/rtbridge/bridge/imapsource"
)

func TestStatusShowsOAuth2TokenState(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := daemon.Status{Daemon: true, Sources: map[string]string{"support/INBOX": "oauth2 token for support: invalid_grant"},
		OAuth2: map[string]imapsource.TokenStatus{"support/INBOX": {Grant: "refresh_token", Refreshes: 1, Failures: 3,
			LastError: "token endpoint answered HTTP 400: invalid_grant\nforged line", LastErrorAt: at}}}
	var b strings.Builder
	printStatus(&b, s)
	out := b.String()
	want := "oauth2 support/INBOX        token failing, 1 obtained, 3 failed; last error 2026-01-02T03:04:05Z: token endpoint answered HTTP 400: invalid_grant"
	if !strings.Contains(out, want) {
		t.Fatalf("status output lacks the token line:\n%s", out)
	}
	if strings.Contains(out, "\nforged line") {
		t.Fatalf("a newline in the error made a line of its own:\n%s", out)
	}
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/bridge/store/pgstore"
	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/internal/pgtest"
)

// rtbridge store migrate moves a SQLite store into PostgreSQL (the DSN
// from the config's dsn_file, never printed), and status then reads the
// moved queue from PostgreSQL; a second run moves nothing twice.
func TestStoreMigrate(t *testing.T) {
	pg := pgtest.Schema(t)
	ctx := context.Background()
	dir := t.TempDir()
	stateDir := filepath.Join(dir, "state")
	st, err := store.Open(ctx, stateDir, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var last string
	for i := range 4 {
		acc, err := st.Accept(ctx, source.Incoming{Source: "hook", Kind: event.KindJSON, DedupKey: fmt.Sprint(i), Raw: strings.NewReader("{}")})
		if err != nil {
			t.Fatal(err)
		}
		last = acc.ID
	}
	if err := st.Dead(ctx, last, -1, store.Failure{Class: "parse", Message: "not JSON"}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	os.WriteFile(filepath.Join(dir, "pg-dsn"), []byte(pg.DSN+"\n"), 0o600)
	cfg := filepath.Join(dir, "rtbridge.yaml")
	body := fmt.Sprintf("rt: {url: 'https://rt/', auth: token, token: x}\nstate:\n  dir: %q\n  postgres: { dsn_file: pg-dsn }\n", stateDir)
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, int) {
		var out, errb bytes.Buffer
		code := dispatch(ctx, args, &out, &errb)
		return out.String() + errb.String(), code
	}
	out, code := run("store", "migrate", "--config", cfg)
	if code != 0 || !strings.Contains(out, "moved 4 events (0 were there already)") {
		t.Fatalf("migrate (exit %d): %s", code, out)
	}
	pw := strings.TrimPrefix(pg.DSN, "postgres://")
	if i := strings.Index(pw, "@"); i > 0 && strings.Contains(out, pw[:i]) {
		t.Fatalf("migrate printed the DSN's credentials: %s", out)
	}
	if out, code := run("store", "migrate", "--config", cfg, "--from", "sqlite:"+stateDir); code != 0 || !strings.Contains(out, "moved 0 events (4 were there already)") {
		t.Fatalf("second migrate (exit %d): %s", code, out)
	}
	if out, code := run("status", "--config", cfg); code != 0 || !strings.Contains(out, "accepted   3") {
		t.Fatalf("status on PostgreSQL (exit %d): %s", code, out)
	}
	// status shows which instance holds which lease.
	other, err := pgstore.Open(ctx, pgstore.Options{DSN: pg.DSN, Instance: "rt-b.example.org:42:beef"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if ok, err := other.AcquireLease(ctx, "imap:support/INBOX", time.Minute); err != nil || !ok {
		t.Fatalf("lease: %v %v", ok, err)
	}
	if out, code := run("status", "--config", cfg); code != 0 || !strings.Contains(out, "lease mailbox imap:support/INBOX held by rt-b.example.org:42:beef until ") {
		t.Fatalf("status without the lease (exit %d): %s", code, out)
	}
	// deadletter works against PostgreSQL too.
	if out, code := run("deadletter", "--config", cfg, "list"); code != 0 || !strings.Contains(out, last) || !strings.Contains(out, "not JSON") {
		t.Fatalf("deadletter list on PostgreSQL (exit %d): %s", code, out)
	}
	if out, code := run("deadletter", "--config", cfg, "retry", last); code != 0 {
		t.Fatalf("deadletter retry on PostgreSQL (exit %d): %s", code, out)
	}
	if out, code := run("status", "--config", cfg); code != 0 || !strings.Contains(out, "accepted   4") || !strings.Contains(out, "dead letters:   0") {
		t.Fatalf("status after the retry (exit %d): %s", code, out)
	}
	if out, code := run("store", "--config", cfg); code != 2 || !strings.Contains(out, "usage: rtbridge store migrate") {
		t.Fatalf("store without migrate (exit %d): %s", code, out)
	}
}

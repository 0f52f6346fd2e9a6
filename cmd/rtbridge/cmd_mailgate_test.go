package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/mtasource"
	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
)

// The exit codes an MTA acts on: 0 only after the commit, 75 whenever the
// mail is not stored, 0 for an empty input (as rt-mailgate).
func TestMailgateExitCodes(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "mg.sock")
	run := func(stdin string, args ...string) (int, string) {
		var errb bytes.Buffer
		code := cmdMailgate(context.Background(), append([]string{"--socket", sock}, args...), strings.NewReader(stdin), &errb)
		return code, errb.String()
	}
	mail := "From: a@example.com\nMessage-ID: <x1@example.com>\nSubject: s\n\nbody\n"
	rtLine := []string{"--queue", "General", "--action", "correspond", "--url", "https://rt.example.com/", "--no-verify-ssl", "--ca-file", "/etc/ssl/ca.pem", "--timeout", "5"}

	if code, msg := run(mail, rtLine...); code != exTempFail || !strings.Contains(msg, "the MTA keeps the mail") {
		t.Errorf("no daemon: exit %d (%s), want 75", code, msg)
	}
	if code, _ := run("", rtLine...); code != exOK {
		t.Errorf("empty stdin: exit %d, want 0", code)
	}
	if code, _ := run(mail, "--action", "correspond-frobnicate"); code != exTempFail {
		t.Errorf("bad action: exit %d, want 75", code)
	}
	if code, _ := run(mail, "--no-such-flag"); code != exTempFail {
		t.Errorf("unknown flag: exit %d, want 75", code)
	}

	st, err := store.Open(context.Background(), filepath.Join(dir, "state"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	src, err := mtasource.New(&config.MTA{Name: "mta", DefaultQueue: "General", MaxMessageBytes: 4096,
		Mailgate: &config.MTAMailgate{Socket: sock, Mode: "0600"}}, mtasource.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { src.Run(ctx, st); close(done) }()
	defer func() { cancel(); <-done }()

	t.Setenv("EXTENSION", "Billing")
	t.Setenv("RECIPIENT", "support+Billing@rt.example.com")
	if code, msg := run(mail, append(rtLine, "--extension", "queue", "--debug")...); code != exOK || !strings.Contains(msg, "stored as event") {
		t.Fatalf("daemon up: exit %d (%s), want 0", code, msg)
	} else {
		id := strings.Fields(msg[strings.Index(msg, "stored as event ")+16:])[0]
		ev, err := st.Event(context.Background(), id)
		if err != nil || ev.Meta[source.MetaQueue] != "Billing" || ev.Meta[source.MetaRecipient] != "support+Billing@rt.example.com" {
			t.Errorf("stored event %+v (%v): want queue Billing from $EXTENSION", ev, err)
		}
	}
	// Without --socket, the socket named by a readable --config.
	cfg := filepath.Join(dir, "config.yaml")
	os.WriteFile(cfg, []byte("rt: {url: 'http://127.0.0.1:1/', auth: token, token: x}\nmta:\n  mailgate: {socket: "+sock+"}\n"), 0o600)
	var errb bytes.Buffer
	if code := cmdMailgate(context.Background(), append([]string{"--config", cfg}, rtLine...), strings.NewReader(mail), &errb); code != exOK {
		t.Errorf("socket from --config: exit %d (%s)", code, errb.String())
	}
	if code, _ := run(mail+strings.Repeat("x", 8192), rtLine...); code != exDataErr {
		t.Errorf("too large: exit %d, want %d (the MTA bounces it)", code, exDataErr)
	}
}

package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/mtasource"
)

// Exit codes of `rtbridge mailgate`, as an MTA reads them (sysexits.h).
const (
	exOK       = 0
	exDataErr  = 65 // the mail can never be taken (too large): the MTA bounces it
	exTempFail = 75 // not stored: the MTA keeps the mail and tries again
)

// cmdMailgate is RT's rt-mailgate for the local daemon: an alias line
// keeps its flags and changes only its program name. It reads one mail on
// stdin and hands it to the daemon's store over a unix socket, making no
// RT call itself; it exits 0 only after the daemon committed the mail.
func cmdMailgate(ctx context.Context, args []string, stdin io.Reader, stderr io.Writer) int {
	fs := newFlags("mailgate", stderr)
	socket := fs.String("socket", os.Getenv("RTBRIDGE_MAILGATE_SOCKET"), "the daemon's mailgate socket (default: mta.mailgate.socket of --config when this user can read it, else "+config.DefaultMailgateSocket+")")
	cfgPath := fs.String("config", defaultConfig, "the daemon's config, read (when readable) only for mta.mailgate.socket")
	queue := fs.String("queue", "", "queue of a new ticket (default: the daemon's mta.default_queue)")
	action := fs.String("action", "correspond", "correspond or comment, optionally chained with take or resolve (take-comment, correspond-resolve)")
	extension := fs.String("extension", "", "what $EXTENSION names: queue, action or ticket")
	timeout := fs.Int("timeout", 180, "seconds to wait for the daemon's commit; then exit 75 (0: no limit)")
	debug := fs.Bool("debug", false, "print what is sent and the daemon's answer on stderr")
	// Accepted so that an rt-mailgate alias line works unchanged; the
	// daemon holds RT's address and TLS settings (rt: in its config).
	fs.String("url", "", "accepted for rt-mailgate compatibility; RT's URL is in the daemon's config")
	fs.String("ca-file", "", "accepted for rt-mailgate compatibility (the daemon's rt.ca_file applies)")
	fs.String("jar", "", "accepted for rt-mailgate compatibility")
	fs.Bool("verify-ssl", true, "accepted for rt-mailgate compatibility (the daemon's rt.insecure_skip_verify applies)")
	fs.Bool("no-verify-ssl", false, "accepted for rt-mailgate compatibility")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exOK
		}
		return exTempFail // a broken alias line must not lose mail
	}
	fail := func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, "rtbridge mailgate: "+format+"\n", a...)
		return code
	}
	if *socket == "" {
		*socket = socketOf(*cfgPath)
	}
	p := mtasource.Params{Queue: *queue, Action: *action, Recipient: os.Getenv("RECIPIENT"), Sender: os.Getenv("SENDER")}
	if mode := strings.ToLower(*extension); mode == "queue" || mode == "action" || mode == "ticket" {
		p.ExtensionMode = mode
	}
	p.Extension = strings.TrimRight(os.Getenv("EXTENSION"), "\r\n")
	if err := p.Check(); err != nil {
		return fail(exTempFail, "%v", err)
	}

	in := bufio.NewReaderSize(stdin, 64<<10)
	if _, err := in.Peek(1); err == io.EOF {
		return exOK // nothing to deliver, as rt-mailgate
	} else if err != nil {
		return fail(exTempFail, "read the mail: %v", err)
	}
	if *timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*timeout)*time.Second)
		defer cancel()
	}
	if *debug {
		fmt.Fprintf(stderr, "rtbridge mailgate: socket %s queue=%q action=%q extension=%q (%s) recipient=%q\n",
			*socket, p.Queue, p.Action, p.Extension, p.ExtensionMode, p.Recipient)
	}
	id, dup, err := mtasource.Deliver(ctx, *socket, p, in)
	switch {
	case errors.Is(err, mtasource.ErrPermanent):
		return fail(exDataErr, "%v", err)
	case err != nil:
		return fail(exTempFail, "not stored, the MTA keeps the mail: %v", err)
	}
	if *debug {
		fmt.Fprintf(stderr, "rtbridge mailgate: stored as event %s (duplicate: %v)\n", id, dup)
	}
	return exOK
}

// socketOf returns the mailgate socket the config names. The pipe's user
// usually may not read the config (it holds secrets): then, or when the
// config has no mta.mailgate, the default.
func socketOf(path string) string {
	if cfg, err := config.LoadForOps(path); err == nil {
		if m := cfg.MTA; m != nil && m.Mailgate != nil {
			return m.Mailgate.Socket
		}
	}
	return config.DefaultMailgateSocket
}

// cmdMailgateMain is the command table's entry: the mail comes on stdin.
func cmdMailgateMain(ctx context.Context, args []string, _, stderr io.Writer) int {
	return cmdMailgate(ctx, args, os.Stdin, stderr)
}

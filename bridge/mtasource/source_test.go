package mtasource

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/rtbridge/rtbridge/bridge/config"
	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
)

const testMail = "From sender@example.com  Wed Dec  2 00:55:15 2026\n" +
	"Return-Path: <sender@example.com>\nMessage-ID: <m1@example.com>\nFrom: sender@example.com\n" +
	"To: support@rt.test\nSubject: hello\n\nbody\n"

// harness runs a Source on a real store in a temp dir.
type harness struct {
	st     *store.Store
	rec    *recorder
	src    *Source
	socket string
	lmtp   string
	stop   func()
}

func start(t *testing.T, cfg *config.MTA) *harness {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), filepath.Join(dir, "state"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{st: st, socket: filepath.Join(dir, "mg.sock"), lmtp: filepath.Join(dir, "lmtp.sock")}
	if cfg == nil {
		cfg = &config.MTA{}
	}
	cfg.Name = "mta"
	cfg.DefaultQueue = "General"
	if cfg.MaxMessageBytes == 0 {
		cfg.MaxMessageBytes = 1 << 20
	}
	cfg.Mailgate = &config.MTAMailgate{Socket: h.socket, Mode: "0600"}
	if cfg.LMTP == nil {
		cfg.LMTP = &config.LMTPListener{Routes: []config.LMTPRoute{
			{Recipient: "support@rt.test", Queue: "General", Action: "correspond"},
			{Recipient: "*@q.rt.test", Action: "comment", Extension: "queue"},
		}}
	}
	cfg.LMTP.Listen, cfg.LMTP.Mode = "unix:"+h.lmtp, "0600"
	h.src, err = New(cfg, Options{Logger: slog.New(slog.DiscardHandler), TmpDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	h.rec = &recorder{Sink: st}
	go func() { h.src.Run(ctx, h.rec); close(done) }()
	h.stop = func() { cancel(); <-done }
	t.Cleanup(func() { h.stop(); st.Close() })
	return h
}

// recorder notes the ids the store accepted.
type recorder struct {
	source.Sink
	mu  sync.Mutex
	ids []string
}

func (r *recorder) Accept(ctx context.Context, in source.Incoming) (source.Accepted, error) {
	acc, err := r.Sink.Accept(ctx, in)
	if err == nil {
		r.mu.Lock()
		r.ids = append(r.ids, acc.ID)
		r.mu.Unlock()
	}
	return acc, err
}

func (h *harness) events(t *testing.T) []*store.Event {
	h.rec.mu.Lock()
	defer h.rec.mu.Unlock()
	var out []*store.Event
	for _, id := range h.rec.ids {
		out = append(out, h.event(t, id))
	}
	return out
}

func (h *harness) event(t *testing.T, id string) *store.Event {
	t.Helper()
	ev, err := h.st.Event(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func (h *harness) raw(t *testing.T, id string) string {
	t.Helper()
	rc, err := h.st.Raw(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	b, _ := io.ReadAll(rc)
	return string(b)
}

func TestMailgateStoresWithParamsAndDedups(t *testing.T) {
	h := start(t, nil)
	ctx := context.Background()
	p := Params{Queue: "General", Action: "take-comment", ExtensionMode: "ticket", Extension: "42", Recipient: "support+42@rt.test"}
	id, dup, err := Deliver(ctx, h.socket, p, strings.NewReader(testMail))
	if err != nil || dup {
		t.Fatalf("deliver: %v dup=%v", err, dup)
	}
	ev := h.event(t, id)
	want := map[string]string{source.MetaVia: ViaMailgate, source.MetaQueue: "General", source.MetaAction: "take-comment", source.MetaTicket: "42",
		source.MetaExtension: "42", source.MetaRecipient: "support+42@rt.test"}
	for k, v := range want {
		if ev.Meta[k] != v {
			t.Errorf("meta %s = %q, want %q (all: %v)", k, ev.Meta[k], v, ev.Meta)
		}
	}
	if d := source.DeliveryOf(ev.Meta); d == nil || d.Ticket != 42 || d.Action != "take-comment" {
		t.Errorf("delivery = %+v", d)
	}
	if got := h.raw(t, id); strings.HasPrefix(got, "From ") || !strings.HasPrefix(got, "Return-Path:") || !strings.HasSuffix(got, "body\n") {
		t.Errorf("stored mail = %q: want the message without the mbox From_ line", got)
	}
	// The MTA's retry of the same delivery (after a timeout that followed
	// the commit) is a duplicate, not a second event.
	id2, dup, err := Deliver(ctx, h.socket, p, strings.NewReader(testMail))
	if err != nil || !dup || id2 == id {
		t.Fatalf("second deliver: id %s dup %v err %v; want a duplicate of %s", id2, dup, err, id)
	}
	// The same mail to another address (queue) is its own event.
	p.Recipient, p.Queue, p.ExtensionMode, p.Extension = "other@rt.test", "Sales", "", ""
	if _, dup, err := Deliver(ctx, h.socket, p, strings.NewReader(testMail)); err != nil || dup {
		t.Fatalf("other recipient: dup %v err %v; want a new event", dup, err)
	}
}

func TestMailgateRefusals(t *testing.T) {
	h := start(t, &config.MTA{MaxMessageBytes: 2048})
	ctx := context.Background()
	big := testMail + strings.Repeat("x", 4096) + "\n"
	if _, _, err := Deliver(ctx, h.socket, Params{}, strings.NewReader(big)); !errors.Is(err, ErrPermanent) {
		t.Errorf("oversize mail: err %v, want ErrPermanent", err)
	}
	if _, _, err := Deliver(ctx, h.socket, Params{Action: "frobnicate"}, strings.NewReader(testMail)); !errors.Is(err, ErrRefused) || errors.Is(err, ErrPermanent) {
		t.Errorf("bad action: err %v, want a temporary refusal", err)
	}
	if _, _, err := Deliver(ctx, h.socket, Params{Queue: "a\r\nX-Injected: 1"}, strings.NewReader(testMail)); !errors.Is(err, ErrRefused) {
		t.Errorf("control characters in queue: err %v, want a refusal", err)
	}
	h.stop()
	if _, _, err := Deliver(ctx, h.socket, Params{}, strings.NewReader(testMail)); err == nil || errors.Is(err, ErrPermanent) {
		t.Errorf("daemon stopped: err %v, want a temporary failure", err)
	}
	if n := len(h.events(t)); n != 0 {
		t.Errorf("%d events stored by refused deliveries", n)
	}
}

func lmtpClient(t *testing.T, path string) *smtp.Client {
	t.Helper()
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClientLMTP(conn)
	if err := c.Hello("mx.rt.test"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestLMTPPerRecipient(t *testing.T) {
	h := start(t, nil)
	c := lmtpClient(t, h.lmtp)
	if err := c.Mail("sender@example.com", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("nobody@rt.test", nil); err == nil || !strings.Contains(err.Error(), "550") {
		t.Errorf("unrouted recipient: %v, want 550", err)
	}
	for _, r := range []string{"Support@RT.test", "x+Sales@q.rt.test"} {
		if err := c.Rcpt(r, nil); err != nil {
			t.Fatalf("rcpt %s: %v", r, err)
		}
	}
	got := data(t, c, strings.ReplaceAll(testMail[strings.Index(testMail, "\n")+1:], "\n", "\r\n"))
	if got["Support@RT.test"] != 250 || got["x+Sales@q.rt.test"] != 250 || len(got) != 2 {
		t.Errorf("statuses %v", got)
	}
	evs := h.events(t)
	if len(evs) != 2 {
		t.Fatalf("events %d, want 2", len(evs))
	}
	byRcpt := map[string]*store.Event{}
	for _, e := range evs {
		byRcpt[e.Meta[source.MetaRecipient]] = e
	}
	if e := byRcpt["x+Sales@q.rt.test"]; e == nil || e.Meta[source.MetaQueue] != "Sales" || e.Meta[source.MetaAction] != "comment" || e.Meta[source.MetaVia] != ViaLMTP {
		t.Errorf("extension route: %+v", e)
	}
	if e := byRcpt["Support@RT.test"]; e == nil || e.Meta[source.MetaQueue] != "General" || e.Meta[source.MetaSender] != "sender@example.com" {
		t.Errorf("plain route: %+v", e)
	} else if raw := h.raw(t, e.ID); !strings.HasPrefix(raw, "Return-Path: <sender@example.com>\r\nReturn-Path:") || !strings.HasSuffix(raw, "body\r\n") {
		t.Errorf("stored raw %q", raw)
	}
}

func TestLMTPStoreTroubleIs4xx(t *testing.T) {
	h := start(t, nil)
	h.st.Close() // the store refuses from now on
	c := lmtpClient(t, h.lmtp)
	c.Mail("sender@example.com", nil)
	c.Rcpt("support@rt.test", nil)
	if got := data(t, c, "Subject: x\r\n\r\nbody\r\n"); got["support@rt.test"]/100 != 4 {
		t.Errorf("status %v, want 4xx", got)
	}
}

func TestLMTPSizeLimit(t *testing.T) {
	h := start(t, &config.MTA{MaxMessageBytes: 2048})
	c := lmtpClient(t, h.lmtp)
	c.Mail("sender@example.com", nil)
	c.Rcpt("support@rt.test", nil)
	if got := data(t, c, "Subject: x\r\n\r\n"+strings.Repeat("yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy\r\n", 200)); got["support@rt.test"] != 552 {
		t.Errorf("status %v, want 552", got)
	}
}

// data sends DATA and returns each recipient's reply code.
func data(t *testing.T, c *smtp.Client, body string) map[string]int {
	t.Helper()
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, body)
	resp, err := w.CloseWithLMTPResponse()
	out := map[string]int{}
	for r := range resp {
		out[r] = 250
	}
	var le smtp.LMTPDataError
	if errors.As(err, &le) {
		for r, e := range le {
			out[r] = e.Code
		}
	} else if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestRoute(t *testing.T) {
	r := router{{Recipient: "support@rt.test", Queue: "General", Action: "correspond"}, {Recipient: "*@ext.rt.test", Extension: "ticket", Action: "comment"}}
	for _, c := range []struct {
		rcpt  string
		ok    bool
		queue string
		ext   string
	}{
		{"support@rt.test", true, "General", ""},
		{"SUPPORT+Billing@rt.test", true, "General", "Billing"},
		{"a+17@ext.rt.test", true, "", "17"},
		{"support@other.test", false, "", ""},
		{"no-at-sign", false, "", ""},
	} {
		p, ok := r.route(c.rcpt)
		if ok != c.ok || p.Queue != c.queue || p.Extension != c.ext {
			t.Errorf("route(%q) = %+v %v", c.rcpt, p, ok)
		}
	}
}

func TestHeaderReadKeepsBytes(t *testing.T) {
	// a header longer than the reader's buffer, and a mail without a body
	long := "X-Long: " + strings.Repeat("a", 100<<10) + "\n"
	for _, m := range []string{long + "Subject: s\n\nbody", "Subject: only a header\n"} {
		br := bufio.NewReaderSize(bytes.NewReader([]byte(m)), 4096)
		h, err := readHeader(br)
		if err != nil {
			t.Fatal(err)
		}
		rest, _ := io.ReadAll(br)
		if string(h)+string(rest) != m {
			t.Errorf("bytes changed")
		}
	}
}

// LMTP on a loopback port instead of a unix socket.
func TestLMTPOverTCP(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(context.Background(), filepath.Join(dir, "state"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	src, err := New(&config.MTA{Name: "mta", DefaultQueue: "General", MaxMessageBytes: 1 << 20,
		LMTP: &config.LMTPListener{Listen: "127.0.0.1:0", Routes: []config.LMTPRoute{{Recipient: "*@rt.test", Action: "correspond"}}}},
		Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { src.Run(ctx, st); close(done) }()
	defer func() { cancel(); <-done }()
	conn, err := net.Dial("tcp", src.lmtp.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := smtp.NewClientLMTP(conn)
	defer c.Close()
	if err := c.Hello("mx"); err != nil {
		t.Fatal(err)
	}
	c.Mail("", nil) // a bounce: the null sender
	if err := c.Rcpt("any@rt.test", nil); err != nil {
		t.Fatal(err)
	}
	if got := data(t, c, "Subject: bounce\r\n\r\nx\r\n"); got["any@rt.test"] != 250 {
		t.Errorf("status %v", got)
	}
}

package imapsource

import (
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"
)

// outageProxy forwards a loopback port to the IMAP server and can take
// the server away: down closes the listener (connects are refused) and
// every open connection; up listens on the same port again.
type outageProxy struct {
	t      *testing.T
	addr   string // where the source connects
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
}

func newOutageProxy(t *testing.T, target string) *outageProxy {
	p := &outageProxy{t: t, addr: net.JoinHostPort("127.0.0.1", freePort(t)), target: target, conns: map[net.Conn]bool{}}
	p.up()
	t.Cleanup(p.down)
	return p
}

func (p *outageProxy) up() {
	p.t.Helper()
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("proxy listen: %v", err)
	}
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.forward(c)
		}
	}()
}

func (p *outageProxy) down() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *outageProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil { // went down meanwhile
		return false
	}
	for _, c := range cs {
		p.conns[c] = true
	}
	return true
}

func (p *outageProxy) forward(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, s) {
		c.Close()
		s.Close()
		return
	}
	go func() { io.Copy(s, c); s.Close() }()
	io.Copy(c, s)
	c.Close()
}

// TestReconnectPromptAfterOutages takes the server away twice, for 20 s and
// then 2 s; each time the source must be logged in again within 5 s of
// the server coming back (before the backoff reset, the second outage left
// it away for 30 s).
func TestReconnectPromptAfterOutages(t *testing.T) {
	t.Parallel()
	d := newDovecot(t)
	p := newOutageProxy(t, d.config("starttls").Address)
	cfg := d.config("starttls")
	cfg.Address = p.addr
	cfg.PollInterval = time.Minute
	st := openStore(t)
	src, err := New(cfg, d.folder, st, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	run(t, src, st)
	waitConnected(t, src, 0, 10*time.Second)

	for i, outage := range []time.Duration{20 * time.Second, 2 * time.Second} {
		logins := src.Status().Logins
		p.down()
		time.Sleep(outage)
		if s := src.Status(); s.Connected {
			t.Fatalf("outage %d: source still connected with the server away", i+1)
		}
		back := time.Now()
		p.up()
		waitConnected(t, src, logins, 10*time.Second)
		took := time.Since(back)
		t.Logf("outage %d (%s): source back %.2f s after the server", i+1, outage, took.Seconds())
		if took > 5*time.Second {
			t.Errorf("outage %d (%s): source back %s after the server, want within 5 s", i+1, outage, took)
		}
		time.Sleep(2 * time.Second) // a session that works, then the next outage
	}
}

// waitConnected waits until src has logged in more than logins times and
// selected its folder.
func waitConnected(t *testing.T, src *Source, logins int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		if s := src.Status(); s.Connected && s.Logins > logins {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("source not connected within %s: %+v", within, src.Status())
}

func TestBackoff(t *testing.T) {
	refused := markUnreachable(&net.OpError{Op: "dial", Err: io.EOF})
	var b backoff
	var got []time.Duration
	for range 5 {
		got = append(got, b.next(refused))
	}
	want := []time.Duration{time.Second, 2 * time.Second, 3 * time.Second, 3 * time.Second, 3 * time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("unreachable: %v, want %v", got, want)
	}
	auth := ErrAuth
	for range 20 {
		b.next(auth)
	}
	if d := b.next(auth); d != maxRetry {
		t.Errorf("refused login after many tries: %s, want %s", d, maxRetry)
	}
	b.reset()
	if d := b.next(auth); d != minRetry {
		t.Errorf("after reset: %s, want %s", d, minRetry)
	}
}

package webhook

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/rtbridge/rtbridge/bridge/config"
)

// rawPost sends a request whose body is announced as n bytes and only
// partly written, so the server holds it open; it returns the connection
// and a reader for the answer.
func rawPost(t *testing.T, addr, path string, hdr string, n int, partial string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s", path, n, hdr, partial)
	return c, bufio.NewReader(c)
}

func readAnswer(t *testing.T, c net.Conn, br *bufio.Reader, within time.Duration) *http.Response {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(within))
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no answer within %s: %v", within, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// A wrong bearer token is answered before the body is read: the client has
// sent only the headers of a 1 MiB request and gets its 401 at once.
func TestHeaderAuthBeforeBody(t *testing.T) {
	_, ts, _ := newServer(t, openStore(t))
	c, br := rawPost(t, ts.Listener.Addr().String(), "/hooks/ci", "Authorization: Basic Y2k6d3Jvbmc=\r\n", 1<<20, "")
	if resp := readAnswer(t, c, br, 2*time.Second); resp.StatusCode != 401 {
		t.Fatalf("got %d", resp.StatusCode)
	}
	// Declared too large: 413 before reading, even with auth: none.
	c, br = rawPost(t, ts.Listener.Addr().String(), "/hooks/open", "", 2<<20, "")
	if resp := readAnswer(t, c, br, 2*time.Second); resp.StatusCode != 413 {
		t.Fatalf("oversize declared: %d", resp.StatusCode)
	}
}

// With one body slot, a slow body holds it: the next request waits
// body_wait and gets 503 with Retry-After; once the slow one finishes the
// slot is free again.
func TestBodySlots(t *testing.T) {
	st := openStore(t)
	s, err := New(hooks(), Options{Sink: st, Limits: config.HTTPLimits{MaxConcurrentBodies: 1, BodyWait: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	body := `{"slow":true}`
	slow, slowR := rawPost(t, ts.Listener.Addr().String(), "/hooks/open", "", len(body), body[:3])
	time.Sleep(100 * time.Millisecond) // the slow request is in its slot
	t0 := time.Now()
	r := post(t, ts.URL+"/hooks/open", `{"b":1}`, nil)
	if r.code != 503 || r.hdr.Get("Retry-After") == "" || time.Since(t0) < 250*time.Millisecond {
		t.Fatalf("second request while the slot is taken: %d %+v after %s", r.code, r.rep, time.Since(t0))
	}
	// Unauthenticated requests to a bearer endpoint never take a slot.
	if r := post(t, ts.URL+"/hooks/deploy", `{}`, nil); r.code != 401 {
		t.Fatalf("unauthenticated while busy: %d", r.code)
	}
	io.WriteString(slow, body[3:])
	if resp := readAnswer(t, slow, slowR, 2*time.Second); resp.StatusCode != 202 {
		t.Fatalf("slow request: %d", resp.StatusCode)
	}
	if r := post(t, ts.URL+"/hooks/open", `{"c":1}`, nil); r.code != 202 {
		t.Fatalf("after the slot came free: %d %+v", r.code, r.rep)
	}
	if n := stored(t, st); n != 2 {
		t.Fatalf("stored %d events, want 2", n)
	}
}

// alive reports whether the server keeps c open (a closed connection reads
// EOF at once; an open one times out).
func alive(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

func TestLimitListenerPerClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.NotFoundHandler()}
	go srv.Serve(LimitListener(ln, 0, 2))
	defer srv.Close()
	dial := func(from string) net.Conn {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
		c, err := d.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	a1, a2, a3 := dial("127.0.0.1"), dial("127.0.0.1"), dial("127.0.0.1")
	b1 := dial("127.0.0.2") // another client address
	if !alive(a1) || !alive(a2) || alive(a3) || !alive(b1) {
		t.Fatalf("open: a1 %v a2 %v a3 %v (want closed) b1 %v", alive(a1), alive(a2), alive(a3), alive(b1))
	}
	a1.Close()
	time.Sleep(100 * time.Millisecond)
	if a4 := dial("127.0.0.1"); !alive(a4) {
		t.Fatal("a closed connection did not give its slot back")
	}
}

func TestLimitListenerTotal(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })}
	go srv.Serve(LimitListener(ln, 1, 0))
	defer srv.Close()
	get := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		return c, bufio.NewReader(c)
	}
	c1, r1 := get()
	readAnswer(t, c1, r1, time.Second) // c1 stays open (keep-alive) and holds the one slot
	c2, r2 := get()
	c2.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := http.ReadResponse(r2, nil); err == nil {
		t.Fatal("second connection served while the first holds the only slot")
	}
	c1.Close()
	if resp := readAnswer(t, c2, r2, 2*time.Second); resp.StatusCode != 200 {
		t.Fatalf("queued connection: %d", resp.StatusCode)
	}
}

// Every attribute the server logs is one line without control characters,
// whatever the error or the sender's bytes.
func TestLogAttributesOneLine(t *testing.T) {
	var buf bytes.Buffer
	s, err := New(hooks(), Options{Sink: openStore(t), Logger: slog.New(slog.NewJSONHandler(&buf, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	defer ts.Close()
	post(t, ts.URL+"/hooks/deploy", `{}`, nil)
	post(t, ts.URL+"/hooks/deploy", `{}`, map[string]string{"Authorization": "Bearer wrong"})
	post(t, ts.URL+"/hooks/open", "{\"a\r\n\x1b[31m\": 1,\n}", nil)
	post(t, ts.URL+"/hooks/open", "[\"\x00\"]", nil)
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) < 4 {
		t.Fatalf("%d log lines:\n%s", len(lines), buf.String())
	}
	sawAuth := false
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatal(err)
		}
		for k, v := range rec {
			if s, ok := v.(string); ok && strings.IndexFunc(s, unicode.IsControl) >= 0 {
				t.Errorf("attribute %s=%q has a control character", k, s)
			}
		}
		if rec["err"] == "unauthorized: bearer token missing" {
			sawAuth = true
		}
	}
	if !sawAuth {
		t.Errorf("no one-line auth error in:\n%s", buf.String())
	}
}

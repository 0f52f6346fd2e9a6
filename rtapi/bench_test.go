package rtapi

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rtbridge/rtbridge/internal/memtest"
)

// BenchmarkUpload50MB streams a 50 MB attachment to a server that discards
// it and reports the peak heap growth during the upload (peak-heap-B/op):
// it stays in the KBs because the body goes through io.Pipe, never whole.
func BenchmarkUpload50MB(b *testing.B) {
	const size = 50 << 20
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		if n < size {
			w.WriteHeader(400)
			return
		}
		_, _ = io.WriteString(w, "RT/5.0.3 200 Ok\n\n# Comments added\n\n")
	}))
	defer srv.Close()
	c, err := New(Config{URL: srv.URL})
	if err != nil {
		b.Fatal(err)
	}
	att := Attachment{Name: "big.bin", Open: func() (io.ReadCloser, error) {
		return io.NopCloser(io.LimitReader(zeroReader{}, size)), nil
	}}
	var peak uint64
	b.SetBytes(size)
	for b.Loop() {
		p, err := memtest.HeapPeak(func() error {
			return c.Comment(context.Background(), 1, Message{Text: "big", Attachments: []Attachment{att}})
		})
		if err != nil {
			b.Fatal(err)
		}
		peak = max(peak, p)
	}
	b.ReportMetric(float64(peak), "peak-heap-B")
}

// BenchmarkAuthCookie and BenchmarkAuthQuery measure one ticket read against
// the real RT: with the session cookie (RT checks no password after the
// first login) and with user/pass on every request (RT checks the bcrypt
// hash every time; cost 4 on the test RT, RT's stock cost 12 adds ≈0.3 s).
func BenchmarkAuthCookie(b *testing.B) { benchAuth(b, "cookie") }
func BenchmarkAuthQuery(b *testing.B)  { benchAuth(b, "query") }
func BenchmarkAuthToken(b *testing.B)  { benchAuth(b, "token") }

func benchAuth(b *testing.B, kind string) {
	rt := rtClientEnv(b)
	var auth Authenticator
	switch kind {
	case "cookie":
		auth = NewCookieAuth(rt.User, rt.Password)
	case "query":
		auth = NewQueryAuth(rt.User, rt.Password)
	case "token":
		auth = NewTokenAuth(rt.Token)
	}
	c, err := New(Config{URL: rt.URL, Auth: auth})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.Queue(ctx, "General"); err != nil { // log in outside the timing
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := c.Queue(ctx, "General"); err != nil {
			b.Fatal(err)
		}
	}
}

package rtapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/memtest"
	"github.com/rtbridge/rtbridge/internal/testenv"
)

// byteCountingTransport records how many answer bytes each request path read.
type byteCountingTransport struct {
	mu    sync.Mutex
	bytes map[string]int64
}

func (t *byteCountingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	res.Body = &byteCountingBody{ReadCloser: res.Body, add: func(n int) {
		t.mu.Lock()
		t.bytes[r.URL.Path] += int64(n)
		t.mu.Unlock()
	}}
	return res, nil
}

type byteCountingBody struct {
	io.ReadCloser
	add func(int)
}

func (b *byteCountingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.add(n)
	return n, err
}

// TestRTAttachmentContentSkipsMetadataContent: the existence/type check
// before /content reads a few hundred bytes, not the attachment (RT's full
// metadata answer carries the whole content), and the content still comes
// back byte-exact with its stored type.
func TestRTAttachmentContentSkipsMetadataContent(t *testing.T) {
	rt := testenv.RequireRT(t)
	ct := &byteCountingTransport{bytes: map[string]int64{}}
	c, err := New(Config{URL: rt.URL, Auth: NewTokenAuth(rt.Token), HTTPClient: &http.Client{Transport: ct}, Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 1<<20)
	_, _ = rand.Read(data)
	id := mustCreate(t, c, TicketCreate{Subject: unique("h19 big attachment"), Text: "see file",
		Attachments: []Attachment{bytesAttachment("big.bin", "application/x-h19", data)}})
	a := findAttachment(t, c, id, func(a AttachmentInfo) bool { return a.Name == "big.bin" })

	ct.mu.Lock()
	clear(ct.bytes)
	ct.mu.Unlock()
	typ, body, err := c.AttachmentContent(ctxT(t), id, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	n, err := io.Copy(h, body)
	body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := sha256.Sum256(data); typ != "application/x-h19" || n != int64(len(data)) || !bytes.Equal(h.Sum(nil), want[:]) {
		t.Errorf("got type %q, %d bytes (want %d), same bytes %v", typ, n, len(data), bytes.Equal(h.Sum(nil), want[:]))
	}
	ct.mu.Lock()
	defer ct.mu.Unlock()
	for path, n := range ct.bytes {
		if strings.HasSuffix(path, "/content") {
			continue
		}
		if n > 4<<10 {
			t.Errorf("%s: read %d answer bytes to check a %d-byte attachment", path, n, len(data))
		}
	}
	if len(ct.bytes) != 2 {
		t.Errorf("requests: %v, want the type check and the content", ct.bytes)
	}
}

// BenchmarkAttachmentContent20MB streams a 20 MB attachment from the real
// RT to io.Discard and reports the peak heap growth while it runs
// (peak-heap-B): it stays far below the attachment's size because neither
// the type check nor the content is held whole.
func BenchmarkAttachmentContent20MB(b *testing.B) {
	const size = 20 << 20
	c, _, _ := rtClient(b, nil)
	data := make([]byte, size)
	_, _ = rand.Read(data)
	id := mustCreate(b, c, TicketCreate{Subject: unique("h19 20MB attachment"), Text: "see file",
		Attachments: []Attachment{bytesAttachment("big20.bin", "application/octet-stream", data)}})
	ctx := context.Background()
	list, err := c.Attachments(ctx, id)
	if err != nil {
		b.Fatal(err)
	}
	var a AttachmentInfo
	for _, x := range list {
		if x.Name == "big20.bin" {
			a = x
		}
	}
	if a.ID == 0 {
		b.Fatalf("no big20.bin in %+v", list)
	}
	data = nil
	var peak uint64
	b.SetBytes(size)
	for b.Loop() {
		p, err := memtest.HeapPeak(func() error {
			_, body, err := c.AttachmentContent(ctx, id, a.ID)
			if err != nil {
				return err
			}
			defer body.Close()
			n, err := io.Copy(io.Discard, body)
			if err == nil && n != size {
				err = fmt.Errorf("read %d bytes of %d", n, size)
			}
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		peak = max(peak, p)
	}
	b.ReportMetric(float64(peak), "peak-heap-B")
}

package rest2_test

import (
	"context"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"strings"
	"sync"
	"testing"

	"github.com/rtbridge/rtbridge/rtapi"
	"github.com/rtbridge/rtbridge/rtapi/rest2"
)

// A CR or LF in an attachment's type or name cannot add a header to its
// multipart part: the part keeps exactly its two headers.
func TestMultipartPartHeadersRefuseLineEnds(t *testing.T) {
	var mu sync.Mutex
	var parts []textproto.MIMEHeader
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			mu.Lock()
			parts = append(parts, p.Header)
			mu.Unlock()
			_, _ = io.Copy(io.Discard, p)
		}
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"id": 5, "type": "ticket"}`)
	}))
	defer srv.Close()
	cl, err := rest2.New(rest2.Config{URL: srv.URL, MultipartOver: 1})
	if err != nil {
		t.Fatal(err)
	}
	att := rtapi.Attachment{Name: "a\r\nX-Injected: name.txt", ContentType: "text/plain\r\nX-Injected: type",
		Open: func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader("some bytes")), nil }}
	id, err := cl.CreateTicket(context.Background(), rtapi.TicketCreate{Queue: "General", Subject: "s", Attachments: []rtapi.Attachment{att}})
	if err != nil || id != 5 {
		t.Fatalf("create: %d %v", id, err)
	}
	if len(parts) != 2 {
		t.Fatalf("%d parts, want JSON and one attachment", len(parts))
	}
	h := parts[1]
	if len(h) != 2 || h.Get("X-Injected") != "" || h.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("attachment part headers %q", h)
	}
	if !strings.Contains(h.Get("Content-Disposition"), `filename="aX-Injected: name.txt"`) {
		t.Errorf("Content-Disposition %q", h.Get("Content-Disposition"))
	}
}

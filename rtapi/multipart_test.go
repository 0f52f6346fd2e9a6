package rtapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rtbridge/rtbridge/rtapi/form"
)

type seenPart struct {
	name, filename, ctype string
	data                  []byte
}

// recordingRT parses every multipart request it receives.
func recordingRT(t *testing.T, answers ...string) (*Client, *[][]seenPart, *[]int64) {
	t.Helper()
	var reqs [][]seenPart
	var lengths []int64
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		lengths = append(lengths, r.ContentLength)
		_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if err != nil {
			t.Errorf("content type: %v", err)
			return
		}
		mr := multipart.NewReader(r.Body, params["boundary"])
		var parts []seenPart
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				// A body cut short by the client (an aborted upload).
				w.WriteHeader(400)
				return
			}
			b, _ := io.ReadAll(p)
			_, dp, _ := mime.ParseMediaType(p.Header.Get("Content-Disposition"))
			parts = append(parts, seenPart{dp["name"], dp["filename"], p.Header.Get("Content-Type"), b})
		}
		reqs = append(reqs, parts)
		a := answers[min(i, len(answers)-1)]
		if strings.HasPrefix(a, "HTTP ") {
			w.WriteHeader(503)
			return
		}
		_, _ = io.WriteString(w, a)
	}))
	t.Cleanup(srv.Close)
	c, err := New(Config{URL: srv.URL + "/rt/", Retry: RetryPolicy{Attempts: 3, Initial: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return c, &reqs, &lengths
}

func TestMultipartOrderTypesNamesAndReplay(t *testing.T) {
	c, reqs, lengths := recordingRT(t, "HTTP 503", "RT/5.0.3 200 Ok\n\n# Comments added\n\n")
	dir := t.TempDir()
	path := filepath.Join(dir, "f.bin")
	bin := make([]byte, 70000)
	for i := range bin {
		bin[i] = byte(i * 7)
	}
	if err := os.WriteFile(path, bin, 0o600); err != nil {
		t.Fatal(err)
	}
	small := filepath.Join(dir, "b.txt")
	if err := os.WriteFile(small, []byte("hello\r\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var opens atomic.Int64
	fileAtt := Attachment{Name: "dir/Ünïcödé, \"x\".bin", Open: func() (io.ReadCloser, error) {
		opens.Add(1)
		return os.Open(path)
	}}
	err := c.Comment(context.Background(), 7, Message{Text: "see\n  files", Attachments: []Attachment{
		fileAtt,
		{Name: "b.txt", ContentType: "text/plain; charset=utf-8", Open: func() (io.ReadCloser, error) { return os.Open(small) }},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if len(*reqs) != 2 {
		t.Fatalf("%d requests, want 2 (503 then OK)", len(*reqs))
	}
	if opens.Load() != 3 {
		t.Errorf("file opened %d times, want 3 (size, attempt 1, replay)", opens.Load())
	}
	for i, parts := range *reqs {
		if (*lengths)[i] <= 0 {
			t.Errorf("request %d: Content-Length %d, want known", i, (*lengths)[i])
		}
		if len(parts) != 3 || parts[0].name != "content" || parts[0].filename != "" {
			t.Fatalf("parts = %+v", parts)
		}
		f := form.ParseRecords(string(parts[0].data))
		att, _ := f[0].Get("Attachment")
		if att != "dir_Ünïcödé_ _x_.bin, b.txt" {
			t.Errorf("Attachment: %q", att)
		}
		if text, _ := f[0].Get("Text"); text != "see\n  files" {
			t.Errorf("Text = %q", text)
		}
		if parts[1].name != "attachment_1" || parts[1].ctype != "application/octet-stream" || !bytes.Equal(parts[1].data, bin) || parts[1].filename != "dir_Ünïcödé_ _x_.bin" {
			t.Errorf("part 1 = %q %q %q %d bytes", parts[1].name, parts[1].filename, parts[1].ctype, len(parts[1].data))
		}
		if parts[2].name != "attachment_2" || parts[2].ctype != "text/plain; charset=utf-8" || string(parts[2].data) != "hello\r\n" {
			t.Errorf("part 2 = %+v", parts[2])
		}
	}
}

func TestMultipartUnknownSizeIsChunked(t *testing.T) {
	c, reqs, lengths := recordingRT(t, "RT/5.0.3 200 Ok\n\n# Ticket 9 created.\n\n")
	pr := func() (io.ReadCloser, error) { return io.NopCloser(io.LimitReader(zeroReader{}, 5000)), nil }
	id, err := c.CreateTicket(context.Background(), TicketCreate{Queue: "General", Subject: "s", Attachments: []Attachment{{Name: "z", Open: pr}}})
	if err != nil || id != 9 {
		t.Fatal(id, err)
	}
	if (*lengths)[0] != -1 || len((*reqs)[0][1].data) != 5000 {
		t.Errorf("length %d, %d bytes", (*lengths)[0], len((*reqs)[0][1].data))
	}
}

// A stream whose size the caller states (a decoded mail part) goes with a
// Content-Length, not chunked, and the body really has that many bytes.
func TestMultipartStatedSizeSetsContentLength(t *testing.T) {
	c, reqs, lengths := recordingRT(t, "RT/5.0.3 200 Ok\n\n# Ticket 9 created.\n\n")
	pr := func() (io.ReadCloser, error) { return io.NopCloser(io.LimitReader(zeroReader{}, 5000)), nil }
	id, err := c.CreateTicket(context.Background(), TicketCreate{Queue: "General", Subject: "s",
		Attachments: []Attachment{{Name: "z", Open: pr, Size: 5000}}})
	if err != nil || id != 9 {
		t.Fatal(id, err)
	}
	if (*lengths)[0] <= 5000 || len((*reqs)[0][1].data) != 5000 {
		t.Errorf("length %d, %d bytes: want a Content-Length covering the 5000-byte part", (*lengths)[0], len((*reqs)[0][1].data))
	}
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func TestAttachmentOpenFailureIsPermanent(t *testing.T) {
	c, reqs, _ := recordingRT(t, "RT/5.0.3 200 Ok\n\n")
	bad := Attachment{Name: "gone", Open: func() (io.ReadCloser, error) { return nil, os.ErrNotExist }}
	err := c.Comment(context.Background(), 1, Message{Text: "x", Attachments: []Attachment{bad}})
	if KindOf(err) != Permanent || !errors.Is(err, os.ErrNotExist) || len(*reqs) != 0 {
		t.Errorf("err = %v (kind %v), %d requests", err, KindOf(err), len(*reqs))
	}
	// A read error mid-stream (file truncated, disk error) is the attachment's fault too.
	failing := Attachment{Name: "half", Open: func() (io.ReadCloser, error) {
		return io.NopCloser(io.MultiReader(strings.NewReader("abc"), errReader{})), nil
	}}
	err = c.Comment(context.Background(), 1, Message{Text: "x", Attachments: []Attachment{failing}})
	if KindOf(err) != Permanent || !errors.Is(err, errDisk) {
		t.Errorf("mid-stream read error: %v (kind %v)", err, KindOf(err))
	}
}

var errDisk = errors.New("disk on fire")

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errDisk }

// TestMultipartKnownEmptyNotReopened: an attachment whose size the caller
// knows, empty ones included, is opened only to be sent, never to learn its
// size before the request (a mail of many empty parts would open each one
// once more outside the RT timeout).
func TestMultipartKnownEmptyNotReopened(t *testing.T) {
	c, reqs, lengths := recordingRT(t, "RT/5.0.3 200 Ok\n\n# Comments added\n\n")
	var opens atomic.Int64
	var atts []Attachment
	for i := range 50 {
		atts = append(atts, Attachment{Name: fmt.Sprintf("empty-%d", i), SizeKnown: true, Open: func() (io.ReadCloser, error) {
			opens.Add(1)
			return io.NopCloser(strings.NewReader("")), nil
		}})
	}
	if err := c.Comment(context.Background(), 7, Message{Text: "empties", Attachments: atts}); err != nil {
		t.Fatal(err)
	}
	if opens.Load() != 50 {
		t.Errorf("50 empty attachments opened %d times, want 50 (once each, to send)", opens.Load())
	}
	if len(*reqs) != 1 || (*lengths)[0] <= 0 {
		t.Errorf("%d requests, Content-Length %v: want one with a known length", len(*reqs), *lengths)
	}
}

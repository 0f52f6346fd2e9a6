package mailflow_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// TestBigAttachment sends a mail whose attachment is larger than RT's
// default $MaxAttachmentSize (10 MiB) through Dovecot, the daemon and the
// real RT, and checks RT's /content is the attachment byte for byte. The
// memory bound is BenchmarkBigAttachment's (targets are benchmarks).
func TestBigAttachment(t *testing.T) {
	r := runBig(t, 12<<20)
	t.Logf("12 MiB attachment: peak heap %.1f MB (+%.1f MB), Sys +%.1f MB, %.1f MB allocated, %.1f s",
		mb(r.peakHeap), mb(r.peakHeap-r.baseHeap), mb(r.peakSys-r.baseSys), mb(r.alloc), r.took.Seconds())
}

// BenchmarkBigAttachment measures the daemon's heap while a mail with a
// 50 MiB attachment (RTBRIDGE_BIG_MB to change) goes IMAP → store → parse
// → multipart upload → RT; the whole path streams, so the heap must not
// grow by anything near the mail's size (issue 7: peak RSS ≤ 64 MB).
// Metrics: peak-heap-MB (HeapInuse, sampled every 2 ms), heap-growth-MB
// (over the idle daemon), sys-growth-MB (memory obtained from the OS) and
// alloc-MB (bytes allocated while the mail went through).
//
//	RTBRIDGE_INTEGRATION=1 go test -run - -bench BigAttachment -benchtime 1x ./bridge/mailflow/
func BenchmarkBigAttachment(b *testing.B) {
	size := 50 << 20
	if v, err := strconv.Atoi(os.Getenv("RTBRIDGE_BIG_MB")); err == nil && v > 0 {
		size = v << 20
	}
	var last bigResult
	for range b.N {
		last = runBig(b, size)
	}
	b.ReportMetric(mb(last.peakHeap), "peak-heap-MB")
	b.ReportMetric(mb(last.peakHeap-last.baseHeap), "heap-growth-MB")
	b.ReportMetric(mb(last.peakSys-last.baseSys), "sys-growth-MB")
	b.ReportMetric(mb(last.alloc), "alloc-MB")
	b.ReportMetric(last.took.Seconds(), "s/mail")
}

type bigResult struct {
	baseHeap, peakHeap, baseSys, peakSys, alloc uint64
	took                                        time.Duration
}

func mb(n uint64) float64 { return float64(n) / (1 << 20) }

// runBig appends one mail with a size-byte attachment (streamed into the
// APPEND, never held whole by the test either), waits for its ticket and
// compares RT's content with the attachment's sha256.
func runBig(tb testing.TB, size int) bigResult {
	tb.Helper()
	rt := testenv.RequireRT(tb)
	box := newMailbox(tb)
	folder := box.folder("big")
	src := "mfbig/" + folder
	br := startBridge(tb, rt.URL, rt.Token, box.imapYAML("mfbig", []string{folder}, ""), "rules:\n"+createRule(src))
	c := rtClient(tb, rt)
	marker := fmt.Sprintf("MFBIG%d", time.Now().UnixNano())

	var cw countWriter
	want, err := writeBigMail(&cw, marker, size)
	if err != nil {
		tb.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // the daemon's first poll is done: measure it idle
	w := watchHeap()
	t0 := time.Now()
	box.retry("append big mail", func() error {
		cmd := box.admin.Append(folder, cw.n, nil)
		if _, err := writeBigMail(cmd, marker, size); err != nil {
			cmd.Close()
			return err
		}
		if err := cmd.Close(); err != nil {
			return err
		}
		_, err := cmd.Wait()
		return err
	})
	ev := br.waitFinal(src, 1, 3*time.Minute)[0]
	r := w.stop()
	r.took = time.Since(t0)
	if ev.State != "done" {
		tb.Fatalf("event %s: %s %s", ev.ID, ev.State, ev.Reason)
	}
	id := ticketOf(tb, ev)
	atts, err := c.Attachments(context.Background(), id)
	if err != nil {
		tb.Fatal(err)
	}
	for _, a := range atts {
		if a.Name != "disk.img" {
			continue
		}
		if got, _ := rtContent(tb, c, id, a.ID); got != want {
			tb.Fatalf("ticket %d: RT's disk.img has sha256 %s, the attachment %s", id, got, want)
		}
		return r
	}
	tb.Fatalf("ticket %d has no disk.img attachment: %+v", id, atts)
	return r
}

// writeBigMail writes a mail (CRLF) with a short text and a base64
// attachment "disk.img" of size pseudo-random bytes; it returns the
// attachment's sha256.
func writeBigMail(w io.Writer, marker string, size int) (string, error) {
	head := "From: Big Sender <big@example.com>\r\nTo: support@example.com\r\n" +
		"Subject: big attachment " + marker + "\r\nMessage-ID: <" + marker + "@big.example.com>\r\n" +
		"Date: Mon, 02 Mar 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"=big=\"\r\n\r\n" +
		"--=big=\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nA disk image is attached. " + marker + "\r\n" +
		"--=big=\r\nContent-Type: application/octet-stream; name=\"disk.img\"\r\n" +
		"Content-Disposition: attachment; filename=\"disk.img\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
	if _, err := io.WriteString(w, head); err != nil {
		return "", err
	}
	h := sha256.New()
	lw := &lineWriter{w: w}
	enc := base64.NewEncoder(base64.StdEncoding, lw)
	rnd := rand.New(rand.NewPCG(uint64(size), 7))
	buf := make([]byte, 57*1024)
	for left := size; left > 0; {
		n := min(left, len(buf))
		for i := 0; i < n; i += 8 {
			v := rnd.Uint64()
			for j := 0; j < 8 && i+j < n; j++ {
				buf[i+j] = byte(v >> (8 * j))
			}
		}
		h.Write(buf[:n])
		if _, err := enc.Write(buf[:n]); err != nil {
			return "", err
		}
		left -= n
	}
	if err := enc.Close(); err != nil {
		return "", err
	}
	if err := lw.end(); err != nil {
		return "", err
	}
	if _, err := io.WriteString(w, "--=big=--\r\n"); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// lineWriter breaks base64 into 76-character CRLF lines.
type lineWriter struct {
	w   io.Writer
	col int
}

func (l *lineWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), 76-l.col)
		if _, err := l.w.Write(p[:k]); err != nil {
			return 0, err
		}
		p, l.col = p[k:], l.col+k
		if l.col == 76 {
			if _, err := io.WriteString(l.w, "\r\n"); err != nil {
				return 0, err
			}
			l.col = 0
		}
	}
	return n, nil
}

func (l *lineWriter) end() error {
	if l.col == 0 {
		return nil
	}
	l.col = 0
	_, err := io.WriteString(l.w, "\r\n")
	return err
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// heapWatch samples this process's heap (the in-process daemon's, plus the
// test's own streaming buffers) until stop.
type heapWatch struct {
	quit chan struct{}
	wg   sync.WaitGroup
	r    bigResult
}

func watchHeap() *heapWatch {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w := &heapWatch{quit: make(chan struct{})}
	w.r.baseHeap, w.r.peakHeap, w.r.baseSys, w.r.peakSys = ms.HeapInuse, ms.HeapInuse, ms.Sys, ms.Sys
	w.r.alloc = ms.TotalAlloc
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-w.quit:
				return
			case <-tick.C:
			}
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			w.r.peakHeap = max(w.r.peakHeap, ms.HeapInuse)
			w.r.peakSys = max(w.r.peakSys, ms.Sys)
		}
	}()
	return w
}

func (w *heapWatch) stop() bigResult {
	close(w.quit)
	w.wg.Wait()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.r.alloc = ms.TotalAlloc - w.r.alloc
	return w.r
}

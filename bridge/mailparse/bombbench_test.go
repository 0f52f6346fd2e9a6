package mailparse

import (
	"bytes"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// seekOpener opens raw as the store hands out a payload file: a reader that
// can seek, so Attachment.Open starts at the part.
func seekOpener(raw []byte) func() (io.ReadCloser, error) {
	return func() (io.ReadCloser, error) { return seekCloser{bytes.NewReader(raw)}, nil }
}

type seekCloser struct{ *bytes.Reader }

func (seekCloser) Close() error { return nil }

// daemonPath does what the daemon does with a stored mail: parse it, read
// the text, and for every attachment what the executor and the RT client
// do (a look at the head of text parts, an open to size an empty one, the
// upload), and the HTML-only mail's conversion to text.
func daemonPath(tb testing.TB, raw []byte) {
	o := Options{}
	if os.Getenv("RTBRIDGE_BOMB_UNCAPPED") == "1" {
		// Show the parser linear without the caps' help.
		o = Options{MaxHeaderBytes: 1 << 30, MaxParts: 1 << 30, MaxAttachments: 1 << 30, MaxTextBytes: 1 << 30}
	}
	m, err := o.Parse(seekOpener(raw))
	if err != nil {
		tb.Fatal(err)
	}
	n := len(m.TextBody) + len(m.HTMLBody)
	if m.TextBody == "" && m.HTMLBody != "" {
		n += len(HTMLToText(m.HTMLBody)) // html: text
	}
	head := make([]byte, 8<<10)
	for _, a := range m.Attachments {
		if strings.HasPrefix(a.ContentType, "text/") {
			rc, err := a.Open()
			if err != nil {
				tb.Fatal(err)
			}
			k, _ := io.ReadFull(rc, head)
			n += k
			rc.Close()
		}
		if a.Size == 0 {
			rc, err := a.Open()
			if err != nil {
				tb.Fatal(err)
			}
			rc.Close()
		}
		rc, err := a.Open()
		if err != nil {
			tb.Fatal(err)
		}
		k, err := io.Copy(io.Discard, rc)
		rc.Close()
		if err != nil || k != a.Size {
			tb.Fatalf("attachment %s: %d bytes (%v), Size %d", a.Name, k, err, a.Size)
		}
	}
	_ = n
}

func bombSize() int {
	if n, err := strconv.Atoi(os.Getenv("RTBRIDGE_BOMB_SIZE")); err == nil && n > 0 {
		return n
	}
	return 4 << 20
}

// BenchmarkBombs runs every bomb through the daemon's path next to a benign
// mail of the same size (RTBRIDGE_BOMB_SIZE bytes, default 4 MiB) and
// reports each one's cost as a multiple of the benign one (x-benign).
func BenchmarkBombs(b *testing.B) {
	size := bombSize()
	var benignNs float64
	run := func(name string, raw []byte) {
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				daemonPath(b, raw)
			}
			ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			if benignNs == 0 {
				benignNs = ns
			}
			b.ReportMetric(ns/benignNs, "x-benign")
		})
	}
	run("benign", benignMail(size))
	for _, bm := range bombs {
		run(bm.name, bm.gen(size))
	}
}

// TestPrintBombRatios prints a table of every bomb's cost through the
// daemon's path against a benign mail of the same size. It measures, so it
// only runs when asked: RTBRIDGE_BENCH=1 go test -run TestPrintBombRatios -v
// (RTBRIDGE_BOMB_SIZE sets the size, RTBRIDGE_BOMB_UNCAPPED=1 lifts the
// caps; a subtest name picks one bomb). Each
// bomb is timed in rounds alternating with the benign mail and the fastest
// round counts for both, so a busy machine skews the ratio little.
func TestPrintBombRatios(t *testing.T) {
	if os.Getenv("RTBRIDGE_BENCH") != "1" {
		t.Skip("set RTBRIDGE_BENCH=1 to measure the bombs")
	}
	size := bombSize()
	benign := benignMail(size)
	t.Logf("%-22s %9s %11s %11s %8s %9s %11s", "input", "bytes", "time/op", "benign/op", "x-benign", "allocs/op", "bytes/op")
	for _, bm := range append([]bomb{{"benign", benignMail}}, bombs...) {
		t.Run(bm.name, func(t *testing.T) {
			raw := bm.gen(size)
			var best, bestBenign time.Duration
			for range 5 {
				d := timePerOp(t, raw)
				db := timePerOp(t, benign)
				if best == 0 || d < best {
					best = d
				}
				if bestBenign == 0 || db < bestBenign {
					bestBenign = db
				}
			}
			allocs, bytes := allocsPerOp(t, raw)
			t.Logf("%-22s %9d %11s %11s %8.2f %9d %11d", bm.name, len(raw), best, bestBenign,
				float64(best)/float64(bestBenign), allocs, bytes)
		})
	}
}

// timePerOp runs the daemon's path on raw for about 50 ms and returns the
// time per run.
func timePerOp(t *testing.T, raw []byte) time.Duration {
	start := time.Now()
	n := 0
	for ; n == 0 || time.Since(start) < 50*time.Millisecond; n++ {
		daemonPath(t, raw)
	}
	return time.Since(start) / time.Duration(n)
}

func allocsPerOp(t *testing.T, raw []byte) (uint64, uint64) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	daemonPath(t, raw)
	runtime.ReadMemStats(&after)
	return after.Mallocs - before.Mallocs, after.TotalAlloc - before.TotalAlloc
}

package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/smtp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/rtapi"
)

// benchMail is one of the benchmark's mails: text, and for every fifth a
// 64 KiB binary attachment.
type benchMail struct {
	text string
	att  []byte
}

func benchMails(n int) []benchMail {
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]benchMail, n)
	for i := range out {
		words := make([]string, 50+r.IntN(800))
		for j := range words {
			words[j] = fmt.Sprintf("w%d", r.IntN(5000))
		}
		out[i].text = strings.Join(words, " ")
		if i%5 == 0 {
			out[i].att = make([]byte, 64<<10)
			for j := range out[i].att {
				out[i].att[j] = byte(r.Uint32())
			}
		}
	}
	return out
}

// leg is one way into RT, timed from the first mail submitted to the last
// ticket seen, with each mail's latency from its submission to its ticket
// showing in a search (polled once a second, so latencies are ±1 s).
type legResult struct {
	name    string
	tickets int
	dups    int
	secs    float64
	lat     []time.Duration
}

// BenchmarkMTAPaths delivers the same 100 mails, in one run and to the same
// RT, four ways: RT's own ceiling (the tickets created over REST, one
// session, one at a time; measured first and last, the faster counts),
// Postfix → rt-mailgate, Postfix → rtbridge mailgate and Postfix → LMTP. It reports tickets/s, the ratio to RT's
// ceiling and the mail-to-ticket latency p50/p99 of each.
//
//	RTBRIDGE_INTEGRATION=1 go test -run '^$' -bench MTAPaths -benchtime 1x -timeout 30m ./bridge/mtasource/e2e
func BenchmarkMTAPaths(b *testing.B) {
	const n = 100
	e := setup(b)
	rtmg, ok := testenv.Lookup("POSTFIX_RT_MAILGATE_ADDRESS")
	if !ok {
		b.Fatal("POSTFIX_RT_MAILGATE_ADDRESS not set: rt-mailgate is not installed")
	}
	mails := benchMails(n)
	for range b.N {
		run := tag("B")
		var res []legResult
		res = append(res, e.ceiling(run+"-ceil", mails))
		res = append(res, e.viaPostfix(run+"-rtmg", rtmg, mails))
		e.start()
		res = append(res, e.viaPostfix(run+"-mailgate", e.pf["POSTFIX_PIPE_ADDRESS"], mails))
		res = append(res, e.viaPostfix(run+"-lmtp", e.pf["POSTFIX_LMTP_ADDRESS"], mails))
		e.stop()
		// RT's ceiling again at the end: RT slows down as its database
		// grows and with other load, and the faster of the two is the ceiling.
		res = append(res, e.ceiling(run+"-ceil2", mails))
		ceil := max(float64(res[0].tickets)/res[0].secs, float64(res[4].tickets)/res[4].secs)
		b.Logf("%-28s %8s %5s %7s %9s %8s %8s", "leg", "tickets", "dups", "secs", "tickets/s", "vs_ceil", "p50/p99")
		for _, r := range res {
			rate := float64(r.tickets) / r.secs
			b.Logf("%-28s %4d/%-3d %5d %7.1f %9.2f %8.2f %s", r.name, r.tickets, n, r.dups, r.secs, rate, rate/ceil, pcts(r.lat))
			b.ReportMetric(rate, strings.TrimPrefix(r.name, run+"-")+"_tickets/s")
		}
	}
}

// ceiling creates the tickets over REST 1.0 directly: RT's own speed.
func (e *env) ceiling(tagName string, mails []benchMail) legResult {
	c, err := rtapi.New(rtapi.Config{URL: e.rt.URL, Auth: rtapi.NewTokenAuth(e.rt.Token)})
	if err != nil {
		e.t.Fatal(err)
	}
	start := time.Now()
	var lat []time.Duration
	for i, m := range mails {
		t0 := time.Now()
		tc := rtapi.TicketCreate{Queue: "General", Subject: fmt.Sprintf("%s m%03d", tagName, i),
			Requestors: []string{"bench@example.org"}, Text: m.text}
		if m.att != nil {
			att := m.att
			tc.Attachments = []rtapi.Attachment{{Name: "blob.bin", ContentType: "application/octet-stream", Size: int64(len(att)),
				Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(att)), nil }}}
		}
		if _, err := c.CreateTicket(context.Background(), tc); err != nil {
			e.t.Fatal(err)
		}
		lat = append(lat, time.Since(t0))
	}
	r := legResult{name: tagName, secs: time.Since(start).Seconds(), lat: lat}
	r.tickets, r.dups = count(e.tickets(tagName))
	return r
}

// viaPostfix submits the mails to Postfix in one SMTP session and waits
// for their tickets.
func (e *env) viaPostfix(tagName, to string, mails []benchMail) legResult {
	const from = "bench@example.org"
	c, err := smtp.Dial(e.pf["POSTFIX_SMTP_ADDR"])
	if err != nil {
		e.t.Fatal(err)
	}
	start := time.Now()
	sent := map[string]time.Time{}
	for i, m := range mails {
		subj := fmt.Sprintf("%s m%03d", tagName, i)
		raw := mail(from, to, subj, fmt.Sprintf("%s-%d@example.org", tagName, i), nil, m.text, m.att)
		if err := c.Mail(from); err != nil {
			e.t.Fatal(err)
		}
		if err := c.Rcpt(to); err != nil {
			e.t.Fatal(err)
		}
		w, err := c.Data()
		if err != nil {
			e.t.Fatal(err)
		}
		w.Write(raw)
		if err := w.Close(); err != nil {
			e.t.Fatal(err)
		}
		sent[subj] = time.Now()
	}
	c.Quit()
	seen := map[string]time.Time{}
	var last time.Time
	deadline := time.Now().Add(15 * time.Minute)
	for len(seen) < len(mails) && time.Now().Before(deadline) {
		time.Sleep(time.Second)
		now := time.Now()
		for s := range e.tickets(tagName) {
			if _, ok := seen[s]; !ok {
				seen[s], last = now, now
			}
		}
	}
	var lat []time.Duration
	for s, t := range seen {
		lat = append(lat, t.Sub(sent[s]))
	}
	r := legResult{name: tagName, secs: last.Sub(start).Seconds(), lat: lat}
	r.tickets, r.dups = count(e.tickets(tagName))
	return r
}

func count(m map[string][]int) (tickets, dups int) {
	for _, ids := range m {
		tickets++
		dups += len(ids) - 1
	}
	return tickets, dups
}

func pcts(d []time.Duration) string {
	if len(d) == 0 {
		return "-"
	}
	slices.Sort(d)
	p := func(q float64) time.Duration {
		return d[min(len(d)-1, int(q*float64(len(d))))].Round(100 * time.Millisecond)
	}
	return fmt.Sprintf("%v/%v", p(0.5), p(0.99))
}

package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/benchtab"
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

// BenchmarkMTAPaths delivers the same mails (BENCH_MTA_MAILS, default
// 100), in one run and to the same RT, four ways: RT's own ceiling (the
// tickets created over REST on one session, BENCH_MTA_CONC at a time,
// default 2: the RT requests in flight the other legs get from Postfix's
// local delivery concurrency and the daemon's workers), Postfix →
// rt-mailgate, Postfix → rtbridge mailgate and Postfix → LMTP, in
// BENCH_ROUNDS interleaved rounds (odd rounds in reverse order) after a
// warm-up through every path that is not timed. Every leg is timed the
// same way, by RT's own record: from the first submission to the Created
// time of the leg's last ticket (RT gives seconds, so ±1 s), and each
// mail's latency from its submission to its ticket's Created time. While
// a leg runs, the same search every 2 s (the ceiling's leg included)
// tells when its tickets are all there. The daemon has the default
// rt.timeout (30s). The table gives each leg's median
// tickets/s and its ratio to the ceiling's median, latency p50/p99, and
// the CPU that RT, the daemon and Postfix (with the rt-mailgate and
// `rtbridge mailgate` processes it runs) spent per ticket.
//
//	RTBRIDGE_INTEGRATION=1 go test -run '^$' -bench MTAPaths -benchtime 1x -timeout 60m ./bridge/mtasource/e2e
func BenchmarkMTAPaths(b *testing.B) {
	n := benchtab.EnvInt("BENCH_MTA_MAILS", 100)
	conc := benchtab.EnvInt("BENCH_MTA_CONC", 2)
	e := setup(b)
	v := testenv.Require(b, "POSTFIX_RT_MAILGATE_ADDRESS", "RT_PID_FILE", "POSTFIX_PIDFILE")
	to := map[string]string{"rt-mailgate": v["POSTFIX_RT_MAILGATE_ADDRESS"], "mailgate": e.pf["POSTFIX_PIPE_ADDRESS"], "lmtp": e.pf["POSTFIX_LMTP_ADDRESS"]}
	legs := []string{"ceiling", "rt-mailgate", "mailgate", "lmtp"}
	e.defaultRTTimeout()
	e.waitSocketsFree()
	// The daemon runs through every round (idle in the other legs), so no
	// leg pays for its start.
	e.start()
	watch := map[string][]int{"rt": {benchtab.PIDFile(v["RT_PID_FILE"])}, "daemon": {e.d.Process.Pid}, "postfix": {benchtab.PIDFile(v["POSTFIX_PIDFILE"])}}
	mails := benchMails(n)
	for b.Loop() {
		run := tag("B")
		// Warm-up, not timed: RT's workers, the requestor's RT user, the
		// daemon's connections, Postfix's delivery agents.
		e.checkClock(run + "-clock")
		for _, leg := range legs {
			if leg == "ceiling" {
				e.ceiling(run+"-warm-"+leg, mails[:3], conc, watch)
			} else {
				e.viaPostfix(run+"-warm-"+leg, to[leg], mails[:3], watch)
			}
		}
		tab := benchtab.New("ceiling", legs)
		for r := range benchtab.Rounds() {
			for _, leg := range benchtab.Order(legs, r) {
				name := fmt.Sprintf("%s-r%d-%s", run, r, leg)
				if leg == "ceiling" {
					tab.Add(leg, e.ceiling(name, mails, conc, watch))
				} else {
					tab.Add(leg, e.viaPostfix(name, to[leg], mails, watch))
				}
			}
		}
		if w := benchtab.LogProblems(filepath.Join(e.dir, "daemon.log")); w != "" {
			b.Logf("daemon warnings and errors: %s", w)
		}
		tab.Print(fmt.Sprintf("BenchmarkMTAPaths: %d mails per leg, ceiling %d at a time, %d rounds; load average at the end: %s", n, conc, benchtab.Rounds(), benchtab.LoadAvg()))
		for _, leg := range legs {
			b.ReportMetric(tab.MedianRate(leg), leg+"_tickets/s")
			if leg != "ceiling" {
				b.ReportMetric(tab.Ratio(leg), leg+"_vs_ceiling")
			}
		}
	}
}

// ceiling creates the tickets over REST 1.0 directly, conc at a time on
// one session: RT's own speed at the concurrency the other legs get.
func (e *env) ceiling(tagName string, mails []benchMail, conc int, watch map[string][]int) benchtab.Result {
	var mu sync.Mutex
	sent := map[string]time.Time{}
	return e.leg(tagName, len(mails), watch, sent, func() {
		jobs := make(chan int)
		var wg sync.WaitGroup
		for range conc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range jobs {
					m := mails[i]
					subj := fmt.Sprintf("%s m%03d", tagName, i)
					tc := rtapi.TicketCreate{Queue: "General", Subject: subj, Requestors: []string{"bench@example.org"}, Text: m.text}
					if m.att != nil {
						att := m.att
						tc.Attachments = []rtapi.Attachment{{Name: "blob.bin", ContentType: "application/octet-stream", Size: int64(len(att)),
							Open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(att)), nil }}}
					}
					mu.Lock()
					sent[subj] = time.Now()
					mu.Unlock()
					if _, err := e.rtc.CreateTicket(context.Background(), tc); err != nil {
						e.t.Error(err)
					}
				}
			}()
		}
		for i := range mails {
			jobs <- i
		}
		close(jobs)
		wg.Wait()
	})
}

// viaPostfix submits the mails to Postfix in one SMTP session.
func (e *env) viaPostfix(tagName, to string, mails []benchMail, watch map[string][]int) benchtab.Result {
	const from = "bench@example.org"
	sent := map[string]time.Time{}
	return e.leg(tagName, len(mails), watch, sent, func() {
		c, err := smtp.Dial(e.pf["POSTFIX_SMTP_ADDR"])
		if err != nil {
			e.t.Error(err)
			return
		}
		defer c.Quit()
		for i, m := range mails {
			subj := fmt.Sprintf("%s m%03d", tagName, i)
			raw := mail(from, to, subj, fmt.Sprintf("%s-%d@example.org", tagName, i), nil, m.text, m.att)
			sent[subj] = time.Now()
			if err := c.Mail(from); err != nil {
				e.t.Error(err)
				return
			}
			if err := c.Rcpt(to); err != nil {
				e.t.Error(err)
				return
			}
			w, err := c.Data()
			if err != nil {
				e.t.Error(err)
				return
			}
			w.Write(raw)
			if err := w.Close(); err != nil {
				e.t.Error(err)
				return
			}
		}
	})
}

// leg runs submit, which records each subject's submission time in sent,
// while polling RT until want tickets carry tagName (or none came for
// 3 minutes); then it reads the tickets' Created times in one search.
func (e *env) leg(tagName string, want int, watch map[string][]int, sent map[string]time.Time, submit func()) benchtab.Result {
	m := benchtab.Start(watch)
	t0 := time.Now()
	submitted := make(chan struct{})
	go func() { defer close(submitted); submit() }()
	last, seen := time.Now(), 0
	for {
		time.Sleep(2 * time.Second)
		ids, err := e.rtc.SearchTickets(context.Background(), fmt.Sprintf("Subject LIKE '%s m'", tagName), "", "i")
		if err != nil {
			e.t.Fatal(err)
		}
		if len(ids) > seen {
			last, seen = time.Now(), len(ids)
		}
		if seen >= want || time.Since(last) > 3*time.Minute || e.t.Failed() {
			break
		}
	}
	<-submitted
	if e.t.Failed() {
		e.t.FailNow() // a submission failed (reported by its goroutine)
	}
	u := m.Stop()
	res, err := e.rtc.SearchTickets(context.Background(), fmt.Sprintf("Subject LIKE '%s m'", tagName), "id", "l")
	if err != nil {
		e.t.Fatal(err)
	}
	r := benchtab.Result{Want: want, Usage: u, Foreign: -1}
	first := map[string]time.Time{}
	var end time.Time
	for _, t := range res {
		if t.Ticket == nil {
			continue
		}
		c := t.Ticket.Created
		if prev, ok := first[t.Subject]; ok {
			r.Dups++
			if prev.Before(c) {
				continue
			}
		}
		first[t.Subject] = c
		if c.After(end) {
			end = c
		}
	}
	r.Items = len(first)
	for s, c := range first {
		// Created is whole seconds: a latency is its ticket's second minus
		// the submission's second.
		r.Lat = append(r.Lat, c.Sub(sent[s].Truncate(time.Second)))
	}
	if r.Items > 0 {
		r.Elapsed = end.Sub(t0.Truncate(time.Second))
		r.Foreign = e.foreign(t0, end, len(res))
	}
	return r
}

// foreign counts the tickets others created in RT between from and to
// (ours: the leg's).
func (e *env) foreign(from, to time.Time, ours int) int {
	f := func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }
	all, err := e.rtc.SearchTickets(context.Background(), fmt.Sprintf("Created >= '%s' AND Created <= '%s'", f(from.Truncate(time.Second)), f(to)), "", "i")
	if err != nil {
		return -1
	}
	return max(0, len(all)-ours)
}

// checkClock creates a ticket and fails unless RT's Created time is this
// machine's clock in UTC: the legs are timed by it.
func (e *env) checkClock(subject string) {
	before := time.Now().Truncate(time.Second)
	id, err := e.rtc.CreateTicket(context.Background(), rtapi.TicketCreate{Queue: "General", Subject: subject, Text: "clock"})
	if err != nil {
		e.t.Fatal(err)
	}
	tk, err := e.rtc.Ticket(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	if d := tk.Created.Sub(before); d < 0 || d > time.Minute {
		e.t.Fatalf("RT's Created %v for a ticket made at %v: RT's times are not this clock in UTC", tk.Created, before)
	}
}

// defaultRTTimeout gives the daemon the default rt.timeout (30s) instead
// of the e2e tests' short one, as rt-mailgate has its own (180s): on a busy
// RT a create that outlasts the timeout is reconciled only after the
// settle time, a cost of the test setting, not of the path.
func (e *env) defaultRTTimeout() {
	cfg, err := os.ReadFile(e.cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	const short, def = "\n  timeout: 10s\n", "\n  timeout: 30s\n"
	if bytes.Count(cfg, []byte(short)) != 1 {
		e.t.Fatalf("the e2e config's rt.timeout is no longer %q", short)
	}
	if err := os.WriteFile(e.cfg, bytes.Replace(cfg, []byte(short), []byte(def), 1), 0o600); err != nil {
		e.t.Fatal(err)
	}
}

// waitSocketsFree waits while another test's daemon serves the Postfix
// sockets (there is one Postfix, shared): the benchmark needs them all
// to itself.
func (e *env) waitSocketsFree() {
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(5 * time.Second) {
		busy := ""
		for _, s := range []string{e.pf["POSTFIX_MAILGATE_SOCKET"], e.pf["POSTFIX_LMTP_SOCKET"]} {
			if c, err := net.Dial("unix", s); err == nil {
				c.Close()
				busy = s
			}
		}
		if busy == "" {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("another daemon still serves %s after 10 minutes", busy)
		}
		e.t.Logf("another daemon serves %s; waiting", busy)
	}
}

package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/rtbridge/rtbridge/bridge/store"
)

const deadletterUsage = `usage: rtbridge deadletter list [--config FILE] [--json]
       rtbridge deadletter show ID [--config FILE] [--json]
       rtbridge deadletter retry ID... | retry --all [--config FILE] [--json]
       rtbridge deadletter drop ID... [--config FILE] [--json]
Flags may stand before or after the verb. list and show open the store
read-only; retry and drop are safe while the daemon runs.`

// cmdDeadletter lists, shows, retries or drops dead events through the
// store; it works while the daemon runs (the daemon notices a retry within
// its poll interval).
func cmdDeadletter(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("deadletter", stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, deadletterUsage); fs.PrintDefaults() }
	cfgPath := fs.String("config", defaultConfig, "config file")
	asJSON := fs.Bool("json", false, "print JSON")
	all := fs.Bool("all", false, "retry: every dead letter")
	rest, code, ok := parseFlags(fs, args)
	if !ok {
		return code
	}
	if len(rest) == 0 {
		fs.Usage()
		return exitUsage
	}
	verb, ids := rest[0], rest[1:]
	switch {
	case verb == "list" && len(ids) == 0 && !*all, verb == "show" && len(ids) == 1 && !*all,
		verb == "retry" && (len(ids) > 0) != *all, verb == "drop" && len(ids) > 0 && !*all:
	default:
		fs.Usage()
		return exitUsage
	}
	// retry and drop write beside a running daemon: SQLite serialises the
	// two writers (WAL, busy timeout), and the daemon picks a retried
	// event up on its next poll.
	_, st, code := openStore(ctx, *cfgPath, verb == "retry" || verb == "drop", stderr)
	if st == nil {
		return code
	}
	defer st.Close()
	var evs []*store.Event // list, retry --all
	if verb == "list" || *all {
		var err error
		if evs, err = st.DeadLetters(ctx, 0); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	switch verb {
	case "list":
		if *asJSON {
			views := make([]eventView, len(evs))
			for i, e := range evs {
				views[i] = viewOf(e)
			}
			printJSON(stdout, views)
			return 0
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tSOURCE\tRECEIVED\tRULE\tSTEP\tCLASS\tREASON")
		for _, e := range evs {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, clean(e.Source, 30), e.ReceivedAt.Format(time.RFC3339),
				clean(e.Rule, 30), stepNumber(e.DeadStep), e.DeadClass, clean(e.Reason, 80))
		}
		tw.Flush()
		fmt.Fprintf(stdout, "%d dead letter(s)\n", len(evs))
	case "show":
		e, err := st.Event(ctx, ids[0])
		if err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		if *asJSON {
			printJSON(stdout, viewOf(e))
			return 0
		}
		showEvent(stdout, e)
	case "retry", "drop":
		if *all {
			ids = ids[:0]
			for _, e := range evs {
				ids = append(ids, e.ID)
			}
		}
		failed := 0
		type outcome struct {
			ID     string `json:"id"`
			Result string `json:"result,omitempty"`
			Error  string `json:"error,omitempty"`
		}
		results := []outcome{}
		for _, id := range ids {
			var err error
			if verb == "retry" {
				err = st.Retry(ctx, id)
			} else {
				err = st.Drop(ctx, id)
			}
			o := outcome{ID: id, Result: map[string]string{"retry": "queued for retry with the current rules", "drop": "dropped"}[verb]}
			if err != nil {
				o = outcome{ID: id, Error: err.Error()}
				failed++
			}
			results = append(results, o)
			switch {
			case *asJSON:
			case err != nil:
				fmt.Fprintf(stderr, "%s: %v\n", id, err)
			default:
				fmt.Fprintf(stdout, "%s: %s\n", id, o.Result)
			}
		}
		if *asJSON {
			printJSON(stdout, results)
		}
		if failed > 0 {
			return 1
		}
	}
	return 0
}

func showEvent(w io.Writer, e *store.Event) {
	fmt.Fprintf(w, "id:        %s\nsource:    %s (%s)\nreceived:  %s\nstate:     %s\n", e.ID, clean(e.Source, 0), e.Kind, e.ReceivedAt.Format(time.RFC3339), e.State)
	if e.Rule != "" {
		fmt.Fprintf(w, "rule:      %s\n", clean(e.Rule, 0))
	}
	if e.State == store.StateDead {
		fmt.Fprintf(w, "failed:    %s, %s\n", stepName(e.DeadStep, e.Steps), e.DeadClass)
	}
	if e.Reason != "" {
		fmt.Fprintf(w, "reason:    %s\n", clean(e.Reason, 0))
	}
	fmt.Fprintf(w, "attempts:  %d\npayload:   %d bytes\n", e.Attempts, e.RawSize)
	for _, s := range e.Steps {
		fmt.Fprintf(w, "step %d: %s %s (attempts %d", s.Index+1, s.Action, s.State, s.Attempts)
		if s.Reconciles > 0 {
			fmt.Fprintf(w, ", failed checks %d", s.Reconciles)
		}
		fmt.Fprint(w, ")")
		if s.Ticket != 0 {
			fmt.Fprintf(w, " ticket %d", s.Ticket)
		}
		if s.Message != "" {
			fmt.Fprintf(w, ": %s: %s", s.Class, clean(s.Message, 0))
		}
		fmt.Fprintln(w)
	}
}

// stepNumber numbers a plan step for operators from 1, as the daemon's
// logs do (the store counts from 0); "-" when the event died before any step.
func stepNumber(idx int) string {
	if idx < 0 {
		return "-"
	}
	return strconv.Itoa(idx + 1)
}

// stepName is stepNumber with the step's action, for show.
func stepName(idx int, steps []store.Step) string {
	if idx < 0 || idx >= len(steps) {
		return "step " + stepNumber(idx)
	}
	return fmt.Sprintf("step %d (%s)", idx+1, steps[idx].Action)
}

// eventView is an event as --json shows it: steps numbered from 1, as in
// the text output and the daemon's logs.
type eventView struct {
	ID          string            `json:"id"`
	Source      string            `json:"source"`
	Kind        string            `json:"kind"`
	ReceivedAt  time.Time         `json:"received_at"`
	State       store.State       `json:"state"`
	DuplicateOf string            `json:"duplicate_of,omitempty"`
	Rule        string            `json:"rule,omitempty"`
	Key         string            `json:"key,omitempty"`
	DeadStep    int               `json:"dead_step,omitempty"` // 1-based; absent when the event died before any step
	DeadClass   string            `json:"dead_class,omitempty"`
	Reason      string            `json:"reason,omitempty"`
	Attempts    int               `json:"attempts"`
	NextAttempt time.Time         `json:"next_attempt,omitzero"`
	RetriedAt   time.Time         `json:"retried_at,omitzero"`
	RawSize     int64             `json:"raw_size"`
	Origin      map[string]string `json:"origin,omitempty"`
	Steps       []stepView        `json:"steps"`
}

type stepView struct {
	Step       int             `json:"step"` // 1-based
	Action     string          `json:"action"`
	Key        string          `json:"key,omitempty"`
	State      store.StepState `json:"state"`
	Attempts   int             `json:"attempts"`
	Reconciles int             `json:"failed_checks,omitempty"`
	Idem       string          `json:"idempotency_value,omitempty"`
	StartedAt  time.Time       `json:"started_at,omitzero"`
	FinishedAt time.Time       `json:"finished_at,omitzero"`
	Ticket     int             `json:"ticket,omitempty"`
	Txn        int             `json:"transaction,omitempty"`
	Class      string          `json:"class,omitempty"`
	Message    string          `json:"message,omitempty"`
	Reply      string          `json:"reply,omitempty"`
}

func viewOf(e *store.Event) eventView {
	v := eventView{ID: e.ID, Source: e.Source, Kind: e.Kind, ReceivedAt: e.ReceivedAt, State: e.State, DuplicateOf: e.DuplicateOf,
		Rule: e.Rule, Key: e.Key, DeadClass: e.DeadClass, Reason: e.Reason, Attempts: e.Attempts, NextAttempt: e.NextAttempt,
		RetriedAt: e.RetriedAt, RawSize: e.RawSize, Origin: e.Origin, Steps: []stepView{}}
	if e.State == store.StateDead && e.DeadStep >= 0 {
		v.DeadStep = e.DeadStep + 1
	}
	for _, s := range e.Steps {
		v.Steps = append(v.Steps, stepView{Step: s.Index + 1, Action: s.Action, Key: s.Key, State: s.State, Attempts: s.Attempts,
			Reconciles: s.Reconciles, Idem: s.Idem, StartedAt: s.StartedAt, FinishedAt: s.FinishedAt, Ticket: s.Ticket, Txn: s.Txn,
			Class: s.Class, Message: s.Message, Reply: s.Reply})
	}
	return v
}

// clean makes untrusted text (sources, RT messages, rule output) safe for a
// terminal: control characters become spaces; n > 0 truncates.
func clean(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if n > 0 && len([]rune(s)) > n {
		s = string([]rune(s)[:n-1]) + "…"
	}
	return s
}

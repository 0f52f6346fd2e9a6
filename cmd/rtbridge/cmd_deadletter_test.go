package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/bridge/source"
	"github.com/rtbridge/rtbridge/bridge/store"
	"github.com/rtbridge/rtbridge/event"
)

// A dead letter from a permanent refusal at the second step: list, show
// and --json name it step 2 (the store counts from 0, operators from 1, as
// in the logs), show the step as failed with RT's message, and the done
// step before it with its ticket.
func TestDeadletterShowsStepsFromOne(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "rtbridge.yaml")
	body := fmt.Sprintf("rt: {url: 'https://rt/', auth: token, token: x}\nstate: {dir: %q}\nrules:\n  - name: r\n    do:\n      - link: { type: Parent, target: '1' }\n", filepath.Join(dir, "state"))
	if err := os.WriteFile(cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "state"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := st.Accept(ctx, source.Incoming{Source: "hook", Kind: event.KindJSON, Raw: strings.NewReader("{}")})
	if err != nil {
		t.Fatal(err)
	}
	id := acc.ID
	steps := []store.NewStep{{Action: "create", Key: "k"}, {Action: "comment", Key: "k"}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.SavePlan(ctx, id, store.PlanRecord{Version: 1, Body: []byte(`{}`), Rule: "r", Key: "k", Steps: steps}))
	_, err = st.StepStarted(ctx, id, 0, time.Minute, "")
	must(err)
	must(st.StepDone(ctx, id, 0, store.Result{Ticket: 42}, nil))
	_, err = st.StepStarted(ctx, id, 1, time.Minute, "")
	must(err)
	must(st.Dead(ctx, id, 1, store.Failure{Class: "permanent", Message: "Permission Denied"}))
	st.Close()

	run := func(args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := dispatch(ctx, append([]string{"deadletter", "--config", cfg}, args...), &out, &errb); code != 0 {
			t.Fatalf("deadletter %v: %d %s", args, code, errb.String())
		}
		return out.String()
	}
	list := run("list")
	if !regexp.MustCompile(`(?m)^` + id + `\s.*\s2\s+permanent\s+Permission Denied$`).MatchString(list) {
		t.Fatalf("list:\n%s", list)
	}
	show := run("show", id)
	for _, want := range []string{"failed:    step 2 (comment), permanent", "step 1: create done (attempts 1) ticket 42", "step 2: comment failed (attempts 1): permanent: Permission Denied"} {
		if !strings.Contains(show, want) {
			t.Fatalf("show lacks %q:\n%s", want, show)
		}
	}
	var v struct {
		DeadStep int `json:"dead_step"`
		Steps    []struct {
			Step    int    `json:"step"`
			State   string `json:"state"`
			Message string `json:"message"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(run("--json", "show", id)), &v); err != nil {
		t.Fatal(err)
	}
	if v.DeadStep != 2 || len(v.Steps) != 2 || v.Steps[1].Step != 2 || v.Steps[1].State != "failed" || v.Steps[1].Message != "Permission Denied" {
		t.Fatalf("json %+v", v)
	}
}

package executor

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rtbridge/rtbridge/plan"
)

// A CJK subject longer than RT's 200-byte column: the plan cuts it on a
// character boundary with "…", and RT stores exactly that (RT cuts bytes
// itself, so a subject cut on characters lost its marker and a third of
// its length).
func TestCJKSubjectInRT(t *testing.T) {
	c := rtClient(t)
	h := newHarness(t)
	h.setRules(compile(t, `
- name: cjk
  when: { kind: json }
  do: [ { create: { queue: General, subject: '{{ get .JSON "msg" }}' } } ]
`))
	subject := fmt.Sprintf("%d ", time.Now().UnixNano()) + strings.Repeat("ディスク障害", 40)
	id := h.accept("g", "General", subject)
	h.runUntil(h.executor(c, "", 1), id)
	e := h.event(id)
	if e.State != "done" || len(e.Steps) != 1 || e.Steps[0].Ticket == 0 {
		t.Fatalf("event %s %s %+v", e.State, e.Reason, e.Steps)
	}
	var p plan.Plan
	if err := json.Unmarshal(e.Plan, &p); err != nil {
		t.Fatal(err)
	}
	planned := p.Steps[0].Create.Subject
	if len(planned) > 200 || !strings.HasSuffix(planned, "…") || !utf8.ValidString(planned) {
		t.Fatalf("planned subject %d bytes %q", len(planned), planned)
	}
	tk, err := c.Ticket(context.Background(), e.Steps[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Subject != planned {
		t.Fatalf("RT stored %q (%d bytes), the plan shows %q (%d bytes)", tk.Subject, len(tk.Subject), planned, len(planned))
	}
	t.Logf("ticket %d: subject %d characters, %d bytes, ends with the marker", tk.ID, utf8.RuneCountInString(planned), len(planned))
}

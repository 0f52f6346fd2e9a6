package benchtab

import (
	"fmt"
	"os"
	"strings"
)

// LogProblems counts the warnings and errors in daemon logs (slog text)
// by message: a timed-out create (reconciled after the settle time) or a
// failing claim shows here when a leg is slower than it should be.
func LogProblems(paths ...string) string {
	n := map[string]int{}
	var order []string
	for _, p := range paths {
		data, _ := os.ReadFile(p)
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.Contains(line, "level=WARN") && !strings.Contains(line, "level=ERROR") {
				continue
			}
			msg := line
			if _, after, ok := strings.Cut(line, " msg="); ok {
				msg = after
				if strings.HasPrefix(msg, `"`) {
					msg, _, _ = strings.Cut(msg[1:], `"`)
				} else {
					msg, _, _ = strings.Cut(msg, " ")
				}
			}
			// A failed step's class (transient, ambiguous, …) says why.
			if _, after, ok := strings.Cut(line, " class="); ok {
				class, _, _ := strings.Cut(after, " ")
				msg += " (" + class + ")"
			}
			if n[msg] == 0 {
				order = append(order, msg)
			}
			n[msg]++
		}
	}
	var out []string
	for _, m := range order {
		out = append(out, fmt.Sprintf("%dx %q", n[m], m))
	}
	return strings.Join(out, ", ")
}

package rtapi

import (
	"reflect"
	"testing"
)

// RT 5.0.3's answers that name the object they made or changed, as
// python-rtkit's parsed id ("ticket/17").
func TestObjectIDsFromRTAnswers(t *testing.T) {
	for prefix, want := range map[string][]string{
		"10": {"ticket/1"}, // # Ticket 1 created.
		"30": {"ticket/2"}, // # Ticket 2 updated.
		"25": {"ticket/1"}, // # Links for ticket 1 updated.
		"49": {"queue/3"},  // # Queue 3 created.
		"54": {"ticket/1"}, // 409 with # Ticket 1 updated.
		"50": nil,          // # Ticket … does not exist.
		"52": nil,          // # Could not create ticket.
		"13": nil,          // a ticket's fields
	} {
		if got := ObjectIDs(rtTranscript(t, prefix)); !reflect.DeepEqual(got, want) {
			t.Errorf("transcript %s: %q, want %q", prefix, got, want)
		}
	}
}

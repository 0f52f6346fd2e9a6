package executor

import (
	"testing"

	"github.com/rtbridge/rtbridge/plan"
)

// A create step reaches RT with every field the plan rendered.
func TestTicketCreateCopiesThePlan(t *testing.T) {
	ten := 10
	c := &plan.Create{Queue: "Support", Priority: &ten, TimeWorked: 90, CustomFields: map[string][]string{"Service": {"shop"}}}
	if rt := ticketCreate(c); rt.Queue != "Support" || *rt.Priority != 10 || rt.TimeWorked != 90 || rt.CustomFields["Service"][0] != "shop" {
		t.Fatalf("ticketCreate %+v", rt)
	}
}

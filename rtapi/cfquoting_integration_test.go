package rtapi

import (
	"reflect"
	"strings"
	"testing"
)

// One value with commas and quotes for a multi-value field stays one value
// (RT would split it into three), on create and on edit; a single-value
// field keeps such a text whole and refuses several values before anything
// is sent.
func TestRTCustomFieldOneValueWithCommas(t *testing.T) {
	c, _, _ := rtClient(t, nil)
	ctx := ctxT(t)
	one := "a, b, 'c, d'"
	id := mustCreate(t, c, TicketCreate{Subject: unique("cf one value"),
		CustomFields: map[string][]string{testMultiCF: {one}, testCF: {one}}})
	tk, err := c.Ticket(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got := tk.CustomFields[testMultiCF]; !reflect.DeepEqual(got, []string{one}) {
		t.Errorf("multi-value %s after create = %q, want %q", testMultiCF, got, []string{one})
	}
	if got := tk.CustomFields[testCF]; !reflect.DeepEqual(got, []string{one}) {
		t.Errorf("single-value %s after create = %q, want %q", testCF, got, []string{one})
	}

	edited := []string{"x, y", "z"}
	if err := c.EditTicket(ctx, id, TicketEdit{CustomFields: map[string][]string{testMultiCF: {"p, q"}}}); err != nil {
		t.Fatal(err)
	}
	if tk, err = c.Ticket(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := tk.CustomFields[testMultiCF]; !reflect.DeepEqual(got, []string{"p, q"}) {
		t.Errorf("multi-value %s after edit = %q, want [\"p, q\"]", testMultiCF, got)
	}
	if err := c.EditTicket(ctx, id, TicketEdit{CustomFields: map[string][]string{testMultiCF: edited}}); err != nil {
		t.Fatal(err)
	}
	if tk, err = c.Ticket(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := tk.CustomFields[testMultiCF]; !reflect.DeepEqual(got, edited) {
		t.Errorf("multi-value %s after edit = %q, want %q", testMultiCF, got, edited)
	}

	err = c.EditTicket(ctx, id, TicketEdit{CustomFields: map[string][]string{testCF: {"one", "two"}}})
	if KindOf(err) != Permanent || !strings.Contains(err.Error(), "takes one value") {
		t.Errorf("two values for the single-value %s: %v", testCF, err)
	}
	if tk, err = c.Ticket(ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := tk.CustomFields[testCF]; !reflect.DeepEqual(got, []string{one}) {
		t.Errorf("single-value %s changed by a refused edit: %q", testCF, got)
	}
}

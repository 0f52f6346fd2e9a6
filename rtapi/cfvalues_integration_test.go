package rtapi

import (
	"reflect"
	"testing"
)

// A single-value custom field keeps its text whole (lines, commas, quotes);
// only a multi-value field is split into values, by RT's comma rule.
func TestRTCustomFieldValuesSingleAndMulti(t *testing.T) {
	c, _, _ := rtClient(t, nil)
	ctx := ctxT(t)
	single := "first line\n  second line, with a comma\n'quoted' third"
	multi := []string{"alpha", "b, c", "it's"}
	id := mustCreate(t, c, TicketCreate{Subject: unique("h11 cf values"),
		CustomFields: map[string][]string{testCF: {single}, testMultiCF: multi}})
	tk, err := c.Ticket(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if got := tk.CustomFields[testCF]; !reflect.DeepEqual(got, []string{single}) {
		t.Errorf("single-value %s = %q, want %q", testCF, got, []string{single})
	}
	if got := tk.CustomFields[testMultiCF]; !reflect.DeepEqual(got, multi) {
		t.Errorf("multi-value %s = %q, want %q", testMultiCF, got, multi)
	}

	// Search results (format=l) decode the same way.
	res, err := c.SearchTickets(ctx, "id = "+itoa(id), "+id", "l")
	if err != nil || len(res) != 1 || res[0].Ticket == nil {
		t.Fatalf("search: %v, %+v", err, res)
	}
	if got := res[0].Ticket.CustomFields[testCF]; !reflect.DeepEqual(got, []string{single}) {
		t.Errorf("search: single-value %s = %q", testCF, got)
	}
	if got := res[0].Ticket.CustomFields[testMultiCF]; !reflect.DeepEqual(got, multi) {
		t.Errorf("search: multi-value %s = %q", testMultiCF, got)
	}
}

// The same answer decoded with and without knowing the field kinds (a
// transcript-style record as RT 5.0.3 prints it).
func TestDecodeTicketCustomFieldKinds(t *testing.T) {
	body := "RT/5.0.3 200 Ok\n\nid: ticket/7\nQueue: General\nCF.{Key}: first line\n" +
		"     second, with a comma\nCF.{Tags}: alpha,'b, c',it's\nCF.{Other}: x, y\n"
	rec := mustParseBody(t, body).Records[0]
	tk, err := decodeTicket(rec, nil, cfKinds{"key": false, "tags": true, "other": false})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{"Key": {"first line\nsecond, with a comma"}, "Tags": {"alpha", "b, c", "it's"}, "Other": {"x, y"}}
	if !reflect.DeepEqual(tk.CustomFields, want) {
		t.Errorf("known kinds: %q, want %q", tk.CustomFields, want)
	}
	// Unknown kinds: split by the comma rule, never on line ends.
	tk, err = decodeTicket(rec, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := tk.CustomFields["Key"]; !reflect.DeepEqual(got, []string{"first line\nsecond", "with a comma"}) {
		t.Errorf("unknown kind: Key = %q", got)
	}
}

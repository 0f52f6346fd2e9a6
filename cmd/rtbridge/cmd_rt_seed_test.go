package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
)

// records returns the JSON of r.Records, for comparing with the seed's shape.
func records(t *testing.T, r rtResult) string {
	t.Helper()
	b, err := json.Marshal(r.Records)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The seed's (python-rtkit's) examples against the real RT, each printed in
// its parsed shape: a create gives [[("id", "ticket/N")]], which a script
// then uses to read the ticket back; refusals give no records; a 409 gives
// its per-field errors.
func TestRTCLISeedExamples(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if dispatch(t.Context(), []string{"rt", "-h"}, &stdout, &stderr) != 0 || !strings.Contains(stderr.String(), `[["id","ticket/17"]]`) {
		t.Errorf("rt -h does not state the id record:\n%s", stderr.String())
	}
	subject := fmt.Sprintf("seed probe %d", time.Now().UnixNano())

	code, out, errOut := rtCLI(t, "post", "ticket/new", "-f", "Queue=General", "-f", "Subject="+subject)
	r := decodeResult(t, out)
	if code != 0 || r.Status != 200 || len(r.Records) != 1 || len(r.Records[0]) != 1 || r.Records[0][0][0] != "id" {
		t.Fatalf("create: code %d %s stderr %s", code, out, errOut)
	}
	ref := r.Records[0][0][1] // "ticket/N"
	id, ok := strings.CutPrefix(ref, "ticket/")
	if !ok || !reflect.DeepEqual(r.Comments, []string{"Ticket " + id + " created."}) {
		t.Fatalf("create: id %q comments %q", ref, r.Comments)
	}
	if want := `"records":[[["id","` + ref + `"]]]`; !strings.Contains(string(out), want) {
		t.Errorf("create printed %s, want %s", out, want)
	}

	// Read back by the printed id.
	code, out, _ = rtCLI(t, "get", ref)
	r = decodeResult(t, out)
	if code != 0 || len(r.Records) != 1 || field(r.Records[0], "id") != ref || field(r.Records[0], "Subject") != subject || field(r.Records[0], "Queue") != "General" {
		t.Fatalf("read back %s: %d %s", ref, code, out)
	}

	// An edit names the ticket it changed.
	code, out, _ = rtCLI(t, "post", ref, "-f", "Subject="+subject+" edited")
	r = decodeResult(t, out)
	if code != 0 || records(t, r) != `[[["id","`+ref+`"]]]` || !reflect.DeepEqual(r.Comments, []string{"Ticket " + id + " updated."}) {
		t.Errorf("edit: %d %s", code, out)
	}

	// Missing queue: 400 with RT's second comment, no records.
	code, out, _ = rtCLI(t, "post", "ticket/new", "-f", "Queue=", "-f", "Subject="+subject)
	r = decodeResult(t, out)
	if code != 1 || r.Status != 400 || r.StatusText != "Could not create ticket. Queue not set" || records(t, r) != "[]" {
		t.Errorf("missing queue: %d %s", code, out)
	}

	// No permission: Everyone may create only in General.
	owner := testenv.Require(t, "RT_OWNER_USER", "RT_OWNER_PASSWORD")
	code, out, _ = rtCLIAs(t, owner["RT_OWNER_USER"], owner["RT_OWNER_PASSWORD"], "post", "ticket/new", "-f", "Queue=___Approvals", "-f", "Subject="+subject)
	r = decodeResult(t, out)
	if code != 1 || r.Status != 400 || r.StatusText != "No permission to create tickets in the queue '___Approvals'" || records(t, r) != "[]" {
		t.Errorf("no permission: %d %s", code, out)
	}

	// Not found.
	code, out, _ = rtCLI(t, "get", "ticket/999999999")
	r = decodeResult(t, out)
	if code != 1 || r.Status != 404 || r.StatusText != "Ticket 999999999 does not exist" || records(t, r) != "[]" {
		t.Errorf("not found: %d %s", code, out)
	}

	// 409: the records are the per-field errors, as rtkit's parsed.
	code, out, _ = rtCLI(t, "post", ref, "-f", "Queue=NoSuchQueueSeed", "-f", "spam=10")
	r = decodeResult(t, out)
	want := `[[["queue","Queue NoSuchQueueSeed does not exist"],["spam","Unknown field."]]]`
	if code != 1 || r.Status != 409 || r.StatusText != "Syntax Error" || sortedRecords(t, r) != want || len(r.Form) != 1 || field(r.Form[0], "spam") != "10" {
		t.Errorf("409: %d %s, want records %s", code, out, want)
	}

	// A user RT created is named the same way.
	name := fmt.Sprintf("seed-probe-%d", time.Now().UnixNano())
	code, out, _ = rtCLI(t, "post", "user/new", "-f", "Name="+name, "-f", "EmailAddress="+name+"@bridge.test")
	r = decodeResult(t, out)
	if code != 0 || len(r.Records) != 1 || !strings.HasPrefix(field(r.Records[0], "id"), "user/") {
		t.Fatalf("user create: %d %s", code, out)
	}
	code, out, _ = rtCLI(t, "get", field(r.Records[0], "id"))
	r = decodeResult(t, out)
	if code != 0 || len(r.Records) != 1 || field(r.Records[0], "Name") != name {
		t.Errorf("user read back: %d %s", code, out)
	}
}

// sortedRecords is records with each record's pairs sorted by key (RT lists
// a 409's field errors in hash order).
func sortedRecords(t *testing.T, r rtResult) string {
	t.Helper()
	for _, rec := range r.Records {
		slices.SortFunc(rec, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	}
	return records(t, r)
}

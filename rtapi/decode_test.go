package rtapi

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func utc(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04:05", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDecodeTicket(t *testing.T) {
	tk, err := decodeTicket(rtTranscript(t, "34").Records[0], nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := &Ticket{ID: 2, Queue: "General", Owner: "root", Creator: "root", Subject: "Second ticket (edited)",
		Status: "open", Priority: 42, Created: utc("2026-11-26 22:38:22"), Started: utc("2026-11-26 22:38:23"),
		LastUpdated: utc("2026-11-26 22:38:23")}
	if !reflect.DeepEqual(tk, want) {
		t.Errorf("ticket =\n%+v\nwant\n%+v", tk, want)
	}
	tk, err = decodeTicket(rtTranscript(t, "13").Records[0], nil, nil)
	if err != nil || !reflect.DeepEqual(tk.Requestors, []string{"alice@example.com"}) || tk.Priority != 5 || !tk.Due.IsZero() {
		t.Errorf("ticket 1 = %+v, %v", tk, err)
	}
	// Documented show (rt-rest.md §3.1): minutes, custom fields, zone.
	resp := mustParseBody(t, "RT/5.0.8 200 Ok\n\nid: ticket/42\nRequestors: bob@example.com,\n            carol@example.com\nCreated: Tue Jun 04 09:12:33 2024\nTimeWorked: 25 minutes\nCF.{Severity}: High\nCF.{Tags}: urgent,'a, b'\n\n")
	berlin := time.FixedZone("CEST", 2*3600)
	tk, err = decodeTicket(resp.Records[0], berlin, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tk.TimeWorked != 25 || !tk.Created.Equal(utc("2024-06-04 07:12:33")) ||
		!reflect.DeepEqual(tk.Requestors, []string{"bob@example.com", "carol@example.com"}) ||
		!reflect.DeepEqual(tk.CustomFields, map[string][]string{"Severity": {"High"}, "Tags": {"urgent", "a, b"}}) {
		t.Errorf("ticket 42 = %+v", tk)
	}
	for _, bad := range []string{"id: queue/1\n", "id: ticket/x\n", "id: ticket/1\nPriority: high\n", "id: ticket/1\nDue: tomorrow\n", "id: ticket/1\nTimeLeft: 3 fortnights\n", "Subject: x\n"} {
		if _, err := decodeTicket(mustParseBody(t, "RT/5 200 Ok\n\n"+bad).Records[0], nil, nil); err == nil {
			t.Errorf("decodeTicket(%q) succeeded", bad)
		}
	}
}

func TestDecodeLinks(t *testing.T) {
	l, err := decodeLinks(rtTranscript(t, "29").Records[0])
	if err != nil {
		t.Fatal(err)
	}
	want := &Links{ID: 2, Links: map[LinkType][]string{
		DependedOnBy: {"fsck.com-rt://example.com/ticket/1"},
		RefersTo:     {"https://example.org/doc"},
		ReferredToBy: {"fsck.com-rt://example.com/ticket/1"},
	}}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("links = %+v", l)
	}
	wrapped := mustParseBody(t, "RT/5 200 Ok\n\nid: ticket/5/links\n\nDependsOn: fsck.com-rt://example.com/ticket/3,\n           fsck.com-rt://example.com/ticket/4\n\nMembers: fsck.com-rt://example.com/ticket/9\n")
	l, err = decodeLinks(wrapped.Records[0])
	if err != nil || !reflect.DeepEqual(l.Links[DependsOn], []string{"fsck.com-rt://example.com/ticket/3", "fsck.com-rt://example.com/ticket/4"}) || len(l.Links[Members]) != 1 {
		t.Errorf("wrapped links = %+v, %v", l, err)
	}
}

func TestDecodeAttachments(t *testing.T) {
	list, err := decodeAttachmentList(rtTranscript(t, "19").Records[0])
	if err != nil || len(list) != 14 {
		t.Fatalf("list: %d, %v", len(list), err)
	}
	if list[0] != (AttachmentInfo{ID: 1, ContentType: "text/plain", Size: "31b"}) ||
		list[9] != (AttachmentInfo{ID: 14, Name: "blob.bin", ContentType: "application/octet-stream", Size: "262b"}) {
		t.Errorf("entries = %+v / %+v", list[0], list[9])
	}
	one := mustParseBody(t, "RT/5 200 Ok\n\nid: ticket/7/attachments\nAttachments: 13: report, final.pdf (application/pdf / 2.5k)\n\n")
	list, err = decodeAttachmentList(one.Records[0])
	if err != nil || !reflect.DeepEqual(list, []AttachmentInfo{{ID: 13, Name: "report, final.pdf", ContentType: "application/pdf", Size: "2.5k"}}) {
		t.Errorf("single = %+v, %v", list, err)
	}
	a, err := decodeAttachmentInfo(rtTranscript(t, "20").Records[0])
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != 11 || a.Name != "file.txt" || a.ContentType != "text/plain" || a.Creator != "14" || a.Transaction != 45 ||
		a.Parent != 9 || !a.Created.Equal(utc("2026-11-26 22:38:22")) || !strings.HasPrefix(a.Headers, "Content-Transfer-Encoding: binary\nContent-Disposition: form-data;") {
		t.Errorf("info = %+v", a)
	}
}

func TestDecodeHistory(t *testing.T) {
	short, err := decodeHistory(rtTranscript(t, "42"))
	if err != nil || len(short) != 9 {
		t.Fatalf("short: %d %v", len(short), err)
	}
	if !reflect.DeepEqual(short[0], HistoryItem{ID: 33, Description: "Ticket created by root"}) || short[8].ID != 52 {
		t.Errorf("short = %+v … %+v", short[0], short[8])
	}
	long, err := decodeHistory(rtTranscript(t, "43"))
	if err != nil || len(long) != 9 {
		t.Fatalf("long: %d %v", len(long), err)
	}
	h := long[0]
	if h.ID != 33 || h.Ticket != 1 || h.Type != "Create" || h.Content != "Hello world\nsecond line of text" || h.Creator != "root" ||
		!h.Created.Equal(utc("2026-11-26 22:38:21")) || !reflect.DeepEqual(h.Attachments, []AttachmentInfo{{ID: 1, Size: "31b"}}) {
		t.Errorf("long[0] = %+v", h)
	}
	if len(long[1].Attachments) != 3 || long[1].Type != "EmailRecord" {
		t.Errorf("long[1] = %+v", long[1])
	}
	one, err := decodeHistory(rtTranscript(t, "44"))
	if err != nil || len(one) != 1 || one[0].ID != 33 {
		t.Errorf("one = %+v %v", one, err)
	}
}

func TestDecodeUserQueue(t *testing.T) {
	u, err := decodeUser(rtTranscript(t, "45").Records[0])
	if err != nil || u.ID != 14 || u.Name != "root" || u.EmailAddress != "root@localhost" || u.RealName != "Enoch Root" ||
		!u.Privileged || u.Disabled || u.Fields["Gecos"] != "root" || len(u.Fields) != 8 {
		t.Errorf("user = %+v, %v", u, err)
	}
	q, err := decodeQueue(rtTranscript(t, "47").Records[0])
	if err != nil || !reflect.DeepEqual(q, &Queue{ID: 1, Name: "General", Description: "The default queue",
		Fields: map[string]string{"Name": "General", "Description": "The default queue", "CorrespondAddress": "", "CommentAddress": "", "Disabled": "0", "SLADisabled": "1"}}) {
		t.Errorf("queue = %+v, %v", q, err)
	}
}

func TestDecodeSearch(t *testing.T) {
	ids, err := decodeSearch(rtTranscript(t, "38"), "i", nil, nil)
	if err != nil || !reflect.DeepEqual(ids, []SearchResult{{ID: 3}, {ID: 1}, {ID: 2}}) {
		t.Errorf("i = %+v %v", ids, err)
	}
	s, err := decodeSearch(rtTranscript(t, "36"), "s", nil, nil)
	if err != nil || !reflect.DeepEqual(s, []SearchResult{{ID: 3, Subject: "Third ticket, with file"}, {ID: 2, Subject: "Second ticket (edited)"}, {ID: 1, Subject: "First ticket"}}) {
		t.Errorf("s = %+v %v", s, err)
	}
	l, err := decodeSearch(rtTranscript(t, "39"), "l", nil, nil)
	if err != nil || len(l) != 3 || l[0].ID != 3 || l[0].Ticket.Owner != "Nobody" || l[2].Subject != "Second ticket (edited)" {
		t.Errorf("l = %+v %v", l, err)
	}
	none, err := decodeSearch(rtTranscript(t, "40"), "s", nil, nil)
	if err != nil || len(none) != 0 {
		t.Errorf("none = %+v %v", none, err)
	}
}

func TestParseMinutes(t *testing.T) {
	for in, want := range map[string]int{"0": 0, "": 0, "25 minutes": 25, "1 minute": 1, "2 hours": 120} {
		if got, err := parseMinutes(in); err != nil || got != want {
			t.Errorf("parseMinutes(%q) = %d, %v", in, got, err)
		}
	}
}

// Recorded from the test RT 5.0.3: RT quotes only the values that contain a
// comma and leaves quotes inside other values alone.
func TestDecodeTicketCFQuoting(t *testing.T) {
	resp := mustParseBody(t, "RT/5.0.3+dfsg-3~deb12u6 200 Ok\n\nid: ticket/6\nSubject: h1 cf quoting probe\nCF.{RTBridgeTags}: 'a, b',it's,c\n\n")
	tk, err := decodeTicket(resp.Records[0], nil, nil)
	if err != nil || !reflect.DeepEqual(tk.CustomFields, map[string][]string{"RTBridgeTags": {"a, b", "it's", "c"}}) {
		t.Errorf("custom fields = %q, %v", tk.CustomFields, err)
	}
}

package rest2_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rtbridge/rtbridge/internal/testenv"
	"github.com/rtbridge/rtbridge/rtapi"
	"github.com/rtbridge/rtbridge/rtapi/rest2"
)

// backend is the method set the bridge uses; both clients must offer it, so
// the daemon can switch with rt.api: rest1 | rest2.
type backend interface {
	CreateTicket(context.Context, rtapi.TicketCreate) (int, error)
	Ticket(context.Context, int) (*rtapi.Ticket, error)
	EditTicket(context.Context, int, rtapi.TicketEdit) error
	Comment(context.Context, int, rtapi.Message) error
	Correspond(context.Context, int, rtapi.Message) error
	Links(context.Context, int) (*rtapi.Links, error)
	AddLink(context.Context, int, rtapi.LinkType, string) error
	DeleteLink(context.Context, int, rtapi.LinkType, string) error
	SetLinks(context.Context, int, map[rtapi.LinkType][]string) error
	Attachments(context.Context, int) ([]rtapi.AttachmentInfo, error)
	Attachment(context.Context, int, int) (*rtapi.AttachmentInfo, error)
	AttachmentContent(context.Context, int, int) (string, io.ReadCloser, error)
	History(context.Context, int, bool) ([]rtapi.HistoryItem, error)
	HistoryItem(context.Context, int, int) (*rtapi.HistoryItem, error)
	User(context.Context, string) (*rtapi.User, error)
	Queue(context.Context, string) (*rtapi.Queue, error)
	SearchTickets(context.Context, string, string, string) ([]rtapi.SearchResult, error)
	Take(context.Context, int) error
	Steal(context.Context, int) error
	Untake(context.Context, int) error
	Merge(context.Context, int, int) error
}

var (
	_ backend = (*rtapi.Client)(nil)
	_ backend = (*rest2.Client)(nil)
)

func backends(t *testing.T) map[string]backend {
	rt := testenv.RequireRT(t)
	c1, err := rtapi.New(rtapi.Config{URL: rt.URL, Auth: rtapi.NewTokenAuth(rt.Token)})
	if err != nil {
		t.Fatal(err)
	}
	c2, err := rest2.New(rest2.Config{URL: rt.URL, Auth: rtapi.NewTokenAuth(rt.Token)})
	if err != nil {
		t.Fatal(err)
	}
	return map[string]backend{"rest1": c1, "rest2": c2}
}

func att(name, ctype string, b []byte) rtapi.Attachment {
	return rtapi.Attachment{Name: name, ContentType: ctype, Open: func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel)
	return c
}

// The acceptance test: the same plan through either backend reads back
// field for field the same, whichever backend reads.
func TestBackendsCreateIdenticalTickets(t *testing.T) {
	bs := backends(t)
	c := ctx(t)
	prio := 7
	subject := fmt.Sprintf("rest2 parity %d", time.Now().UnixNano())
	ids := map[string]int{}
	for name, b := range bs {
		id, err := b.CreateTicket(c, rtapi.TicketCreate{
			Queue: "General", Subject: subject, Requestors: []string{"alice@example.com"}, Cc: []string{"carol@example.com"},
			Priority: &prio, Due: time.Date(2031, 2, 3, 4, 5, 6, 0, time.UTC), TimeEstimated: 30,
			Text: "Disk full on db1.\n  indented line\nend", Attachments: []rtapi.Attachment{att("log.txt", "text/plain", []byte("hello\n"))},
		})
		if err != nil {
			t.Fatalf("%s create: %v", name, err)
		}
		ids[name] = id
	}
	for reader, rb := range bs {
		a, err := rb.Ticket(c, ids["rest1"])
		if err != nil {
			t.Fatal(err)
		}
		b, err := rb.Ticket(c, ids["rest2"])
		if err != nil {
			t.Fatal(err)
		}
		ignore := func(tk *rtapi.Ticket) rtapi.Ticket {
			cp := *tk
			cp.ID, cp.Created, cp.LastUpdated = 0, time.Time{}, time.Time{} // differ by nature
			return cp
		}
		if d := diff(ignore(a), ignore(b)); d != "" {
			t.Errorf("read by %s: REST 1.0 ticket %d vs REST2 ticket %d differ (-rest1 +rest2):\n%s", reader, ids["rest1"], ids["rest2"], d)
		}
		if a.Subject != subject || a.Priority != 7 || a.TimeEstimated != 30 || len(a.Requestors) != 1 {
			t.Errorf("read by %s: unexpected ticket %+v", reader, a)
		}
	}
	// The two backends read the same ticket identically, too.
	x, _ := bs["rest1"].Ticket(c, ids["rest2"])
	y, _ := bs["rest2"].Ticket(c, ids["rest2"])
	if d := diff(x, y); d != "" {
		t.Errorf("ticket %d read by rest1 vs rest2 (-rest1 +rest2):\n%s", ids["rest2"], d)
	}
}

func TestREST2Operations(t *testing.T) {
	rt := testenv.RequireRT(t)
	cl, err := rest2.New(rest2.Config{URL: rt.URL, Auth: rtapi.NewTokenAuth(rt.Token), MultipartOver: 4096})
	if err != nil {
		t.Fatal(err)
	}
	c := ctx(t)
	tag := fmt.Sprintf("r2ops%d", time.Now().UnixNano())
	big := bytes.Repeat([]byte{0, 1, 2, 250, '\n'}, 3000) // 15 kB binary: multipart
	id, err := cl.CreateTicket(c, rtapi.TicketCreate{Queue: "General", Subject: tag + " a", Text: "first",
		Attachments: []rtapi.Attachment{att("big.bin", "application/octet-stream", big)}})
	if err != nil {
		t.Fatal(err)
	}
	id2, err := cl.CreateTicket(c, rtapi.TicketCreate{Queue: "General", Subject: tag + " b"})
	if err != nil {
		t.Fatal(err)
	}
	// Comment with a small (base64 JSON) attachment, reply, edit.
	if err := cl.Comment(c, id, rtapi.Message{Text: "a comment", Attachments: []rtapi.Attachment{att("n.txt", "text/plain", []byte("note"))}}); err != nil {
		t.Fatal(err)
	}
	if err := cl.Correspond(c, id, rtapi.Message{Text: "a reply", TimeWorked: 3}); err != nil {
		t.Fatal(err)
	}
	if err := cl.EditTicket(c, id, rtapi.TicketEdit{Fields: map[string]string{"Subject": tag + " a2", "Status": "open"}}); err != nil {
		t.Fatal(err)
	}
	// RT's 200-with-messages refusal becomes an error, and the valid part is applied.
	err = cl.EditTicket(c, id, rtapi.TicketEdit{Fields: map[string]string{"Status": "bogus", "Priority": "9"}})
	var re *rtapi.Error
	if !errors.As(err, &re) || !re.Partial || !strings.Contains(re.Text, "bogus") || rtapi.KindOf(err) != rtapi.Permanent {
		t.Fatalf("edit with an invalid status: err = %v", err)
	}
	tk, err := cl.Ticket(c, id)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Subject != tag+" a2" || tk.Status != "open" || tk.Priority != 9 || tk.TimeWorked != 3 || tk.Creator != "root" {
		t.Errorf("ticket after edits: %+v", tk)
	}
	// Attachments: the binary one comes back byte for byte.
	infos, err := cl.Attachments(c, id)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range infos {
		if a.Name != "big.bin" {
			continue
		}
		found = true
		ct, rc, err := cl.AttachmentContent(c, id, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(rc)
		if !bytes.Equal(got, big) || ct != "application/octet-stream" {
			t.Errorf("big.bin: %d bytes %q, want %d bytes", len(got), ct, len(big))
		}
	}
	if !found {
		t.Errorf("big.bin not among attachments %+v", infos)
	}
	// Links: add, read as REST 1.0 URIs, delete, set.
	if err := cl.AddLink(c, id, rtapi.DependsOn, fmt.Sprint(id2)); err != nil {
		t.Fatal(err)
	}
	if err := cl.AddLink(c, id, rtapi.RefersTo, "https://example.org/runbook"); err != nil {
		t.Fatal(err)
	}
	ln, err := cl.Links(c, id)
	if err != nil {
		t.Fatal(err)
	}
	want := map[rtapi.LinkType][]string{rtapi.DependsOn: {fmt.Sprintf("fsck.com-rt://example.com/ticket/%d", id2)}, rtapi.RefersTo: {"https://example.org/runbook"}}
	if d := diff(want, ln.Links); d != "" {
		t.Errorf("links (-want +got):\n%s", d)
	}
	if err := cl.DeleteLink(c, id, rtapi.DependsOn, fmt.Sprint(id2)); err != nil {
		t.Fatal(err)
	}
	if err := cl.SetLinks(c, id, map[rtapi.LinkType][]string{rtapi.RefersTo: {}}); err != nil {
		t.Fatal(err)
	}
	if ln, _ = cl.Links(c, id); len(ln.Links) != 0 {
		t.Errorf("links after delete and set: %v", ln.Links)
	}
	// History with content.
	h, err := cl.History(c, id, true)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	comment := false
	for _, it := range h {
		types = append(types, it.Type)
		comment = comment || (it.Type == "Comment" && strings.Contains(it.Content, "a comment") && len(it.Attachments) == 1)
	}
	if len(h) < 4 || h[0].Type != "Create" || !comment {
		t.Errorf("history types %v (comment with content and attachment found: %v)", types, comment)
	}
	// Search pages through next_page (two tickets carry the tag).
	res, err := cl.SearchTickets(c, fmt.Sprintf("Subject LIKE '%s'", tag), "-id", "s")
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[0].ID != id2 || res[1].ID != id {
		t.Errorf("search: %+v", res)
	}
	// Users, queues, take.
	if u, err := cl.User(c, "root"); err != nil || u.Name != "root" || !u.Privileged {
		t.Errorf("user root: %+v %v", u, err)
	}
	if q, err := cl.Queue(c, "General"); err != nil || q.ID != 1 || q.Name != "General" {
		t.Errorf("queue General: %+v %v", q, err)
	}
	if err := cl.Take(c, id2); err != nil {
		t.Fatal(err)
	}
	if tk, err := cl.Ticket(c, id2); err != nil || tk.Owner != "root" {
		t.Errorf("owner after take: %+v %v", tk, err)
	}
}

func TestREST2Errors(t *testing.T) {
	rt := testenv.RequireRT(t)
	cl, _ := rest2.New(rest2.Config{URL: rt.URL, Auth: rtapi.NewTokenAuth(rt.Token)})
	c := ctx(t)
	_, err := cl.Ticket(c, 999999999)
	if !errors.Is(err, rtapi.ErrNotFound) || rtapi.KindOf(err) != rtapi.Permanent {
		t.Errorf("missing ticket: %v", err)
	}
	_, err = cl.CreateTicket(c, rtapi.TicketCreate{Queue: "NoSuchQueue-h5", Subject: "x"})
	if !errors.Is(err, rtapi.ErrPermission) || !strings.Contains(err.Error(), "NoSuchQueue-h5") {
		t.Errorf("unknown queue: %v", err)
	}
	_, err = cl.SearchTickets(c, "Subject ==== broken", "", "i")
	if !errors.Is(err, rtapi.ErrBadRequest) {
		t.Errorf("bad TicketSQL: %v", err)
	}
	bad, _ := rest2.New(rest2.Config{URL: rt.URL, Auth: rtapi.NewTokenAuth("1-14-wrongwrongwrong")})
	_, err = bad.Ticket(c, 1)
	if !errors.Is(err, rtapi.ErrCredentials) || rtapi.KindOf(err) != rtapi.Auth || strings.Contains(err.Error(), "wrongwrong") {
		t.Errorf("bad token: %v", err)
	}
}

// diff is "" when a and b are deeply equal, else both values.
func diff(a, b any) string {
	if reflect.DeepEqual(a, b) {
		return ""
	}
	va, vb := reflect.Indirect(reflect.ValueOf(a)), reflect.Indirect(reflect.ValueOf(b))
	if va.Kind() == reflect.Struct {
		var out []string
		for i := range va.NumField() {
			if !reflect.DeepEqual(va.Field(i).Interface(), vb.Field(i).Interface()) {
				out = append(out, fmt.Sprintf("%s: %#v != %#v", va.Type().Field(i).Name, va.Field(i).Interface(), vb.Field(i).Interface()))
			}
		}
		return strings.Join(out, "\n")
	}
	return fmt.Sprintf("-%#v\n+%#v", a, b)
}

package rtapi

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/rtbridge/rtbridge/rtapi/form"
)

// attachmentListRe matches one entry of ticket/N/attachments:
// "12: report.pdf (application/pdf / 2.5k)" (a trailing comma when more follow).
var attachmentListRe = regexp.MustCompile(`^(\d+): (.*) \(([^ ]+) / ([^)]+)\),?$`)

// historyAttachmentRe matches one line of a history record's Attachments:
// "12: untitled (11b)".
var historyAttachmentRe = regexp.MustCompile(`^(\d+): (.*) \(([^)]+)\)$`)

// unnamed maps RT's placeholders for an attachment without file name to "".
func unnamed(name string) string {
	if name == "(Unnamed)" || name == "untitled" {
		return ""
	}
	return name
}

// decodeAttachmentList decodes "id: ticket/N/attachments" + "Attachments:".
// RT formats one attachment and several differently (blank line, trailing
// commas, wrapping); both come out of the form parser as one line per entry.
func decodeAttachmentList(rec form.Record) ([]AttachmentInfo, error) {
	v, _ := rec.Get("Attachments")
	var out []AttachmentInfo
	for _, line := range strings.Split(v, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		m := attachmentListRe.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("rt: unrecognised attachment list entry %q", line)
		}
		id, _ := strconv.Atoi(m[1])
		out = append(out, AttachmentInfo{ID: id, Name: unnamed(m[2]), ContentType: m[3], Size: m[4]})
	}
	return out, nil
}

// decodeAttachmentInfo decodes ticket/N/attachments/<aid> metadata. Content
// is not decoded (RT indents and mangles it; use the /content endpoint).
func decodeAttachmentInfo(rec form.Record) (*AttachmentInfo, error) {
	id, err := parseObjectID(getTrim(rec, "id"), "attachment")
	if err != nil {
		return nil, err
	}
	a := &AttachmentInfo{ID: id}
	a.Name = getTrim(rec, "Filename")
	a.ContentType = getTrim(rec, "ContentType")
	a.Subject, _ = rec.Get("Subject")
	a.Creator = getTrim(rec, "Creator")
	a.MessageID = getTrim(rec, "MessageId")
	a.Headers, _ = rec.Get("Headers")
	if a.Created, err = parseSQLDate(getTrim(rec, "Created")); err != nil {
		return nil, err
	}
	if a.Transaction, err = atoiField(rec, "Transaction"); err != nil {
		return nil, err
	}
	parent := strings.TrimPrefix(getTrim(rec, "Parent"), "attachment/")
	if parent != "" {
		if a.Parent, err = strconv.Atoi(parent); err != nil {
			return nil, fmt.Errorf("rt: malformed attachment parent %q", parent)
		}
	}
	return a, nil
}

// decodeHistory decodes a history answer in either format: short (one
// "<tid>: <description>" line per transaction) or long (one record per
// transaction, format=l or history/id/<tid>).
func decodeHistory(resp *form.Response) ([]HistoryItem, error) {
	var out []HistoryItem
	for _, rec := range resp.Records {
		if _, ok := rec.Get("id"); ok {
			h, err := decodeHistoryItem(rec)
			if err != nil {
				return nil, err
			}
			out = append(out, *h)
			continue
		}
		for _, line := range rec.Lines {
			num, desc, ok := strings.Cut(line, ": ")
			id, err := strconv.Atoi(num)
			if !ok || err != nil {
				return nil, fmt.Errorf("rt: unrecognised history line %q", line)
			}
			out = append(out, HistoryItem{ID: id, Description: desc})
		}
	}
	return out, nil
}

// decodeHistoryItem decodes one long-format transaction record.
func decodeHistoryItem(rec form.Record) (*HistoryItem, error) {
	id, err := parseObjectID(getTrim(rec, "id"), "transaction")
	if err != nil {
		return nil, err
	}
	h := &HistoryItem{ID: id}
	if h.Ticket, err = atoiField(rec, "Ticket"); err != nil {
		return nil, err
	}
	if h.TimeTaken, err = parseMinutes(getTrim(rec, "TimeTaken")); err != nil {
		return nil, err
	}
	h.Type = getTrim(rec, "Type")
	h.Field, _ = rec.Get("Field")
	h.OldValue, _ = rec.Get("OldValue")
	h.NewValue, _ = rec.Get("NewValue")
	h.Data, _ = rec.Get("Data")
	h.Description, _ = rec.Get("Description")
	h.Content, _ = rec.Get("Content")
	h.Creator = getTrim(rec, "Creator")
	if h.Created, err = parseSQLDate(getTrim(rec, "Created")); err != nil {
		return nil, err
	}
	att, _ := rec.Get("Attachments")
	for _, line := range strings.Split(att, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		m := historyAttachmentRe.FindStringSubmatch(line)
		if m == nil {
			return nil, fmt.Errorf("rt: unrecognised history attachment %q", line)
		}
		aid, _ := strconv.Atoi(m[1])
		h.Attachments = append(h.Attachments, AttachmentInfo{ID: aid, Name: unnamed(m[2]), Size: m[3]})
	}
	return h, nil
}

// allFields returns every field of rec except id, keyed as shown.
func allFields(rec form.Record) map[string]string {
	m := make(map[string]string, len(rec.Fields))
	for _, f := range rec.Fields {
		if !strings.EqualFold(f.Key, "id") {
			m[f.Key] = f.Value
		}
	}
	return m
}

// decodeUser decodes "id: user/N" and the user's fields.
func decodeUser(rec form.Record) (*User, error) {
	id, err := parseObjectID(getTrim(rec, "id"), "user")
	if err != nil {
		return nil, err
	}
	return &User{
		ID:           id,
		Name:         getTrim(rec, "Name"),
		EmailAddress: getTrim(rec, "EmailAddress"),
		RealName:     getTrim(rec, "RealName"),
		Organization: getTrim(rec, "Organization"),
		Privileged:   getTrim(rec, "Privileged") == "1",
		Disabled:     getTrim(rec, "Disabled") == "1",
		Fields:       allFields(rec),
	}, nil
}

// decodeQueue decodes "id: queue/N" and the queue's fields.
func decodeQueue(rec form.Record) (*Queue, error) {
	id, err := parseObjectID(getTrim(rec, "id"), "queue")
	if err != nil {
		return nil, err
	}
	return &Queue{
		ID:                id,
		Name:              getTrim(rec, "Name"),
		Description:       getTrim(rec, "Description"),
		CorrespondAddress: getTrim(rec, "CorrespondAddress"),
		CommentAddress:    getTrim(rec, "CommentAddress"),
		Disabled:          getTrim(rec, "Disabled") == "1",
		Fields:            allFields(rec),
	}, nil
}

// decodeSearch decodes a search/ticket answer in format "i" (ids),
// "s" (id: subject) or "l" (full records; Ticket set). "No matching
// results." and an empty body are an empty result. kinds gives the custom
// field kinds of a queue (nil: unknown).
func decodeSearch(resp *form.Response, format string, loc *time.Location, kinds func(queue string) cfKinds) ([]SearchResult, error) {
	var out []SearchResult
	for _, rec := range resp.Records {
		if format == "l" && len(rec.Fields) > 0 {
			var k cfKinds
			if kinds != nil {
				k = kinds(getTrim(rec, "Queue"))
			}
			t, err := decodeTicket(rec, loc, k)
			if err != nil {
				return nil, err
			}
			out = append(out, SearchResult{ID: t.ID, Subject: t.Subject, Ticket: t})
			continue
		}
		for _, line := range rec.Lines {
			if line == noMatchingResults {
				continue
			}
			var r SearchResult
			var err error
			switch format {
			case "i":
				r.ID, err = parseObjectID(line, "ticket")
			default:
				num, subject, ok := strings.Cut(line, ": ")
				if !ok { // "42:" when the subject is empty
					num = strings.TrimSuffix(line, ":")
				}
				r.Subject = subject
				r.ID, err = strconv.Atoi(num)
			}
			if err != nil {
				return nil, fmt.Errorf("rt: unrecognised search result %q", line)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

const noMatchingResults = "No matching results."

package rtapi

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
)

// GatewayMail is one mail for RT's own mail gateway, as rt-mailgate posts
// it: RT parses the mail, applies its mail plugins and rights, and records
// the sender as the actor.
type GatewayMail struct {
	Queue  string // name or id; "" lets RT use queue 1
	Action string // correspond, comment, or a chain such as take-comment
	Ticket int    // 0: RT takes the ticket from the subject tag, else creates
	// Open returns the raw message (RFC 5322), anew for each attempt.
	Open func() (io.ReadCloser, error)
}

// GatewayResult is what RT's answer says besides "ok".
type GatewayResult struct {
	// Ticket is the ticket RT names in its answer; RT sends the ticket
	// lines only in DevelMode (and before 4.4.7/5.0.5), so 0 is common.
	Ticket int
	Reply  string // RT's answer, first line
}

var gatewayTicket = regexp.MustCompile(`(?m)Ticket: (\d+)`)

// RT outside DevelMode (5.0.5 and later, and Debian's 5.0.3) answers every
// refusal with maskedRefusal and writes the reason only to its log, e.g.
// "mail-gateway error: Permission Denied: x@example.org has no right to
// reply to ticket 7 in queue Support"; it also mails the sender an error.
const (
	maskedRefusal = "operation unsuccessful"
	maskedHint    = ` (RT names its reason only in DevelMode; RT's log has it as "mail-gateway error: …": ` +
		`most often a sender without the right to create, reply or comment in the queue, or no such ticket)`
)

// MailGateway posts a mail to RT's NoAuth/mail-gateway (no RT login: the
// web server must allow it only from the bridge's host). RT answers with
// no RT/x status line: "ok" is success; "not ok - …" is permanent (the
// error is RT's reason, Kind Permanent); "temporary failure - …" or any
// other answer is transient. No answer after the mail was sent is
// Ambiguous: RT may have filed it, so the caller reconciles (FindByMessageID)
// before posting again. It is never retried here.
func (c *Client) MailGateway(ctx context.Context, m GatewayMail) (GatewayResult, error) {
	const op, path = "post to the mail gateway", "NoAuth/mail-gateway"
	for name, v := range map[string]string{"queue": m.Queue, "action": m.Action} {
		if strings.ContainsAny(v, "\r\n\x00") {
			return GatewayResult{}, &Error{Op: op, Path: path, Kind: Permanent, Text: name + " contains a line break"}
		}
	}
	u, err := c.resolve(path, nil)
	if err != nil {
		return GatewayResult{}, &Error{Op: op, Path: path, Kind: Permanent, Err: err}
	}
	actx, cancel := c.attemptContext(ctx)
	defer cancel()
	var sent atomic.Bool
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) {
		if i.Err == nil {
			sent.Store(true)
		}
	}})
	body, ctype := gatewayBody(m)
	req, err := http.NewRequestWithContext(actx, http.MethodPost, u.String(), body)
	if err != nil {
		return GatewayResult{}, &Error{Op: op, Path: path, Kind: Permanent, Err: err}
	}
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("User-Agent", c.ua)
	res, err := c.hc.Do(req)
	if err != nil {
		return GatewayResult{}, transportError(ctx, op, path, err, sent.Load(), false)
	}
	defer Drain(res.Body)
	if res.StatusCode != http.StatusOK {
		return GatewayResult{}, httpStatusError(op, path, res, false)
	}
	text, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return GatewayResult{}, transportError(ctx, op, path, err, true, false)
	}
	return gatewayAnswer(op, path, string(text))
}

// gatewayAnswer classifies the mail gateway's plain-text answer.
func gatewayAnswer(op, path, text string) (GatewayResult, error) {
	first, _, _ := strings.Cut(strings.TrimLeft(text, "\r\n "), "\n")
	first = strings.TrimSpace(first)
	switch {
	case strings.HasPrefix(first, "not ok"):
		why := reason(first, "not ok")
		if why == maskedRefusal {
			why += maskedHint
		}
		return GatewayResult{}, &Error{Op: op, Path: path, Kind: Permanent, Text: "RT refused the mail: " + why}
	case strings.HasPrefix(first, "ok"):
		r := GatewayResult{Reply: first}
		if m := gatewayTicket.FindStringSubmatch(text); m != nil {
			r.Ticket, _ = strconv.Atoi(m[1])
		}
		return r, nil
	case strings.HasPrefix(first, "temporary failure"):
		return GatewayResult{}, &Error{Op: op, Path: path, Kind: Transient, Text: reason(first, "temporary failure")}
	}
	// An HTML page or anything else: RT's gateway did not answer (rt-mailgate
	// tempfails too).
	return GatewayResult{}, &Error{Op: op, Path: path, Kind: Transient, Text: fmt.Sprintf("not a mail gateway answer: %.80q", first)}
}

func reason(line, prefix string) string {
	r := strings.TrimSpace(strings.TrimPrefix(strings.TrimPrefix(line, prefix), " -"))
	if r == "" {
		return prefix
	}
	return r
}

// gatewayBody streams the multipart form rt-mailgate sends: queue, action,
// ticket, and the message as a file part.
func gatewayBody(m GatewayMail) (io.Reader, string) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		err := func() error {
			for _, f := range [][2]string{{"queue", m.Queue}, {"action", m.Action}} {
				if f[1] != "" {
					if err := mw.WriteField(f[0], f[1]); err != nil {
						return err
					}
				}
			}
			if m.Ticket > 0 {
				if err := mw.WriteField("ticket", strconv.Itoa(m.Ticket)); err != nil {
					return err
				}
			}
			h := textproto.MIMEHeader{}
			// No filename: with one, RT would see the file name as the message.
			h.Set("Content-Disposition", `form-data; name="message"`)
			h.Set("Content-Type", "application/octet-stream")
			w, err := mw.CreatePart(h)
			if err != nil {
				return err
			}
			rc, err := m.Open()
			if err != nil {
				return &attachmentError{name: "message", err: err}
			}
			defer rc.Close()
			if _, err := io.Copy(w, bufio.NewReader(rc)); err != nil {
				return err
			}
			return mw.Close()
		}()
		pw.CloseWithError(err)
	}()
	return pr, mw.FormDataContentType()
}

package mtasource

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// ErrRefused is Deliver's error when the daemon answered but did not take
// the mail; ErrPermanent marks the answers a retry cannot change (too
// large).
var (
	ErrRefused   = errors.New("the daemon did not accept the mail")
	ErrPermanent = errors.New("permanent")
)

// Deliver hands one mail to the daemon listening on socket and returns
// only once the daemon committed it (the event id) or failed. Any error
// means nothing may be assumed stored: the caller leaves the mail with the
// MTA (exit 75), which delivers it again; a mail the daemon did store
// comes back as a duplicate then, never as a second event.
func Deliver(ctx context.Context, socket string, p Params, mail io.Reader) (id string, duplicate bool, err error) {
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "unix", socket)
	}, DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://rtbridge"+mailPath+"?"+p.query().Encode(), mail)
	if err != nil {
		return "", false, err
	}
	req.Header.Set("Content-Type", "message/rfc822")
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return "", false, fmt.Errorf("daemon at %s: %w", socket, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if resp.StatusCode != http.StatusOK {
		err := fmt.Errorf("%w: %s", ErrRefused, strings.TrimSpace(string(body)))
		if resp.StatusCode == http.StatusRequestEntityTooLarge {
			err = fmt.Errorf("%w: %w", ErrPermanent, err)
		}
		return "", false, err
	}
	var rc receipt
	if err := json.Unmarshal(body, &rc); err != nil || rc.ID == "" {
		return "", false, fmt.Errorf("%w: unreadable answer %q", ErrRefused, body)
	}
	return rc.ID, rc.Duplicate, nil
}

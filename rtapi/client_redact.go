package rtapi

import (
	"errors"
	"net/url"
	"strings"
)

// secretParam reports parameters whose values never reach logs or errors.
func secretParam(k string) bool {
	switch strings.ToLower(k) {
	case "user", "pass", "password", "token":
		return true
	}
	return false
}

// RedactURL returns u as text without user info and with the values of
// user, pass, password and token parameters replaced by "REDACTED".
func RedactURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	v := *u
	v.User = nil
	if v.RawQuery != "" {
		v.RawQuery = redactQuery(v.RawQuery)
	}
	return v.String()
}

func redactQuery(raw string) string {
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "REDACTED"
	}
	for k := range q {
		if secretParam(k) {
			q[k] = []string{"REDACTED"}
		}
	}
	return q.Encode()
}

// redactErr rewrites the URL inside a *url.Error (net/http's transport
// errors repeat the full request URL, query credentials included).
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			ue.URL = RedactURL(u)
		} else {
			ue.URL = "REDACTED"
		}
	}
	return err
}

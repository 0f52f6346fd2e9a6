package mailparse

import (
	"fmt"
	"mime"
	"strings"

	"github.com/rtbridge/rtbridge/event"
)

// Classify tells whether m is a mail loop (it carries X-RT-Loop-Prevention
// naming one of rtNames: RT sent it and it came back) and whether it was
// generated automatically (auto-replies, bounces, bulk and list mail), the
// mail that must never open a new ticket by default. reasons names each
// signal, for logs and for rules that want to explain an ignore.
func Classify(m *event.Mail, rtNames []string) (loop, auto bool, reasons []string) {
	h := m.Header
	for _, v := range h.Values("X-Rt-Loop-Prevention") {
		for _, n := range rtNames {
			if n != "" && strings.EqualFold(strings.TrimSpace(v), strings.TrimSpace(n)) {
				loop = true
				reasons = append(reasons, fmt.Sprintf("X-RT-Loop-Prevention: %s", trimForProblem(v)))
			}
		}
	}
	add := func(r string) {
		auto = true
		reasons = append(reasons, r)
	}
	if v := token(h.Get("Auto-Submitted")); v != "" && v != "no" {
		add("Auto-Submitted: " + trimForProblem(v))
	}
	switch v := token(h.Get("Precedence")); v {
	case "bulk", "junk", "list", "auto_reply":
		add("Precedence: " + v)
	}
	if v := token(h.Get("X-Autoreply")); v != "" && v != "no" {
		add("X-Autoreply: " + trimForProblem(v))
	}
	if v := token(h.Get("X-Autorespond")); v != "" {
		add("X-Autorespond present")
	}
	if v := strings.TrimSpace(h.Get("X-Auto-Response-Suppress")); v != "" {
		add("X-Auto-Response-Suppress: " + trimForProblem(v))
	}
	if strings.EqualFold(token(h.Get("X-Fc-Machinegenerated")), "true") {
		add("X-FC-Machinegenerated: true")
	}
	if rp, ok := h["Return-Path"]; ok && len(rp) > 0 {
		if v := strings.Trim(strings.TrimSpace(rp[0]), "<> "); v == "" {
			add("empty Return-Path")
		}
	}
	for _, a := range append(append([]event.Address{}, m.From...), senders(m)...) {
		local, _, _ := strings.Cut(strings.ToLower(a.Address), "@")
		if local == "mailer-daemon" || local == "postmaster" {
			add("sender " + trimForProblem(a.Address))
			break
		}
	}
	if mt, params, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil &&
		mt == "multipart/report" && strings.EqualFold(params["report-type"], "delivery-status") {
		add("delivery status report")
	}
	return loop, auto, reasons
}

func senders(m *event.Mail) []event.Address {
	var out []event.Address
	for _, v := range m.Header.Values("Sender") {
		a, _ := ParseAddressList(v)
		out = append(out, a...)
	}
	return out
}

// token is the lower-cased first token of a structured value ("auto-replied;
// foo" → "auto-replied").
func token(v string) string {
	v, _, _ = strings.Cut(v, ";")
	return strings.ToLower(strings.TrimSpace(v))
}

package rules

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rtbridge/rtbridge/event"
	"github.com/rtbridge/rtbridge/plan"
)

// realisticRules is a 200-rule config shaped like a real one: mail rules
// on subject (case-insensitive, \b), sender, recipients, headers, body and
// attachment names; source-specific rules; Alertmanager label matchers;
// Grafana titles; JSON paths; any/not groups. The mail of benchMail
// matches none of the first 199 rules, so every condition that can run
// does run, and the last rule (with a capture, a key and a create) wins.
func realisticRules() string {
	var sb strings.Builder
	sb.WriteString("rules:\n")
	n := 0
	add := func(when string) {
		fmt.Fprintf(&sb, "  - name: r%d\n    when: %s\n    do: [ { create: { queue: Q%d } } ]\n", n, when, n)
		n++
	}
	for i := range 50 {
		add(fmt.Sprintf(`{ kind: mail, subject: '~(?i)\border #%d\b' }`, i))
	}
	for i := range 30 {
		add(fmt.Sprintf(`{ source: box%d, from: '~@customer%d\.example$' }`, i, i))
	}
	for i := range 25 {
		add(fmt.Sprintf(`{ header: { X-Team: team%d } }`, i))
	}
	for i := range 25 {
		add(fmt.Sprintf(`{ kind: alertmanager, labels: [ 'alertname=~"Job%d.*"', 'severity="critical"' ] }`, i))
	}
	for i := range 15 {
		add(fmt.Sprintf(`{ kind: grafana, title: '~(?i)cpu %d' }`, i))
	}
	for i := range 15 {
		add(fmt.Sprintf(`{ kind: json, source: hooks%d, json: { repo.name: svc%d } }`, i, i))
	}
	for i := range 15 {
		// Written regex first: the engine may test the cheap to: first.
		add(fmt.Sprintf(`{ body: '~(?i)invoice\s+#?%d\b', to: helpdesk%d@example.com, kind: mail }`, i, i))
	}
	for i := range 10 {
		add(fmt.Sprintf(`{ kind: mail, any: [ { subject: '~(?i)urgent %d' }, { header: { X-Priority: '%d' } } ] }`, i, i+5))
	}
	for i := range 10 {
		add(fmt.Sprintf(`{ kind: mail, attachment: '~(?i)\.r%d\.xlsx?$', from: '~@vendor%d\.example$' }`, i, i))
	}
	for i := range 4 {
		add(fmt.Sprintf(`{ source: box%d, not: { from: '~@example\.org$' } }`, i+100))
	}
	sb.WriteString(`  - name: support
    when: { source: support-mailbox, subject: '~(?P<what>\w+) broken' }
    key: 'mail:{{ .From }}'
    do:
      - create:
          queue: Support
          subject: '[{{ .Match.what }}] {{ .Subject }}'
          requestor: '{{ .From }}'
          attachments: all
`)
	return sb.String()
}

// benchMail is a typical support mail: a dozen headers, a 2 KB body, two
// attachments.
func benchMail() *event.Event {
	ev := mailEvent()
	m := ev.Mail
	m.Subject = "Re: Printer broken on floor 3 (order #4711 follow-up)"
	m.Header = map[string][]string{
		"Received": {
			"from mx1.example.org (mx1.example.org [192.0.2.10]) by mail.example.com with ESMTPS id 4711 for <support@example.com>; Thu, 26 Nov 2026 12:00:00 +0000",
			"from [10.0.0.5] (helo=laptop) by mx1.example.org with esmtpa; Thu, 26 Nov 2026 11:59:58 +0000",
		},
		"Dkim-Signature": {"v=1; a=rsa-sha256; c=relaxed/relaxed; d=example.org; s=mail; h=from:to:subject:date; bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=dGVzdA=="},
		"From":           {"Alice Example <alice@example.org>"},
		"To":             {"support@example.com"},
		"Cc":             {"boss@example.com"},
		"Subject":        {m.Subject},
		"Date":           {"Thu, 26 Nov 2026 11:59:57 +0000"},
		"Message-Id":     {"<m1@example.org>"},
		"In-Reply-To":    {"<parent@example.org>"},
		"References":     {"<root@example.org> <parent@example.org>"},
		"Mime-Version":   {"1.0"},
		"Content-Type":   {`multipart/mixed; boundary="b1"`},
		"X-Mailer":       {"Thunderbird 128.4"},
		"X-Priority":     {"3"},
		"X-Spam-Status":  {"No, score=-0.1"},
	}
	var body strings.Builder
	for body.Len() < 2048 {
		body.WriteString("Hello support team, the printer on floor 3 stopped working again this morning; it shows error 0x51 and smells of smoke. ")
		body.WriteString("We already replaced the toner cartridge and power-cycled it twice. Order reference follows in the subject line.\n")
	}
	m.TextBody = body.String()[:2048]
	m.Attachments = []event.Attachment{
		{Name: "error-display.jpg", ContentType: "image/jpeg", Size: 184_000},
		{Name: "printer-log.txt", ContentType: "text/plain", Size: 12_400},
	}
	return ev
}

// BenchmarkEvaluate200Rules measures Evaluate (matching and rendering the
// winning rule's plan) of a 200-rule config. Target ≥ 50 000 events/s on
// one core: run with GOMAXPROCS=1.
//
//   - typical-mail: realisticRules against benchMail (matches the last rule);
//   - alert: the same config against an Alertmanager notification that no
//     rule matches;
//   - uniform-mail: the original benchmark (four rule shapes repeated).
func BenchmarkEvaluate200Rules(b *testing.B) {
	run := func(b *testing.B, rs *RuleSet, ev *event.Event, want string) {
		l := memLedger{}
		b.ReportAllocs()
		for b.Loop() {
			p, err := rs.Evaluate(ev, plan.Facts{Ledger: l})
			if err != nil || p.Rule != want {
				b.Fatalf("%v %+v", err, p)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	}
	b.Run("typical-mail", func(b *testing.B) {
		run(b, mustCompile(b, realisticRules()), benchMail(), "support")
	})
	b.Run("alert", func(b *testing.B) {
		run(b, mustCompile(b, realisticRules()), alertEvent(), "")
	})
	b.Run("uniform-mail", func(b *testing.B) {
		run(b, mustCompile(b, uniformRules()), mailEvent(), "support")
	})
}

// uniformRules is the first version of the benchmark config: 199 rules of
// four shapes, then the support rule.
func uniformRules() string {
	var sb strings.Builder
	sb.WriteString("rules:\n")
	for i := range 199 {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&sb, "  - name: r%d\n    when: { kind: mail, subject: '~(?i)order #%d\\b' }\n", i, i)
		case 1:
			fmt.Fprintf(&sb, "  - name: r%d\n    when: { source: box%d, from: '~@customer%d\\.example$' }\n", i, i, i)
		case 2:
			fmt.Fprintf(&sb, "  - name: r%d\n    when: { kind: alertmanager, labels: [ 'alertname=~\"Job%d.*\"' ] }\n", i, i)
		default:
			fmt.Fprintf(&sb, "  - name: r%d\n    when: { header: { X-Team: team%d } }\n", i, i)
		}
		fmt.Fprintf(&sb, "    do: [ { create: { queue: Q%d } } ]\n", i)
	}
	sb.WriteString(`  - name: support
    when: { source: support-mailbox, subject: '~(?P<what>\w+) broken' }
    key: 'mail:{{ .From }}'
    do:
      - create:
          queue: Support
          subject: '[{{ .Match.what }}] {{ .Subject }}'
          requestor: '{{ .From }}'
          attachments: all
`)
	return sb.String()
}

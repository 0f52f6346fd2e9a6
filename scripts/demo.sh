#!/usr/bin/env bash
# demo.sh (make demo): rtbridge's main jobs end to end against a local RT.
#   1. start RT 5 on loopback (test/servers/rt/start-rt.sh; reused when up),
#      a private Dovecot and a private Alertmanager for the demo
#   2. write a demo config: RT token auth, a JSON webhook, an Alertmanager
#      webhook, the Dovecot mailbox, and their rules
#   3. run `rtbridge run` in the background
#   4. post a JSON event with curl (202 {"id": ...} once it is stored)
#   5. wait for the ticket and show it with `rtbridge rt get`
#   6. a mail with an attachment becomes a ticket; a reply tagged with the
#      ticket's number becomes correspondence on it
#   7. an alert fires in Alertmanager (one ticket), then resolves (the same
#      ticket, resolved)
#   8. show `rtbridge status`, then stop everything (SIGTERM)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin/rtbridge}
RT_PORT=${RT_PORT:-18080}
RT_DATA_DIR=${RT_DATA_DIR:-/var/lib/rt5-ci}
[ -x "$BIN" ] || { echo "demo: $BIN missing (run make build)" >&2; exit 1; }

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. RT on 127.0.0.1:$RT_PORT"
if curl -fsS -o /dev/null "http://127.0.0.1:$RT_PORT/REST/1.0/" 2>/dev/null && [ -f "$RT_DATA_DIR/rt.env" ]; then
	echo "RT already running; reusing it"
else
	RT_PORT=$RT_PORT RT_DATA_DIR=$RT_DATA_DIR bash test/servers/rt/start-rt.sh >/dev/null
fi
# The idempotency custom field (RTBridgeKey); idempotent.
RT_DATA_DIR=$RT_DATA_DIR bash test/servers/rt/ensure-cf.sh >/dev/null 2>&1 || echo "(could not ensure custom field RTBridgeKey; tickets are still created)"
# shellcheck disable=SC1091
. "$RT_DATA_DIR/rt.env"
echo "RT_URL=$RT_URL"

tmp=$(mktemp -d /tmp/rtbridge-demo.XXXXXX)
chmod 0755 "$tmp" # Dovecot's auth process must reach imap/ inside; secrets stay 0600
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	IMAP_DIR=$tmp/imap bash test/servers/imap/stop-imap.sh >/dev/null 2>&1 || true
	AM_DIR=$tmp/am bash test/servers/alertmanager/stop-alertmanager.sh >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(freeport)
imap_port=$(freeport)
am_port=$(freeport)
printf '%s\n' "$RT_TOKEN" >"$tmp/rt-token"
printf 'demo-webhook-token\n' >"$tmp/webhook-token"
printf 'demo-am-token\n' >"$tmp/am-token"
printf 'demo-pass\n' >"$tmp/imap-password"
chmod 600 "$tmp"/*-token "$tmp/imap-password"

echo "a private Dovecot on 127.0.0.1:$imap_port (user demo)"
IMAP_DIR=$tmp/imap IMAP_PORT=$imap_port IMAPS_PORT=0 IMAP_USERS=demo:demo-pass IMAP_FOLDERS=Processed \
	bash test/servers/imap/start-imap.sh >/dev/null
echo "a private Alertmanager on 127.0.0.1:$am_port, sending to the bridge"
AM_DIR=$tmp/am AM_PORT=$am_port AM_PORT_2=0 AM_TOKEN_FILE=$tmp/am-token \
	AM_RECEIVER_URL=http://127.0.0.1:$port/hooks/alertmanager bash test/servers/alertmanager/start-alertmanager.sh >/dev/null

step "2. demo config ($tmp/config.yaml)"
cat >"$tmp/config.yaml" <<YAML
rt:
  url: $RT_URL
  auth: token
  token_file: rt-token              # relative to this file
  idempotency_field: RTBridgeKey    # a created ticket records its event key: no duplicates after a crash
state:
  dir: state
log:
  level: info
http:
  listen: 127.0.0.1:$port
webhooks:
  - name: deploys
    path: /hooks/deploy
    kind: json
    auth:
      bearer:
        token_file: webhook-token
  - name: alertmanager
    path: /hooks/alertmanager
    kind: alertmanager
    auth:
      bearer:
        token_file: am-token
imap:
  - name: support
    address: 127.0.0.1:$imap_port
    tls: none
    allow_plaintext: true             # loopback demo only
    username: demo
    password_file: imap-password
    poll_interval: 2s
    disposition: "move: Processed"
    rt_names: [example.com]           # RT's \$rtname: replies tagged [example.com #N] go to ticket N
rules:
  - name: alerts open one ticket per group
    when: { kind: alertmanager }
    alert:
      create:
        queue: General
        subject: '[{{ .CommonLabels.severity }}] {{ .CommonLabels.alertname }} on {{ .CommonLabels.instance }}'
        text: '{{ range .Alerts }}{{ .Status }}: {{ get .Annotations "summary" }}{{ end }}'
      resolve_status: resolved
  - name: mail to the support box
    when: { source: support/INBOX }
    thread: true
    if_exists: [ { correspond: { attachments: all } } ]
    if_missing: [ { create: { queue: General, attachments: all } } ]
  - name: failed deploys open a ticket
    when: { kind: json, json: { status: failed } }
    do:
      - create:
          queue: General
          subject: 'Deploy of {{ .JSON.service }} {{ .JSON.version }} failed'
          text: |
            {{ .JSON.service }} {{ .JSON.version }} failed on {{ .JSON.host }}.
            Log: {{ .JSON.log }}
  - name: other deploys are only logged
    when: { kind: json }
    do: [ { ignore: 'deploy status {{ .JSON.status }} needs no ticket' } ]
YAML
sed 's/^/    /' "$tmp/config.yaml"

step "3. rtbridge run"
"$BIN" run --config "$tmp/config.yaml" 2>"$tmp/daemon.log" &
pid=$!
for _ in $(seq 1 100); do
	curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && break
	kill -0 "$pid" 2>/dev/null || { cat "$tmp/daemon.log"; exit 1; }
	sleep 0.2
done
curl -sS "http://127.0.0.1:$port/readyz"

step "4. POST a JSON event"
echo "without the token:"
curl -sS -X POST -d '{}' "http://127.0.0.1:$port/hooks/deploy"
echo "with it:"
answer=$(curl -sS -X POST -H 'Authorization: Bearer demo-webhook-token' -H 'Content-Type: application/json' \
	-d "{\"service\":\"checkout\",\"version\":\"2.4.1\",\"status\":\"failed\",\"host\":\"web-3\",\"log\":\"https://ci.example.com/run/$$\"}" \
	"http://127.0.0.1:$port/hooks/deploy")
echo "$answer"
id=$(printf '%s' "$answer" | sed -n 's/.*"id":"\([^"]*\)".*/\1/p')
[ -n "$id" ] || { echo "demo: no event id" >&2; exit 1; }

step "5. the ticket"
# ticket_of ID: the ticket the event made or touched, from the daemon's log.
ticket_of() {
	local t
	for _ in $(seq 1 150); do
		t=$(grep "event=$1" "$tmp/daemon.log" | sed -n 's/.*msg="event done".* ticket=\([0-9]*\).*/\1/p' | head -1 || true)
		[ -n "$t" ] && { echo "$t"; return; }
		if grep -q "event=$1.*dead-lettered" "$tmp/daemon.log"; then cat "$tmp/daemon.log" >&2; exit 1; fi
		sleep 0.2
	done
	echo "demo: event $1 made no ticket in 30s" >&2
	cat "$tmp/daemon.log" >&2
	exit 1
}
# event_for PATTERN [NOT]: the id of the newest event whose acceptance log
# line matches PATTERN, other than event NOT.
event_for() {
	local e
	for _ in $(seq 1 150); do
		e=$(grep -E 'msg="(event|mail) accepted"' "$tmp/daemon.log" | grep -- "$1" | sed -n 's/.* event=\([0-9A-Z]*\).*/\1/p' |
			grep -vx -- "${2:-none}" | tail -1 || true)
		[ -n "$e" ] && { echo "$e"; return; }
		sleep 0.2
	done
	echo "demo: no event from $1 in 30s" >&2
	cat "$tmp/daemon.log" >&2
	exit 1
}
ticket=$(ticket_of "$id")
echo "daemon log:"
grep "event=$id" "$tmp/daemon.log" | sed 's/^/    /'
echo "\$ rtbridge rt get ticket/$ticket/show --config config.yaml"
"$BIN" rt get "ticket/$ticket/show" --config "$tmp/config.yaml"

step "6. a mail with an attachment, then a tagged reply"
boundary=demo-$$
png=$(printf '\x89PNG\r\n\x1a\n demo image' | base64)
cat >"$tmp/mail.eml" <<EOF
From: Alice Example <alice@example.net>
To: support@example.org
Subject: Printer on floor 3 is jammed
Message-ID: <demo-$$@example.net>
Date: $(date -R)
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="$boundary"

--$boundary
Content-Type: text/plain; charset=utf-8

The printer shows error E-42. A photo is attached.
--$boundary
Content-Type: image/png; name="error.png"
Content-Disposition: attachment; filename="error.png"
Content-Transfer-Encoding: base64

$png
--$boundary--
EOF
sed -i 's/$/\r/' "$tmp/mail.eml"
echo "APPEND to the demo mailbox's INBOX (curl over IMAP):"
curl -sS --upload-file "$tmp/mail.eml" -u demo:demo-pass "imap://127.0.0.1:$imap_port/INBOX"
mail_event=$(event_for 'source=support/INBOX')
mail_ticket=$(ticket_of "$mail_event")
echo "ticket $mail_ticket; its attachments:"
"$BIN" rt get "ticket/$mail_ticket/attachments" --config "$tmp/config.yaml"
cat >"$tmp/reply.eml" <<EOF
From: Alice Example <alice@example.net>
To: support@example.org
Subject: Re: [example.com #$mail_ticket] Printer on floor 3 is jammed
Message-ID: <demo-reply-$$@example.net>
Date: $(date -R)
Content-Type: text/plain; charset=utf-8

It works again after a restart. Thanks!
EOF
sed -i 's/$/\r/' "$tmp/reply.eml"
echo "APPEND a reply whose subject carries [example.com #$mail_ticket]:"
curl -sS --upload-file "$tmp/reply.eml" -u demo:demo-pass "imap://127.0.0.1:$imap_port/INBOX"
reply_event=$(event_for 'source=support/INBOX' "$mail_event")
[ "$(ticket_of "$reply_event")" = "$mail_ticket" ] || { echo "demo: the reply went to another ticket" >&2; exit 1; }
echo "ticket $mail_ticket's history (the reply is its correspondence):"
"$BIN" rt get "ticket/$mail_ticket/history" --config "$tmp/config.yaml"

step "7. an alert fires, then resolves"
alert() { # alert ENDS_AT: post the alert to Alertmanager's API
	curl -sS -o /dev/null -w 'Alertmanager answered %{http_code}\n' -H 'Content-Type: application/json' \
		-d "[{\"labels\":{\"alertname\":\"DiskFull\",\"severity\":\"critical\",\"instance\":\"db-1\"},\"annotations\":{\"summary\":\"/var is 97% full\"},\"endsAt\":\"$1\"}]" \
		"http://127.0.0.1:$am_port/api/v2/alerts"
}
echo "firing:"
alert "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)"
fire_event=$(event_for 'source=alertmanager')
alert_ticket=$(ticket_of "$fire_event")
echo "ticket $alert_ticket:"
"$BIN" rt get "ticket/$alert_ticket/show" --config "$tmp/config.yaml"
echo "resolved (endsAt now):"
alert "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
resolve_event=$(event_for 'source=alertmanager' "$fire_event")
[ "$(ticket_of "$resolve_event")" = "$alert_ticket" ] || { echo "demo: the resolution went to another ticket" >&2; exit 1; }
echo "ticket $alert_ticket now:"
"$BIN" rt get "ticket/$alert_ticket/show" --config "$tmp/config.yaml" | grep -o '"Status","[a-z]*"' || true
"$BIN" rt get "ticket/$alert_ticket/show" --config "$tmp/config.yaml"

step "8. rtbridge status, then stop"
"$BIN" status --config "$tmp/config.yaml"
kill -TERM "$pid"
wait "$pid" && echo "daemon stopped cleanly"
pid=

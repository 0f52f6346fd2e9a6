#!/usr/bin/env bash
# demo.sh (make demo): rtbridge end to end against a local RT.
#   1. start RT 5 on loopback (test/servers/rt/start-rt.sh; reused when up)
#   2. write a demo config: RT token auth, a JSON webhook with a bearer
#      token, a rule that creates a ticket from a deploy event
#   3. run `rtbridge run` in the background
#   4. post a JSON event with curl (202 {"id": ...} once it is stored)
#   5. wait for the ticket and show it with `rtbridge rt get`
#   6. show `rtbridge status`, then stop the daemon (SIGTERM)
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
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null || echo 18481)
printf '%s\n' "$RT_TOKEN" >"$tmp/rt-token"
printf 'demo-webhook-token\n' >"$tmp/webhook-token"
chmod 600 "$tmp"/*-token

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
rules:
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
ticket=
for _ in $(seq 1 150); do
	ticket=$(grep "event=$id" "$tmp/daemon.log" | sed -n 's/.*msg="event done".* ticket=\([0-9]*\).*/\1/p' | head -1)
	[ -n "$ticket" ] && break
	if grep -q "event=$id.*dead-lettered" "$tmp/daemon.log"; then cat "$tmp/daemon.log"; exit 1; fi
	sleep 0.2
done
[ -n "$ticket" ] || { echo "demo: no ticket after 30s" >&2; cat "$tmp/daemon.log"; exit 1; }
echo "daemon log:"
grep "event=$id" "$tmp/daemon.log" | sed 's/^/    /'
echo "\$ rtbridge rt get ticket/$ticket/show --config config.yaml"
"$BIN" rt get "ticket/$ticket/show" --config "$tmp/config.yaml"

step "6. rtbridge status, then stop"
"$BIN" status --config "$tmp/config.yaml"
kill -TERM "$pid"
wait "$pid" && echo "daemon stopped cleanly"
pid=

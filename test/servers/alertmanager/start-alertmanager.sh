#!/usr/bin/env bash
# Start private Prometheus Alertmanager instances on loopback for integration
# tests: not the system service, each with its own config, storage, log and
# PID file under $AM_DIR/<instance>. Clustering is disabled, so two instances
# behave like an HA pair whose gossip failed: both deliver every notification,
# the worst case the bridge must survive. Idempotent: running instances are
# left alone (use --reload to apply a new receiver).
#
#   bash start-alertmanager.sh            # start (or keep) the instances
#   bash start-alertmanager.sh --reload   # rewrite configs, POST /-/reload
#
# Environment (all optional):
#   AM_PORT           first instance's port                     (default 19093)
#   AM_PORT_2         second instance's port, 0 = only one      (default 19094)
#   AM_DIR            state dir                                 (default /tmp/bridge-alertmanager)
#   AM_RECEIVER_URL   webhook URL of the bridge                 (default http://127.0.0.1:19097/alertmanager)
#   AM_TOKEN_FILE     bearer token file sent as Authorization   (default $AM_DIR/token, generated)
#   AM_GROUP_WAIT / AM_GROUP_INTERVAL / AM_REPEAT_INTERVAL      (defaults 1s / 2s / 1h)
#   AM_INSTALL=0      never apt-get install prometheus-alertmanager
#
# Prints KEY=VALUE lines (also written to $AM_DIR/env):
#   ALERTMANAGER_URL, ALERTMANAGER_URL_2, ALERTMANAGER_BIN, ALERTMANAGER_TOKEN_FILE,
#   ALERTMANAGER_RECEIVER_URL. Tests that need their own receiver start their
#   own instance from ALERTMANAGER_BIN (see internal/amtest).
set -euo pipefail

AM_PORT="${AM_PORT:-19093}"
AM_PORT_2="${AM_PORT_2:-19094}"
AM_DIR="${AM_DIR:-/tmp/bridge-alertmanager}"
AM_RECEIVER_URL="${AM_RECEIVER_URL:-http://127.0.0.1:19097/alertmanager}"
AM_TOKEN_FILE="${AM_TOKEN_FILE:-$AM_DIR/token}"
AM_GROUP_WAIT="${AM_GROUP_WAIT:-1s}"
AM_GROUP_INTERVAL="${AM_GROUP_INTERVAL:-2s}"
AM_REPEAT_INTERVAL="${AM_REPEAT_INTERVAL:-1h}"
AM_INSTALL="${AM_INSTALL:-1}"
reload=0
for a in "$@"; do
  case "$a" in
    --reload) reload=1 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "start-alertmanager: unknown argument $a" >&2; exit 2 ;;
  esac
done

log() { echo "start-alertmanager: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------- install
# Without systemd as PID 1 the packaged service does not start; if it
# does, it listens on :9093 and does not collide with us.
if [[ "$AM_INSTALL" == 1 ]]; then
  source "$(dirname "${BASH_SOURCE[0]}")/../lib-apt.sh"
  apt_current start-alertmanager prometheus-alertmanager || die "cannot install prometheus-alertmanager"
fi
BIN=$(command -v prometheus-alertmanager) || die "prometheus-alertmanager not installed and AM_INSTALL=0"

mkdir -p "$AM_DIR"
if [[ ! -s "$AM_TOKEN_FILE" ]]; then
  umask 077
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$AM_TOKEN_FILE"
fi

write_config() { # dir
  local tmp="$1/alertmanager.yml.tmp"
  cat >"$tmp" <<YAML
# Written by test/servers/alertmanager/start-alertmanager.sh.
route:
  receiver: rtbridge
  group_by: [alertname]
  group_wait: $AM_GROUP_WAIT
  group_interval: $AM_GROUP_INTERVAL
  repeat_interval: $AM_REPEAT_INTERVAL
receivers:
  - name: rtbridge
    webhook_configs:
      - url: '$AM_RECEIVER_URL'
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials_file: '$AM_TOKEN_FILE'
YAML
  mv "$tmp" "$1/alertmanager.yml"
}

is_running() { # dir
  [[ -s "$1/pid" ]] || return 1
  local pid; pid=$(cat "$1/pid")
  kill -0 "$pid" 2>/dev/null && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == prometheus-aler* ]]
}

ready() { curl -fsS -o /dev/null "http://127.0.0.1:$1/-/ready" 2>/dev/null; }

start_one() { # name port
  local dir="$AM_DIR/$1" port="$2"
  mkdir -p "$dir/data"
  if is_running "$dir"; then
    if [[ $reload == 1 ]]; then
      write_config "$dir"
      curl -fsS -X POST "http://127.0.0.1:$port/-/reload" >/dev/null || die "$1: reload failed (see $dir/log)"
      log "$1: reloaded on :$port"
    else
      log "$1: already running on :$port (pid $(cat "$dir/pid"))"
    fi
    return
  fi
  if ready "$port"; then die "port $port is taken by another process"; fi
  write_config "$dir"
  setsid "$BIN" \
    --config.file="$dir/alertmanager.yml" \
    --storage.path="$dir/data" \
    --web.listen-address="127.0.0.1:$port" \
    --web.external-url="http://127.0.0.1:$port/" \
    --cluster.listen-address= \
    --log.level=info >"$dir/log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  for _ in $(seq 1 100); do
    ready "$port" && { log "$1: started on :$port (pid $(cat "$dir/pid"))"; return; }
    is_running "$dir" || break
    sleep 0.1
  done
  tail -20 "$dir/log" >&2 || true
  die "$1: did not become ready on :$port"
}

start_one am1 "$AM_PORT"
[[ "$AM_PORT_2" != 0 ]] && start_one am2 "$AM_PORT_2"

{
  echo "ALERTMANAGER_BIN=$BIN"
  echo "ALERTMANAGER_URL=http://127.0.0.1:$AM_PORT"
  [[ "$AM_PORT_2" != 0 ]] && echo "ALERTMANAGER_URL_2=http://127.0.0.1:$AM_PORT_2"
  echo "ALERTMANAGER_TOKEN_FILE=$AM_TOKEN_FILE"
  echo "ALERTMANAGER_RECEIVER_URL=$AM_RECEIVER_URL"
} | tee "$AM_DIR/env"

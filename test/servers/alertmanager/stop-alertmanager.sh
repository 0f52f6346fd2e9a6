#!/usr/bin/env bash
# Stop the private Alertmanager instances started by start-alertmanager.sh
# (by PID file only; never the system service). Idempotent.
#   AM_DIR      state dir used by start-alertmanager.sh (default /tmp/bridge-alertmanager)
#   AM_WIPE=1   also delete $AM_DIR
set -euo pipefail
AM_DIR="${AM_DIR:-/tmp/bridge-alertmanager}"
log() { echo "stop-alertmanager: $*" >&2; }

for dir in "$AM_DIR"/am1 "$AM_DIR"/am2; do
  [[ -s "$dir/pid" ]] || continue
  pid=$(cat "$dir/pid")
  if kill -0 "$pid" 2>/dev/null && [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == prometheus-aler* ]]; then
    kill -TERM "$pid"
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    log "stopped $(basename "$dir") (pid $pid)"
  else
    log "$(basename "$dir"): not running"
  fi
  rm -f "$dir/pid"
done
if [[ "${AM_WIPE:-0}" == 1 ]]; then
  rm -rf "$AM_DIR"
  log "wiped $AM_DIR"
fi

#!/usr/bin/env bash
# stop-rt-basic.sh - stops the process start-rt-basic.sh started (by PID file).
set -uo pipefail
RT_BASIC_DIR="${RT_BASIC_DIR:-/tmp/bridge-rt-basic}"
PIDFILE="$RT_BASIC_DIR/rt-basic.pid"
LOG="$RT_BASIC_DIR/rt-basic.log"
[ -f "$PIDFILE" ] || exit 0
pid="$(cat "$PIDFILE" 2>/dev/null)"
case "$pid" in ''|*[!0-9]*) rm -f "$PIDFILE"; exit 0 ;; esac
# Only our process: its stdout is our log file.
if kill -0 "$pid" 2>/dev/null && [ "$(readlink "/proc/$pid/fd/1" 2>/dev/null)" = "$LOG" ]; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then pkill -KILL -P "$pid" 2>/dev/null; kill -KILL "$pid" 2>/dev/null; fi
fi
rm -f "$PIDFILE"

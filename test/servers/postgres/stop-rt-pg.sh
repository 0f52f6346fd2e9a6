#!/usr/bin/env bash
# stop-rt-pg.sh - stop the RT server started by start-rt-pg.sh, by its PID
# file ($RT_PG_DATA_DIR/rt-server.pid).  PostgreSQL keeps running
# (stop-postgres.sh stops it).
#   ./stop-rt-pg.sh          stop (keeps $RT_PG_DATA_DIR and RT's databases)
#   ./stop-rt-pg.sh --wipe   stop and delete $RT_PG_DATA_DIR entirely; RT's
#                            databases stay in PostgreSQL until the next
#                            start-rt-pg.sh rebuilds them (or stop-postgres.sh --wipe)
# Uses the same RT_PG_DATA_DIR default as start-rt-pg.sh (/var/lib/rt5-pg-ci).
# Exits 0 when nothing is running.
set -euo pipefail

RT_PG_DATA_DIR="$(realpath -m "${RT_PG_DATA_DIR:-/var/lib/rt5-pg-ci}")"
PID_FILE="$RT_PG_DATA_DIR/rt-server.pid"
LOG="$RT_PG_DATA_DIR/log/rt-server.log"
WIPE=0
for arg in "$@"; do
    case "$arg" in
        --wipe) WIPE=1 ;;
        -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "stop-rt-pg.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done
log() { echo "stop-rt-pg: $*" >&2; }

if [ -d "$RT_PG_DATA_DIR" ]; then
    exec 9>"$RT_PG_DATA_DIR/.lock"
    flock -w 600 9 || true
fi

source "$(dirname "${BASH_SOURCE[0]}")/../lib-proc.sh" # alive PID

if [ -f "$PID_FILE" ]; then
    pid="$(cat "$PID_FILE" 2>/dev/null || true)"
    case "$pid" in ''|*[!0-9]*) pid="" ;; esac
    # Only signal the PID if it still is this instance's RT server (PIDs get
    # reused, and other RTs run the same program): start-rt-pg.sh points its
    # stdout at $RT_PG_DATA_DIR/log/rt-server.log.
    if [ -n "$pid" ] && alive "$pid" \
       && [ "$(readlink "/proc/$pid/fd/1" 2>/dev/null)" = "$LOG" ]; then
        log "stopping rt-server (pid $pid)"
        kill -TERM "$pid" 2>/dev/null || true      # the Starlet master stops its workers
        for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
        if alive "$pid"; then
            log "still running after 10s, sending KILL"
            pkill -KILL -P "$pid" 2>/dev/null || true
            kill -KILL "$pid" 2>/dev/null || true
        fi
    else
        log "not running (stale PID file)"
    fi
    rm -f "$PID_FILE"
else
    log "not running (no $PID_FILE)"
fi
rm -f "$RT_PG_DATA_DIR/.run-state"

if [ "$WIPE" = 1 ] && [ -d "$RT_PG_DATA_DIR" ]; then
    rm -rf "$RT_PG_DATA_DIR"
    log "removed $RT_PG_DATA_DIR"
fi

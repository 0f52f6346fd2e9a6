#!/usr/bin/env bash
# start-rt-basic.sh - a second web process of the running test RT behind
# rt-basic-auth.psgi: an authenticating front that checks HTTP Basic
# credentials against RT's users and sets REMOTE_USER (requests without a
# Basic header fall back to RT's own login).  The main RT is left alone.
#
#   bash start-rt-basic.sh        # idempotent; prints KEY=VALUE lines
#   bash stop-rt-basic.sh
#
# Environment (all optional):
#   RT_DATA_DIR        the running test RT's state dir (default /var/lib/rt5-ci)
#   RT_BASIC_DIR       this process's state dir (default /tmp/bridge-rt-basic)
#   RT_BASIC_PORT      loopback port (default 18082)
#   RT_BASIC_WORKERS   Starlet workers (default 2)
#   RT_RUN_USER        as in start-rt.sh (default www-data)
#
# It restarts the process when the RT database file was replaced (start-rt.sh
# --reset) or the wrapper changed.
set -euo pipefail
RT_DATA_DIR="${RT_DATA_DIR:-/var/lib/rt5-ci}"
RT_BASIC_DIR="${RT_BASIC_DIR:-/tmp/bridge-rt-basic}"
RT_BASIC_PORT="${RT_BASIC_PORT:-18082}"
RT_BASIC_WORKERS="${RT_BASIC_WORKERS:-2}"
RT_RUN_USER="${RT_RUN_USER:-www-data}"

log() { echo "start-rt-basic: $*" >&2; }
die() { echo "start-rt-basic: ERROR: $*" >&2; exit 1; }
case "${1:-}" in -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONF="$RT_DATA_DIR/RT_SiteConfig.pm"
DB="$RT_DATA_DIR/rt5.db"
[ -f "$CONF" ] && [ -f "$DB" ] || die "no test RT in $RT_DATA_DIR (run start-rt.sh first)"
case "$RT_BASIC_PORT" in ''|*[!0-9]*) die "RT_BASIC_PORT must be a number" ;; esac

mkdir -p "$RT_BASIC_DIR"
exec 9>"$RT_BASIC_DIR/.lock"
flock -w 300 9 || die "another start/stop holds $RT_BASIC_DIR/.lock"
chmod 0755 "$RT_BASIC_DIR"
PIDFILE="$RT_BASIC_DIR/rt-basic.pid"
LOG="$RT_BASIC_DIR/rt-basic.log"
PSGI="$RT_BASIC_DIR/rt-basic-auth.psgi"
LOCAL="http://127.0.0.1:$RT_BASIC_PORT"

# Our process only: its stdout is our log file.
running_pid() {
    local pid
    [ -f "$PIDFILE" ] || return 1
    pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
    case "$pid" in ''|*[!0-9]*) return 1 ;; esac
    kill -0 "$pid" 2>/dev/null || return 1
    [ "$(readlink "/proc/$pid/fd/1" 2>/dev/null)" = "$LOG" ] || return 1
    echo "$pid"
}
ready() { curl -s -m 10 "$LOCAL/REST/1.0/" 2>/dev/null | grep -q '^RT/'; }

state="db=$(stat -c %d:%i "$DB") port=$RT_BASIC_PORT workers=$RT_BASIC_WORKERS psgi=$(sha256sum <"$here/rt-basic-auth.psgi" | cut -c1-16)"
pid="$(running_pid || true)"
if [ -n "$pid" ] && [ "$(cat "$RT_BASIC_DIR/state" 2>/dev/null)" = "$state" ] && ready; then
    log "already running (pid $pid) on $LOCAL"
else
    RT_BASIC_DIR="$RT_BASIC_DIR" bash "$here/stop-rt-basic.sh"
    (exec 3<>"/dev/tcp/127.0.0.1/$RT_BASIC_PORT") 2>/dev/null && die "something else listens on 127.0.0.1:$RT_BASIC_PORT"
    install -m 0644 "$here/rt-basic-auth.psgi" "$PSGI"
    : >>"$LOG"; chown "$RT_RUN_USER:" "$LOG"
    echo "=== $(date -u '+%F %T') start-rt-basic.sh on $LOCAL" >>"$LOG"
    # shellcheck disable=SC2016
    setsid setpriv --reuid="$RT_RUN_USER" --regid="$RT_RUN_USER" --init-groups \
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME="$RT_DATA_DIR" \
        RT_SITE_CONFIG="$CONF" RT_SITE_CONFIG_DIR="$RT_DATA_DIR/RT_SiteConfig.d" \
        sh -c 'echo $$ > "$0"; exec "$@"' "$RT_BASIC_DIR/.pid.tmp" \
        plackup -E deployment -s Starlet --host 127.0.0.1 --port "$RT_BASIC_PORT" \
        --max-workers "$RT_BASIC_WORKERS" "$PSGI" >>"$LOG" 2>&1 </dev/null 9>&- &
    for _ in $(seq 1 50); do [ -s "$RT_BASIC_DIR/.pid.tmp" ] && break; sleep 0.1; done
    pid="$(cat "$RT_BASIC_DIR/.pid.tmp" 2>/dev/null || echo $!)"
    rm -f "$RT_BASIC_DIR/.pid.tmp"
    echo "$pid" >"$PIDFILE"
    deadline=$((SECONDS + 180))
    until ready; do
        kill -0 "$pid" 2>/dev/null || { tail -n 30 "$LOG" >&2; rm -f "$PIDFILE"; die "exited during startup (log: $LOG)"; }
        [ "$SECONDS" -lt "$deadline" ] || { tail -n 30 "$LOG" >&2; die "not ready after 180s (log: $LOG)"; }
        sleep 0.2
    done
    printf '%s\n' "$state" >"$RT_BASIC_DIR/state"
    log "ready on $LOCAL (pid $pid)"
fi

cat <<OUT
RT_BASIC_URL=$LOCAL/
RT_BASIC_PIDFILE=$PIDFILE
RT_BASIC_LOG=$LOG
OUT

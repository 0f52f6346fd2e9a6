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
# --reset) or the wrapper changed (see web_front in lib-web.sh).
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
# shellcheck source=lib-web.sh
. "$here/lib-web.sh"

web_lock "$RT_BASIC_DIR"
web_front rt-basic "$RT_BASIC_DIR" "$here/rt-basic-auth.psgi" "$RT_BASIC_PORT" "$RT_BASIC_WORKERS"

cat <<OUT
RT_BASIC_URL=http://127.0.0.1:$RT_BASIC_PORT/
RT_BASIC_PIDFILE=$RT_BASIC_DIR/rt-basic.pid
RT_BASIC_LOG=$RT_BASIC_DIR/rt-basic.log
OUT

#!/usr/bin/env bash
# Stop the private Postfix started by start-postfix.sh.  Only a master whose
# PID is in $POSTFIX_DIR/spool/pid/master.pid AND that was started with
# MAIL_CONFIG=$POSTFIX_DIR/conf is signalled; a system Postfix is never touched.
# Idempotent.
#   POSTFIX_DIR    state dir used by start-postfix.sh   (default /tmp/rtbridge-postfix)
#   POSTFIX_WIPE=1 also delete $POSTFIX_DIR (queue, config, log, delivered files)
set -euo pipefail
POSTFIX_DIR="${POSTFIX_DIR:-/tmp/rtbridge-postfix}"
CONF="$POSTFIX_DIR/conf"
PIDFILE="$POSTFIX_DIR/spool/pid/master.pid"
log() { echo "stop-postfix: $*" >&2; }

pid=""
[[ -s "$PIDFILE" ]] && pid=$(tr -d ' \n' <"$PIDFILE")
ours() {
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null &&
    [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == master ]] &&
    tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "MAIL_CONFIG=$CONF"
}

source "$(dirname "${BASH_SOURCE[0]}")/../lib-proc.sh" # alive PID
# live (non-zombie) processes in the master's process group (master, smtpd, local, lmtp ...)
group_alive() { ps -e -o pgid=,stat= | awk -v g="$1" '$1==g && $2 !~ /^Z/ {n++} END {exit n ? 0 : 1}'; }

if ours; then
  # SIGTERM to the master: it sends SIGTERM to its process group and exits
  # (what "postfix stop" does, without that command's 1 s polling sleeps)
  kill -TERM "$pid"
  for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.02; done
  if alive "$pid"; then
    log "master $pid did not exit, SIGKILL to its process group"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  for _ in $(seq 1 100); do group_alive "$pid" || break; sleep 0.02; done
  log "stopped postfix (master pid $pid)"
else
  log "not running"
fi
rm -f "$PIDFILE"
if [[ "${POSTFIX_WIPE:-0}" == 1 ]]; then
  rm -rf "$POSTFIX_DIR"
  log "wiped $POSTFIX_DIR"
fi

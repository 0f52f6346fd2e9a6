#!/usr/bin/env bash
# start-rt-front.sh - a second web process of the running test RT that trusts
# the user Apache's SPNEGO front authenticated (see rt-remote-user.psgi), plus
# the RT user that Kerberos principal maps to.  Run it after start-rt.sh and
# before start-kdc.sh, then start the front with UPSTREAM=$RT_KRB_UPSTREAM.
#
#   bash start-rt-front.sh        # idempotent; prints KEY=VALUE lines
#   bash stop-rt-front.sh
#
# Environment (all optional):
#   RT_DATA_DIR        the running test RT's state dir (default /var/lib/rt5-ci)
#   RT_FRONT_DIR       this process's state dir (default /tmp/bridge-rt-front)
#   RT_FRONT_PORT      loopback port of this process (default 18081)
#   RT_FRONT_URL       the URL clients use, i.e. the SPNEGO front (default http://localhost:8443)
#   RT_FRONT_WORKERS   Starlet workers (default 2)
#   RT_KRB_RT_USER     RT user for the Kerberos principal (default rtuser)
#   RT_RUN_USER        as in start-rt.sh (default www-data)
#
# It restarts the process when the RT database file was replaced (start-rt.sh
# --reset), since a running process would keep the old, deleted file open.
set -euo pipefail

RT_DATA_DIR="${RT_DATA_DIR:-/var/lib/rt5-ci}"
RT_FRONT_DIR="${RT_FRONT_DIR:-/tmp/bridge-rt-front}"
RT_FRONT_PORT="${RT_FRONT_PORT:-18081}"
RT_FRONT_URL="${RT_FRONT_URL:-http://localhost:8443}"
RT_FRONT_WORKERS="${RT_FRONT_WORKERS:-2}"
RT_KRB_RT_USER="${RT_KRB_RT_USER:-rtuser}"
RT_RUN_USER="${RT_RUN_USER:-www-data}"

log() { echo "start-rt-front: $*" >&2; }
die() { echo "start-rt-front: ERROR: $*" >&2; exit 1; }
case "${1:-}" in -h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
CONF="$RT_DATA_DIR/RT_SiteConfig.pm"
DB="$RT_DATA_DIR/rt5.db"
[ -f "$CONF" ] && [ -f "$DB" ] || die "no test RT in $RT_DATA_DIR (run test/servers/rt/start-rt.sh first)"
case "$RT_FRONT_PORT" in ''|*[!0-9]*) die "RT_FRONT_PORT must be a number" ;; esac
case "$RT_KRB_RT_USER" in ''|*[!a-z0-9._-]*) die "RT_KRB_RT_USER must be a lower-case user name" ;; esac

mkdir -p "$RT_FRONT_DIR"
exec 9>"$RT_FRONT_DIR/.lock"
flock -w 300 9 || die "another start/stop holds $RT_FRONT_DIR/.lock"
chmod 0755 "$RT_FRONT_DIR"
PIDFILE="$RT_FRONT_DIR/rt-front.pid"
LOG="$RT_FRONT_DIR/rt-front.log"
PSGI="$RT_FRONT_DIR/rt-remote-user.psgi"
LOCAL="http://127.0.0.1:$RT_FRONT_PORT"

rt_env() { env RT_SITE_CONFIG="$CONF" RT_SITE_CONFIG_DIR="$RT_DATA_DIR/RT_SiteConfig.d" "$@"; }

# ------------------------------------------------------------ RT user
# Privileged (unprivileged users cannot use REST 1.0), with the ticket rights
# the tests need, granted globally so queues created by tests work too.
# Idempotent; runs against the same database as the main RT.
log "ensuring RT user $RT_KRB_RT_USER"
# shellcheck disable=SC2016
setpriv --reuid="$RT_RUN_USER" --regid="$RT_RUN_USER" --init-groups \
  env RT_SITE_CONFIG="$CONF" RT_SITE_CONFIG_DIR="$RT_DATA_DIR/RT_SiteConfig.d" KRB_RT_USER="$RT_KRB_RT_USER" \
  perl -I/usr/local/share/request-tracker5/lib -I/usr/share/request-tracker5/lib -e '
    use strict; use warnings;
    use RT; RT::LoadConfig(); RT::Init();
    my $name = $ENV{KRB_RT_USER};
    my $u = RT::User->new(RT->SystemUser);
    $u->Load($name);
    unless ($u->id) {
        my ($ok, $m) = $u->Create(Name => $name, EmailAddress => "$name\@bridge.test",
            RealName => "Kerberos test user", Privileged => 1);
        $ok or die "create user $name: $m\n";
    }
    $u->SetPrivileged(1) unless $u->Privileged;
    for my $right (qw(SeeQueue CreateTicket ShowTicket ShowTicketComments ModifyTicket
                      ReplyToTicket CommentOnTicket OwnTicket TakeTicket SeeCustomField
                      ModifyCustomField ShowOutgoingEmail)) {
        next if $u->PrincipalObj->HasRight(Right => $right, Object => RT->System);
        my ($ok, $m) = $u->PrincipalObj->GrantRight(Right => $right, Object => RT->System);
        $ok or die "GrantRight $right: $m\n";
    }' >>"$LOG" 2>&1 || { tail -n 20 "$LOG" >&2; die "could not set up RT user $RT_KRB_RT_USER (log: $LOG)"; }

# ------------------------------------------------------------ process
running_pid() {
    local pid
    [ -f "$PIDFILE" ] || return 1
    pid="$(cat "$PIDFILE" 2>/dev/null)" || return 1
    case "$pid" in ''|*[!0-9]*) return 1 ;; esac
    kill -0 "$pid" 2>/dev/null || return 1
    [ "$(readlink "/proc/$pid/fd/1" 2>/dev/null)" = "$LOG" ] || return 1
    echo "$pid"
}
stop_front() {
    local pid
    pid="$(running_pid)" || { rm -f "$PIDFILE"; return 0; }
    log "stopping (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then pkill -KILL -P "$pid" 2>/dev/null || true; kill -KILL "$pid" 2>/dev/null || true; fi
    rm -f "$PIDFILE"
}

# What the running process was started with; any change means restart.
state="db=$(stat -c %d:%i "$DB") port=$RT_FRONT_PORT url=$RT_FRONT_URL workers=$RT_FRONT_WORKERS psgi=$(sha256sum <"$here/rt-remote-user.psgi" | cut -c1-16)"
pid="$(running_pid || true)"
if [ -n "$pid" ] && [ "$(cat "$RT_FRONT_DIR/state" 2>/dev/null)" = "$state" ] \
   && curl -s -m 10 "$LOCAL/REST/1.0/" 2>/dev/null | grep -q '^RT/'; then
    log "already running (pid $pid) on $LOCAL"
else
    stop_front
    (exec 3<>"/dev/tcp/127.0.0.1/$RT_FRONT_PORT") 2>/dev/null && die "something else listens on 127.0.0.1:$RT_FRONT_PORT"
    install -m 0644 "$here/rt-remote-user.psgi" "$PSGI"
    : >>"$LOG"; chown "$RT_RUN_USER:" "$LOG"
    echo "=== $(date -u '+%F %T') start-rt-front.sh on $LOCAL for $RT_FRONT_URL" >>"$LOG"
    # shellcheck disable=SC2016
    setsid setpriv --reuid="$RT_RUN_USER" --regid="$RT_RUN_USER" --init-groups \
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME="$RT_DATA_DIR" \
        RT_SITE_CONFIG="$CONF" RT_SITE_CONFIG_DIR="$RT_DATA_DIR/RT_SiteConfig.d" RT_FRONT_URL="$RT_FRONT_URL" \
        sh -c 'echo $$ > "$0"; exec "$@"' "$RT_FRONT_DIR/.pid.tmp" \
        plackup -E deployment -s Starlet --host 127.0.0.1 --port "$RT_FRONT_PORT" \
        --max-workers "$RT_FRONT_WORKERS" "$PSGI" >>"$LOG" 2>&1 </dev/null 9>&- &
    for _ in $(seq 1 50); do [ -s "$RT_FRONT_DIR/.pid.tmp" ] && break; sleep 0.1; done
    pid="$(cat "$RT_FRONT_DIR/.pid.tmp" 2>/dev/null || echo $!)"
    rm -f "$RT_FRONT_DIR/.pid.tmp"
    echo "$pid" >"$PIDFILE"
    deadline=$((SECONDS + 180))
    until curl -s -m 10 "$LOCAL/REST/1.0/" 2>/dev/null | grep -q '^RT/'; do
        kill -0 "$pid" 2>/dev/null || { tail -n 30 "$LOG" >&2; rm -f "$PIDFILE"; die "exited during startup (log: $LOG)"; }
        [ "$SECONDS" -lt "$deadline" ] || { tail -n 30 "$LOG" >&2; die "not ready after 180s (log: $LOG)"; }
        sleep 0.2
    done
    printf '%s\n' "$state" >"$RT_FRONT_DIR/state"
    log "ready on $LOCAL (pid $pid)"
fi

cat <<OUT
RT_KRB_URL=${RT_FRONT_URL%/}/
RT_KRB_UPSTREAM=$LOCAL
RT_KRB_RT_USER=$RT_KRB_RT_USER
RT_KRB_FRONT_PIDFILE=$PIDFILE
RT_KRB_FRONT_LOG=$LOG
OUT

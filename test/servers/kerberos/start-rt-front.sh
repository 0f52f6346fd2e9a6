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
# --reset), since a running process would keep the old, deleted file open
# (see web_front in ../rt/lib-web.sh).
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
# shellcheck source=../rt/lib-web.sh
. "$here/../rt/lib-web.sh"
CONF="$RT_DATA_DIR/RT_SiteConfig.pm"
[ -f "$CONF" ] && [ -f "$RT_DATA_DIR/rt5.db" ] || die "no test RT in $RT_DATA_DIR (run test/servers/rt/start-rt.sh first)"
case "$RT_KRB_RT_USER" in ''|*[!a-z0-9._-]*) die "RT_KRB_RT_USER must be a lower-case user name" ;; esac

web_lock "$RT_FRONT_DIR"
LOG="$RT_FRONT_DIR/rt-front.log"

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
web_front rt-front "$RT_FRONT_DIR" "$here/rt-remote-user.psgi" "$RT_FRONT_PORT" "$RT_FRONT_WORKERS" \
    RT_FRONT_URL="$RT_FRONT_URL"

cat <<OUT
RT_KRB_URL=${RT_FRONT_URL%/}/
RT_KRB_UPSTREAM=http://127.0.0.1:$RT_FRONT_PORT
RT_KRB_RT_USER=$RT_KRB_RT_USER
RT_KRB_FRONT_PIDFILE=$RT_FRONT_DIR/rt-front.pid
RT_KRB_FRONT_LOG=$LOG
OUT

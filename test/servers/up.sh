#!/usr/bin/env bash
# Installs or upgrades (to the newest Debian packages offered) and starts every server the
# integration tests need, on loopback, then writes their KEY=VALUE facts to
# $RTBRIDGE_TEST_DIR/servers.env (read by internal/testenv).
#
#   bash test/servers/up.sh          # start (idempotent)
#   bash test/servers/down.sh        # stop
#
# Each server has its own folder with a start and a stop script; see their --help.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out_dir=${RTBRIDGE_TEST_DIR:-/tmp/rtbridge-test}
mkdir -p "$out_dir"
env_file=$out_dir/servers.env
tmp=$(mktemp "$out_dir/servers.env.XXXXXX")
log() { printf '== %s\n' "$*" >&2; }

export DEBIAN_FRONTEND=noninteractive
# Every run refreshes the package lists and each start script installs or
# upgrades its packages to the newest version they offer (lib-apt.sh), so
# this machine runs what a fresh machine would. A server whose package is
# about to be upgraded is stopped first, so that it restarts on the new one.
if [ "$(id -u)" = 0 ]; then
	log "apt-get update"
	apt-get -o DPkg::Lock::Timeout=900 update -qq >&2 || log "apt-get update failed; using the lists there are"
	export APT_LISTS_FRESH=1
	# The packages the start scripts keep current (lib-apt.sh's apt_current).
	stale=$(apt list --upgradable 2>/dev/null | grep -oE '^(request-tracker5|rt5-(db-sqlite|db-postgresql|standalone|clients)|dovecot-(core|imapd)|krb5-(kdc|admin-server|user)|apache2|libapache2-mod-auth-gssapi|prometheus-alertmanager|postgresql-[0-9]+)/' | tr -d / | tr '\n' ' ' || true)
	if [ -n "$stale" ]; then
		log "newer packages offered ($stale): stopping the servers to restart them on the new versions"
		bash "$here/down.sh" >&2 || true
	fi
fi

log "RT 5 (SQLite, standalone) on 127.0.0.1:${RT_PORT:-18080}"
RT_PORT=${RT_PORT:-18080} bash "$here/rt/start-rt.sh" ${RT_RESET:+--reset} >"$out_dir/rt.out"
cat "$out_dir/rt.out" >>"$tmp"
# Ticket custom fields the tests need (REST cannot create them).
bash "$here/rt/ensure-cf.sh" >>"$tmp"
# Extra users (rights, a bcrypt-cost-12 password) and a Basic-auth front on :18082.
bash "$here/rt/ensure-users.sh" >>"$tmp"
bash "$here/rt/ensure-queues.sh" >>"$tmp" # a queue strangers may not write to
RT_BASIC_PORT=${RT_BASIC_PORT:-18082} bash "$here/rt/start-rt-basic.sh" >>"$tmp"

log "Dovecot IMAP on 127.0.0.1:${IMAP_PORT:-1143} / ${IMAPS_PORT:-1993}"
IMAP_DIR=${IMAP_DIR:-/tmp/bridge-imap} bash "$here/imap/start-imap.sh" >"$out_dir/imap.out"
cat "$out_dir/imap.out" >>"$tmp"

# RT behind the SPNEGO front: a second web process of the same RT that trusts
# the front's X-Remote-User (RT 5.0.3 reads only REMOTE_USER), plus the RT user
# rtuser; then the KDC and Apache front forwarding to it.
log "RT web process for the SPNEGO front on 127.0.0.1:${RT_FRONT_PORT:-18081}"
RT_FRONT_URL="http://localhost:${SPNEGO_PORT:-8443}" bash "$here/kerberos/start-rt-front.sh" >"$out_dir/rt-front.out"
cat "$out_dir/rt-front.out" >>"$tmp"

log "MIT KDC + Apache SPNEGO front"
KRB_DIR=${KRB_DIR:-/tmp/bridge-krb5} UPSTREAM=$(sed -n 's/^RT_KRB_UPSTREAM=//p' "$out_dir/rt-front.out") \
	bash "$here/kerberos/start-kdc.sh" >"$out_dir/kdc.out"
cat "$out_dir/kdc.out" >>"$tmp"

log "Alertmanager pair on 127.0.0.1:${AM_PORT:-19093} / ${AM_PORT_2:-19094}"
AM_DIR=${AM_DIR:-/tmp/bridge-alertmanager} bash "$here/alertmanager/start-alertmanager.sh" >"$out_dir/alertmanager.out"
cat "$out_dir/alertmanager.out" >>"$tmp"

# promtool checks and unit-tests the shipped Prometheus rules (monitoring/);
# Debian ships it in the prometheus package. Its service is not started.
log "promtool (Debian package prometheus)"
source "$here/lib-apt.sh"
apt_current up prometheus

# A second Dovecot that takes OAuth2 bearer tokens (XOAUTH2, OAUTHBEARER) and
# validates them locally as JWTs signed with a test key.
log "Dovecot IMAP with OAuth2 on 127.0.0.1:${OAUTH_IMAP_PORT:-1144} / ${OAUTH_IMAPS_PORT:-1994}"
OAUTH_IMAP_DIR=${OAUTH_IMAP_DIR:-/tmp/bridge-imap-oauth2} bash "$here/imap-oauth2/start-imap-oauth2.sh" >"$out_dir/imap-oauth2.out"
cat "$out_dir/imap-oauth2.out" >>"$tmp"
log "PostgreSQL 15 on 127.0.0.1:${PG_PORT:-15432}; RT 5 on PostgreSQL on 127.0.0.1:${RT_PG_PORT:-18090}"
bash "$here/postgres/start-postgres.sh" >"$out_dir/postgres.out"
cat "$out_dir/postgres.out" >>"$tmp"
bash "$here/postgres/start-rt-pg.sh" >"$out_dir/rt-pg.out"
cat "$out_dir/rt-pg.out" >>"$tmp"
log "Postfix (private, loopback) on 127.0.0.1:${POSTFIX_SMTP_PORT:-10025}"
POSTFIX_DIR=${POSTFIX_DIR:-/tmp/rtbridge-postfix} bash "$here/postfix/start-postfix.sh" >"$out_dir/postfix.out"
cat "$out_dir/postfix.out" >>"$tmp"

# Later entries win in the env file; keep only KEY=VALUE lines.
grep -E '^[A-Za-z_][A-Za-z0-9_]*=' "$tmp" >"$env_file" || true
rm -f "$tmp"
log "servers ready; facts in $env_file"

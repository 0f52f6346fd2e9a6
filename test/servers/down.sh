#!/usr/bin/env bash
# Stops every server test/servers/up.sh started (each by its own PID file).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bash "$here/postgres/stop-rt-pg.sh" || true
bash "$here/postgres/stop-postgres.sh" || true
bash "$here/postfix/stop-postfix.sh" || true
bash "$here/alertmanager/stop-alertmanager.sh" || true
bash "$here/kerberos/stop-kdc.sh" || true
bash "$here/kerberos/stop-rt-front.sh" || true
bash "$here/imap-oauth2/stop-imap-oauth2.sh" || true
bash "$here/imap/stop-imap.sh" || true
bash "$here/rt/stop-rt-basic.sh" || true
bash "$here/rt/stop-rt.sh" || true

#!/usr/bin/env bash
# start-postgres.sh - install (if needed) and start a private, throwaway
# PostgreSQL 15 server (Debian 12 package postgresql-15) on loopback for
# integration tests: its own cluster directory made with initdb (NOT Debian's
# pg_createcluster, so /etc/postgresql and the default cluster on 5432 are
# never touched), TCP on 127.0.0.1:15432 only plus a unix socket directory of
# its own, and a login role + database for the bridge.  Needs root and
# Debian's package registry.
#
#   ./start-postgres.sh                  # install+init+start (idempotent: reuses a running server)
#   ./start-postgres.sh --reset          # same, then drop every database the bridge role owns
#                                        #   and create an empty bridge database (RT's DBs stay)
#   ./start-postgres.sh --reset-cluster  # wipe the whole cluster (RT's databases too), initdb again
#   ./start-postgres.sh --no-install     # never run apt-get; fail if PostgreSQL is missing
#   ./stop-postgres.sh                   # stop it again (by its postmaster.pid)
#
# Environment (all optional):
#   PG_PORT             TCP port (default 15432)
#   PG_HOST             listen address, must be 127.x.x.x (default 127.0.0.1)
#   PG_STATE_DIR        all state: cluster, socket dir, log, passwords, pg.env
#                       (default /var/lib/rtbridge-pg)
#   PG_VERSION          major version of the binaries in /usr/lib/postgresql (default 15)
#   PG_BRIDGE_USER      the bridge's role (default rtbridge; LOGIN CREATEDB)
#   PG_BRIDGE_DB        the bridge's database, owned by that role (default rtbridge)
#   PG_BRIDGE_PASSWORD  its password, [A-Za-z0-9._~-] only (default: random,
#                       made once and kept in $PG_STATE_DIR/rtbridge.password)
#   PG_DURABLE          1 = PostgreSQL's crash-safe defaults; default 0 turns
#                       fsync, synchronous_commit and full_page_writes off (a
#                       throwaway test cluster: faster, but a machine crash can
#                       corrupt it; --reset-cluster then)
#   PG_MAX_CONNECTIONS  max_connections (default 100)
#   PG_RUN_USER         OS user of the server (default postgres; never root)
#   PG_READY_TIMEOUT    seconds to wait for the server (default 60)
#
# On success it prints KEY=VALUE lines (PG_HOST, PG_PORT, PG_DSN, ...)
# and writes the same to $PG_STATE_DIR/pg.env.  The server's PID file is
# PostgreSQL's own $PG_STATE_DIR/data/postmaster.pid.
set -euo pipefail

PG_PORT="${PG_PORT:-15432}"
PG_HOST="${PG_HOST:-127.0.0.1}"
PG_STATE_DIR="${PG_STATE_DIR:-/var/lib/rtbridge-pg}"
PG_VERSION="${PG_VERSION:-15}"
PG_BRIDGE_USER="${PG_BRIDGE_USER:-rtbridge}"
PG_BRIDGE_DB="${PG_BRIDGE_DB:-rtbridge}"
PG_BRIDGE_PASSWORD="${PG_BRIDGE_PASSWORD:-}"
PG_DURABLE="${PG_DURABLE:-0}"
PG_MAX_CONNECTIONS="${PG_MAX_CONNECTIONS:-100}"
PG_RUN_USER="${PG_RUN_USER:-postgres}"
PG_READY_TIMEOUT="${PG_READY_TIMEOUT:-60}"

RESET=0
RESET_CLUSTER=0
INSTALL=1
for arg in "$@"; do
    case "$arg" in
        --reset) RESET=1 ;;
        --reset-cluster) RESET_CLUSTER=1 ;;
        --no-install) INSTALL=0 ;;
        -h|--help) sed -n '2,37p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "start-postgres.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

log() { echo "start-postgres: $*" >&2; }
die() { echo "start-postgres: ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (apt-get, setpriv to $PG_RUN_USER)"
case "$PG_PORT" in ''|*[!0-9]*) die "PG_PORT must be a number: $PG_PORT" ;; esac
case "$PG_HOST" in 127.*) ;; *) die "PG_HOST must be a 127.x.x.x loopback address: $PG_HOST" ;; esac
case "$PG_VERSION" in ''|*[!0-9]*) die "PG_VERSION must be a major version number: $PG_VERSION" ;; esac
case "$PG_MAX_CONNECTIONS" in ''|*[!0-9]*|0) die "PG_MAX_CONNECTIONS must be a positive number" ;; esac
case "$PG_STATE_DIR" in /*) ;; *) die "PG_STATE_DIR must be an absolute path" ;; esac
for v in PG_BRIDGE_USER PG_BRIDGE_DB; do
    [[ "${!v}" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "$v must match [a-z_][a-z0-9_]*: ${!v}"
done
case "$PG_BRIDGE_USER" in postgres|pg_*) die "PG_BRIDGE_USER may not be postgres or pg_*" ;; esac
case "$PG_BRIDGE_DB" in postgres|template0|template1) die "PG_BRIDGE_DB may not be $PG_BRIDGE_DB" ;; esac
if [ -n "$PG_BRIDGE_PASSWORD" ] && ! [[ "$PG_BRIDGE_PASSWORD" =~ ^[A-Za-z0-9._~-]{8,}$ ]]; then
    die "PG_BRIDGE_PASSWORD: 8+ characters of [A-Za-z0-9._~-] (it goes into a URL unescaped)"
fi
[ "$PG_RUN_USER" != root ] || die "PostgreSQL refuses to run as root; use PG_RUN_USER=postgres"
PG_STATE_DIR="$(realpath -m "$PG_STATE_DIR")"

BIN="/usr/lib/postgresql/$PG_VERSION/bin"
DATA="$PG_STATE_DIR/data"
SOCK="$PG_STATE_DIR/run"
LOG="$PG_STATE_DIR/log/postgres.log"
ENV_FILE="$PG_STATE_DIR/pg.env"
ADMIN_PW_FILE="$PG_STATE_DIR/postgres.password"
BRIDGE_PW_FILE="$PG_STATE_DIR/rtbridge.password"
PASSFILE="$PG_STATE_DIR/pgpass"
# A unix socket path may have at most 107 bytes.
sockpath="$SOCK/.s.PGSQL.$PG_PORT"
[ "${#sockpath}" -le 107 ] || die "socket path too long (${#sockpath} > 107 bytes): $sockpath; use a shorter PG_STATE_DIR"
T0=$EPOCHREALTIME
elapsed() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------- install
# Cluster states of Debian's own clusters (pg_lsclusters): "ver name status".
clusters_online() {
    if command -v pg_lsclusters >/dev/null 2>&1; then
        pg_lsclusters -h 2>/dev/null | awk '$4 ~ /^online/ {print $1, $2}' || true
    fi
}

if [ "$INSTALL" = 1 ]; then
    # Installed, or upgraded to the newest the package lists offer (lib-apt.sh).
    before="$(clusters_online)"
    source "$(dirname "${BASH_SOURCE[0]}")/../lib-apt.sh"
    apt_current start-postgres "postgresql-$PG_VERSION" || die "apt-get install postgresql-$PG_VERSION failed"
    # The package creates Debian's default cluster (e.g. 15/main on 5432) and,
    # where services may start (systemd, no policy-rc.d), starts it.  Leave it
    # stopped: stop only what this install itself started.
    after="$(clusters_online)"
    while read -r ver name; do
        [ -n "$ver" ] || continue
        if ! grep -qx "$ver $name" <<<"$before"; then
            log "stopping Debian's default cluster $ver/$name that the package install started"
            pg_ctlcluster "$ver" "$name" stop >&2 || log "could not stop cluster $ver/$name"
        fi
    done <<<"$after"
    log "packages current after $(elapsed)s"
fi
[ -x "$BIN/postgres" ] && [ -x "$BIN/psql" ] || die "PostgreSQL $PG_VERSION is not installed ($BIN/postgres missing; run without --no-install)"
getent passwd "$PG_RUN_USER" >/dev/null || die "no OS user $PG_RUN_USER (the postgresql package creates 'postgres')"
command -v setpriv >/dev/null || die "setpriv (util-linux) not found"

# ---------------------------------------------------------------- helpers
mkdir -p "$PG_STATE_DIR"
chmod 0755 "$PG_STATE_DIR"
exec 9>"$PG_STATE_DIR/.lock"
flock -w 600 9 || die "another start-postgres.sh/stop-postgres.sh holds $PG_STATE_DIR/.lock"

as_pg() { setpriv --reuid="$PG_RUN_USER" --regid="$PG_RUN_USER" --init-groups "$@"; }
# Clean environment for every PostgreSQL program: a caller's PGHOST, PGPORT,
# PGSSLMODE, PGOPTIONS, PGDATA ... must not change what they do.
CLEAN=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME="$PG_STATE_DIR")

source "$(dirname "${BASH_SOURCE[0]}")/../lib-proc.sh" # alive PID

# The PID in postmaster.pid, if it is alive and is the postmaster of THIS
# cluster (a postgres process whose working directory is $DATA), so a reused
# PID or another cluster's server is never signalled.
running_pid() {
    local pid
    [ -f "$DATA/postmaster.pid" ] || return 1
    pid="$(head -n 1 "$DATA/postmaster.pid" 2>/dev/null)" || return 1
    case "$pid" in ''|*[!0-9]*) return 1 ;; esac
    alive "$pid" || return 1
    [ "$(readlink "/proc/$pid/cwd" 2>/dev/null)" = "$DATA" ] || return 1
    case "$(readlink "/proc/$pid/exe" 2>/dev/null)" in */postgres) ;; *) return 1 ;; esac
    echo "$pid"
}

stop_server() {
    local pid
    pid="$(running_pid)" || return 0
    log "stopping postgres (pid $pid)"
    kill -INT "$pid" 2>/dev/null || true          # "fast" shutdown
    for _ in $(seq 1 300); do alive "$pid" || return 0; sleep 0.1; done
    log "still running after 30s, sending QUIT (immediate shutdown)"
    kill -QUIT "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do alive "$pid" || return 0; sleep 0.1; done
    die "postgres (pid $pid) does not stop"
}

# close_fds: close every descriptor above 2 in this (sub)shell, so a server
# started from it holds no pipe that our caller's caller may wait on (a CI
# harness, make's jobserver), and not our lock (fd 9).
close_fds() {
    local fd
    for fd in /proc/"$BASHPID"/fd/*; do
        fd="${fd##*/}"
        if [ "$fd" -gt 2 ] 2>/dev/null; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
}

port_in_use() { (exec 3<>"/dev/tcp/$PG_HOST/$PG_PORT") 2>/dev/null; }

# Superuser SQL over our own unix socket: pg_hba maps OS users root and
# $PG_RUN_USER to the superuser "postgres" (peer auth), no password needed.
admin_psql() {
    "${CLEAN[@]}" PGOPTIONS='-c client_min_messages=warning' \
        "$BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$SOCK" -p "$PG_PORT" -U postgres -d postgres "$@"
}

randpw() { od -An -N16 -tx1 /dev/urandom | tr -d ' \n'; }

# ---------------------------------------------------------------- passwords
umask 022
if [ ! -s "$ADMIN_PW_FILE" ]; then
    (umask 077; randpw > "$ADMIN_PW_FILE")
fi
ADMIN_PW="$(cat "$ADMIN_PW_FILE")"
if [ -n "$PG_BRIDGE_PASSWORD" ]; then
    [ "$(cat "$BRIDGE_PW_FILE" 2>/dev/null)" = "$PG_BRIDGE_PASSWORD" ] || printf '%s\n' "$PG_BRIDGE_PASSWORD" > "$BRIDGE_PW_FILE"
elif [ ! -s "$BRIDGE_PW_FILE" ]; then
    randpw > "$BRIDGE_PW_FILE"; echo >> "$BRIDGE_PW_FILE"
fi
BRIDGE_PW="$(head -n 1 "$BRIDGE_PW_FILE")"
# World-readable on purpose (tests that do not run as root read it); this is
# a loopback-only throwaway server.
chmod 0644 "$BRIDGE_PW_FILE"

# ---------------------------------------------------------------- config
if [ "$PG_DURABLE" = 1 ]; then
    durability="# PG_DURABLE=1: PostgreSQL's crash-safe defaults"
else
    durability="# PG_DURABLE=0: throwaway test cluster, no crash safety
fsync = off
synchronous_commit = off
full_page_writes = off"
fi
new_conf="$(cat <<EOF
# Generated by start-postgres.sh on every start - do not edit (included at the
# end of postgresql.conf, so it wins).
listen_addresses = '$PG_HOST'
port = $PG_PORT
unix_socket_directories = '$SOCK'
max_connections = $PG_MAX_CONNECTIONS
ssl = off
password_encryption = 'scram-sha-256'
timezone = 'UTC'
log_timezone = 'UTC'
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
$durability
EOF
)"
new_hba="$(cat <<EOF
# Generated by start-postgres.sh.  Loopback only; TCP needs a password.
# TYPE  DATABASE  USER      ADDRESS        METHOD
local   all       postgres                 peer map=admin
local   all       all                      scram-sha-256
host    all       all       127.0.0.0/8    scram-sha-256
host    all       all       ::1/128        scram-sha-256
EOF
)"
new_ident="$(printf '# Generated by start-postgres.sh: OS users allowed to be the superuser "postgres" over the socket\n# MAPNAME  SYSTEM-USERNAME  PG-USERNAME\nadmin  root  postgres\nadmin  %s  postgres\n' "$PG_RUN_USER")"

# Reuse: running, same settings, same password, and the bridge role logs in.
bridge_login_ok() {
    "${CLEAN[@]}" PGPASSWORD="$BRIDGE_PW" PGCONNECT_TIMEOUT=5 "$BIN/psql" -X -qAt -h "$PG_HOST" -p "$PG_PORT" \
        -U "$PG_BRIDGE_USER" -d "$PG_BRIDGE_DB" -c 'SELECT 1' 2>/dev/null | grep -qx 1
}
stamp="port=$PG_PORT user=$PG_BRIDGE_USER db=$PG_BRIDGE_DB pw=$(printf '%s' "$BRIDGE_PW$ADMIN_PW" | sha256sum | cut -c1-16)"
conf_same() {
    [ "$(cat "$DATA/rtbridge.conf" 2>/dev/null)" = "$new_conf" ] \
        && [ "$(cat "$DATA/pg_hba.conf" 2>/dev/null)" = "$new_hba" ] \
        && [ "$(cat "$DATA/pg_ident.conf" 2>/dev/null)" = "$new_ident" ]
}
pid="$(running_pid || true)"
if [ -n "$pid" ] && [ "$RESET" = 0 ] && [ "$RESET_CLUSTER" = 0 ] && conf_same \
   && [ "$(cat "$PG_STATE_DIR/.stamp" 2>/dev/null)" = "$stamp" ] \
   && [ -f "$ENV_FILE" ] && bridge_login_ok; then
    log "already running (pid $pid) on $PG_HOST:$PG_PORT"
    cat "$ENV_FILE"
    exit 0
fi
rm -f "$PG_STATE_DIR/.stamp"

if [ -n "$pid" ] && [ "$RESET_CLUSTER" = 0 ] && conf_same; then
    # Same settings: keep the server; only (re)make roles and databases below.
    log "running (pid $pid); updating roles/databases"
else
stop_server
if port_in_use; then
    die "something else already listens on $PG_HOST:$PG_PORT (not this cluster): $(ss -Hltnp "sport = :$PG_PORT" 2>/dev/null | head -n 1)"
fi
if [ -e "$sockpath" ] && "${CLEAN[@]}" "$BIN/pg_isready" -q -h "$SOCK" -p "$PG_PORT"; then
    die "another server answers on $sockpath"      # a socket left by a killed server is harmless
fi

if [ "$RESET_CLUSTER" = 1 ] && [ -e "$DATA" ]; then
    log "--reset-cluster: removing $DATA"
    rm -rf "$DATA"
fi

mkdir -p "$SOCK" "$PG_STATE_DIR/log"
chown "$PG_RUN_USER:" "$SOCK" "$PG_STATE_DIR/log"
chmod 0755 "$SOCK"
touch "$LOG"; chown "$PG_RUN_USER:" "$LOG"
as_pg test -w "$SOCK" \
    || die "$PG_RUN_USER cannot write $SOCK: every parent directory of PG_STATE_DIR must be world-executable (o+x)"

# ---------------------------------------------------------------- initdb
if [ ! -f "$DATA/PG_VERSION" ]; then
    [ ! -e "$DATA" ] || [ -z "$(ls -A "$DATA")" ] \
        || die "$DATA exists but is no PostgreSQL cluster (no PG_VERSION); remove it or use --reset-cluster"
    log "initdb $DATA"
    mkdir -p "$DATA"; chown "$PG_RUN_USER:" "$DATA"; chmod 0700 "$DATA"
    pwtmp="$PG_STATE_DIR/.initdb-pw"
    (umask 077; cat "$ADMIN_PW_FILE" > "$pwtmp"); chown "$PG_RUN_USER:" "$pwtmp"
    # -N: no fsync of the new files (throwaway); C.UTF-8: UTF8 encoding,
    # code-point collation, no locale package needed.
    if ! as_pg "${CLEAN[@]}" "$BIN/initdb" -D "$DATA" -U postgres --pwfile="$pwtmp" \
            -A scram-sha-256 --auth-local=peer -E UTF8 --locale=C.UTF-8 -N \
            > "$PG_STATE_DIR/log/initdb.log" 2>&1 9>&-; then
        rm -f "$pwtmp"
        cat "$PG_STATE_DIR/log/initdb.log" >&2
        die "initdb failed (log: $PG_STATE_DIR/log/initdb.log)"
    fi
    rm -f "$pwtmp"
fi
have="$(cat "$DATA/PG_VERSION")"
[ "$have" = "$PG_VERSION" ] || die "$DATA was made by PostgreSQL $have, not $PG_VERSION; use --reset-cluster"
grep -qx "include 'rtbridge.conf'" "$DATA/postgresql.conf" || echo "include 'rtbridge.conf'" >> "$DATA/postgresql.conf"
printf '%s\n' "$new_conf" > "$DATA/rtbridge.conf"
printf '%s\n' "$new_hba" > "$DATA/pg_hba.conf"
printf '%s\n' "$new_ident" > "$DATA/pg_ident.conf"
chown "$PG_RUN_USER:" "$DATA/rtbridge.conf" "$DATA/pg_hba.conf" "$DATA/pg_ident.conf"
chmod 0600 "$DATA/rtbridge.conf" "$DATA/pg_hba.conf" "$DATA/pg_ident.conf"

# ---------------------------------------------------------------- start
# Lock files of a killed server (postmaster.pid in the data dir, and
# .s.PGSQL.<port>.lock next to the socket).  No live postmaster of ours
# (checked above) and nothing answers on the port or socket, so they are
# stale; postgres itself refuses to start while the PID they name exists -
# a reused PID, or the killed postmaster still a zombie.
# But backends of a killed postmaster may still be attached to its shared
# memory (postgres would detect that only through postmaster.pid): wait up
# to 5 s for them to notice and exit, else refuse.
leftovers() {
    local f p out=""
    while read -r f; do
        p="${f#/proc/}"; p="${p%/cwd}"
        if alive "$p"; then out+=" $p"; fi
    done < <(find /proc/[0-9]*/cwd -maxdepth 0 -lname "$DATA" 2>/dev/null)
    echo "$out"
}
for _ in $(seq 1 50); do left="$(leftovers)"; [ -n "$left" ] || break; sleep 0.1; done
[ -z "$left" ] || die "processes of an earlier server still run in $DATA (pids$left); stop them first"
for f in "$DATA/postmaster.pid" "$sockpath.lock"; do
    if [ -f "$f" ]; then
        log "removing stale $f (pid $(head -n 1 "$f" 2>/dev/null))"
        rm -f "$f"
    fi
done
[ -f "$sockpath.lock" ] || rm -f "$sockpath"

log "starting postgres $PG_VERSION on $PG_HOST:$PG_PORT (socket dir $SOCK)"
echo "=== $(date -u '+%F %T') start-postgres.sh: pg_ctl start" >> "$LOG"
# pg_ctl runs the postmaster in its own session (setsid) with stdin from
# /dev/null and stdout/stderr into $LOG, so a caller that waits for this
# script's output to close (Go's exec.Cmd) does not hang on the server.
if ! (close_fds; cd "$DATA" && as_pg "${CLEAN[@]}" "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t "$PG_READY_TIMEOUT" -s start \
        </dev/null >&2); then
    tail -n 30 "$LOG" >&2
    die "postgres did not start (log: $LOG)"
fi
pid="$(running_pid)" || { tail -n 30 "$LOG" >&2; die "postgres started but $DATA/postmaster.pid names no live postmaster"; }
fi   # (re)start

deadline=$((SECONDS + PG_READY_TIMEOUT))
until "${CLEAN[@]}" "$BIN/pg_isready" -q -h "$PG_HOST" -p "$PG_PORT"; do
    alive "$pid" || { tail -n 30 "$LOG" >&2; die "postgres exited during startup (log: $LOG)"; }
    [ "$SECONDS" -lt "$deadline" ] || { tail -n 30 "$LOG" >&2; die "postgres not accepting TCP on $PG_HOST:$PG_PORT after ${PG_READY_TIMEOUT}s"; }
    sleep 0.1
done

# ---------------------------------------------------------------- roles, databases
reset_sql=""
if [ "$RESET" = 1 ]; then
    log "--reset: dropping every database owned by $PG_BRIDGE_USER"
    # shellcheck disable=SC2016
    reset_sql='SELECT format($$DROP DATABASE %I WITH (FORCE)$$, d.datname)
  FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE r.rolname = :'"'u'"' \gexec'
fi
# shellcheck disable=SC2016
admin_psql -v u="$PG_BRIDGE_USER" -v db="$PG_BRIDGE_DB" -v pw="$BRIDGE_PW" -v apw="$ADMIN_PW" >/dev/null <<EOF || die "creating role/database failed (log: $LOG)"
ALTER ROLE postgres PASSWORD :'apw';
SELECT format(\$\$CREATE ROLE %I LOGIN\$\$, :'u') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'u') \gexec
ALTER ROLE :"u" WITH LOGIN CREATEDB NOSUPERUSER PASSWORD :'pw';
$reset_sql
SELECT format(\$\$CREATE DATABASE %I OWNER %I\$\$, :'db', :'u') WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
EOF
bridge_login_ok || die "role $PG_BRIDGE_USER cannot log in to $PG_BRIDGE_DB over TCP $PG_HOST:$PG_PORT (log: $LOG)"

# ---------------------------------------------------------------- facts
# ~/.pgpass format for libpq (PGPASSFILE; psql ignores it unless mode 0600).
# A socket connection matches the socket directory's path (":" escaped), not
# "localhost", when the directory is not the compiled-in default.
(umask 077
 for h in "$PG_HOST" localhost "${SOCK//:/\\:}"; do
     printf '%s:%s:*:%s:%s\n' "$h" "$PG_PORT" "$PG_BRIDGE_USER" "$BRIDGE_PW"
 done > "$PASSFILE")
server_version="$(admin_psql -At -c 'SHOW server_version' | cut -d' ' -f1)"
cat > "$ENV_FILE" <<EOF
PG_HOST=$PG_HOST
PG_PORT=$PG_PORT
PG_SOCKET_DIR=$SOCK
PG_SERVER_VERSION=$server_version
PG_BRIDGE_USER=$PG_BRIDGE_USER
PG_BRIDGE_DB=$PG_BRIDGE_DB
PG_BRIDGE_PASSWORD_FILE=$BRIDGE_PW_FILE
PG_DSN=postgres://$PG_BRIDGE_USER:$BRIDGE_PW@$PG_HOST:$PG_PORT/$PG_BRIDGE_DB?sslmode=disable
PG_DSN_NOPW=postgres://$PG_BRIDGE_USER@$PG_HOST:$PG_PORT/$PG_BRIDGE_DB?sslmode=disable
PG_PASSFILE=$PASSFILE
PG_ADMIN_USER=postgres
PG_ADMIN_PASSWORD_FILE=$ADMIN_PW_FILE
PG_STATE_DIR=$PG_STATE_DIR
PG_DATA_DIR=$DATA
PG_PID_FILE=$DATA/postmaster.pid
PG_LOG=$LOG
EOF
printf '%s\n' "$stamp" > "$PG_STATE_DIR/.stamp"
log "ready on $PG_HOST:$PG_PORT (pid $pid) after $(elapsed)s"
cat "$ENV_FILE"

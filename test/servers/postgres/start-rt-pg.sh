#!/usr/bin/env bash
# start-rt-pg.sh - install (if needed), configure and start a second,
# throwaway Request Tracker 5 (Debian 12 packages request-tracker5 5.0.3 +
# rt5-db-postgresql) whose database lives in the private PostgreSQL of
# start-postgres.sh (started/reused first), served by RT's standalone Starlet
# server with several worker processes, on loopback, for integration tests
# and benchmarks.  Its own config file (RT_SITE_CONFIG / RT_SITE_CONFIG_DIR),
# so /etc/request-tracker5 and any other RT on the machine are not touched.
# Needs root and Debian's package registry.
#
#   ./start-rt-pg.sh                 # install+configure+start (idempotent: reuses a running server)
#   ./start-rt-pg.sh --reset         # same, with RT's database restored from its pristine copy
#   ./start-rt-pg.sh --no-install    # never run apt-get; fail if something is missing
#   ./stop-rt-pg.sh                  # stop it again (by PID file); PostgreSQL keeps running
#
# Environment (all optional):
#   RT_PG_PORT           TCP port (default 18090)
#   RT_PG_HOST           listen address (default 127.0.0.1)
#   RT_PG_DATA_DIR       config, logs, mbox, pristine token, PID file (default /var/lib/rt5-pg-ci)
#   RT_PG_ROOT_PASSWORD  password of RT's "root" user (default "password", >= 5 chars)
#   RT_PG_WORKERS        Starlet worker processes (default 4)
#   RT_PG_BCRYPT_COST    bcrypt cost of passwords and tokens (default 4, the minimum)
#   RT_PG_LOG_LEVEL      RT log level to the server log (default info)
#   RT_PG_READY_TIMEOUT  seconds to wait for the server (default 180)
#   RT_PG_RUN_USER       user the server runs as (default www-data)
#   RT_PG_DB_NAME        RT's database (default rt5; its pristine copy is <name>_pristine)
#   RT_PG_DB_USER        RT's database role (default ${RT_PG_DB_NAME}_user, i.e. rt5_user)
#   RT_PG_HTML_FORMATTER RT's $HTMLFormatter: unset = RT's choice (w3m, forked
#                       ~4 times per ticket create: ~0.25 s on 2 cores); "core"
#                       = pure Perl, no fork (creates take ~45% less time)
#   PG_STATE_DIR, PG_PORT, PG_HOST, ...
#                       passed on to start-postgres.sh (see its --help); RT
#                       connects to $PG_HOST:$PG_PORT over TCP
#
# On success it prints KEY=VALUE lines (RT_PG_URL, RT_PG_USER, RT_PG_PASSWORD,
# RT_PG_TOKEN, ...) and writes the same to $RT_PG_DATA_DIR/rt-pg.env.  The
# server's master PID is in $RT_PG_DATA_DIR/rt-server.pid.
set -euo pipefail

RT_PG_PORT="${RT_PG_PORT:-18090}"
RT_PG_HOST="${RT_PG_HOST:-127.0.0.1}"
RT_PG_DATA_DIR="${RT_PG_DATA_DIR:-/var/lib/rt5-pg-ci}"
RT_PG_ROOT_PASSWORD="${RT_PG_ROOT_PASSWORD:-password}"
RT_PG_WORKERS="${RT_PG_WORKERS:-4}"
RT_PG_BCRYPT_COST="${RT_PG_BCRYPT_COST:-4}"
RT_PG_LOG_LEVEL="${RT_PG_LOG_LEVEL:-info}"
RT_PG_READY_TIMEOUT="${RT_PG_READY_TIMEOUT:-180}"
RT_PG_RUN_USER="${RT_PG_RUN_USER:-www-data}"
RT_PG_DB_NAME="${RT_PG_DB_NAME:-rt5}"
RT_PG_DB_USER="${RT_PG_DB_USER:-${RT_PG_DB_NAME}_user}"
RT_PG_HTML_FORMATTER="${RT_PG_HTML_FORMATTER:-}"

RESET=0
INSTALL=1
for arg in "$@"; do
    case "$arg" in
        --reset) RESET=1 ;;
        --no-install) INSTALL=0 ;;
        -h|--help) sed -n '2,37p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "start-rt-pg.sh: unknown argument: $arg" >&2; exit 2 ;;
    esac
done

log() { echo "start-rt-pg: $*" >&2; }
die() { echo "start-rt-pg: ERROR: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (apt-get, chown, setpriv)"
case "$RT_PG_PORT" in ''|*[!0-9]*) die "RT_PG_PORT must be a number: $RT_PG_PORT" ;; esac
[ "${#RT_PG_ROOT_PASSWORD}" -ge 5 ] || die "RT_PG_ROOT_PASSWORD must have at least 5 characters"
case "$RT_PG_ROOT_PASSWORD" in *"'"*|*\\*) die "RT_PG_ROOT_PASSWORD may not contain ' or \\" ;; esac
case "$RT_PG_DATA_DIR" in /*) ;; *) die "RT_PG_DATA_DIR must be an absolute path" ;; esac
RT_PG_DATA_DIR="$(realpath -m "$RT_PG_DATA_DIR")"
case "$RT_PG_WORKERS" in ''|*[!0-9]*|0) die "RT_PG_WORKERS must be a positive number" ;; esac
case "$RT_PG_BCRYPT_COST" in [4-9]|[12][0-9]|3[01]) ;; *) die "RT_PG_BCRYPT_COST must be 4..31" ;; esac
# RT's own "create database" step does not quote the name.
[[ "$RT_PG_DB_NAME" =~ ^[a-z_][a-z0-9_]{0,40}$ ]] || die "RT_PG_DB_NAME must match [a-z_][a-z0-9_]*: $RT_PG_DB_NAME"
[[ "$RT_PG_DB_USER" =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "RT_PG_DB_USER must match [a-z_][a-z0-9_]*: $RT_PG_DB_USER"
case "$RT_PG_DB_USER" in postgres|pg_*) die "RT_PG_DB_USER may not be $RT_PG_DB_USER" ;; esac
PRISTINE_DB="${RT_PG_DB_NAME}_pristine"
[[ "$RT_PG_HTML_FORMATTER" =~ ^[A-Za-z0-9/_.-]*$ ]] || die "RT_PG_HTML_FORMATTER: a program name or path"
# Always inside RT_PG_DATA_DIR (never taken from the environment).
RT_PG_PID_FILE="$RT_PG_DATA_DIR/rt-server.pid"

RT_LIBEXEC=/usr/share/request-tracker5/libexec
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
T0=$EPOCHREALTIME
elapsed() { awk -v a="$T0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }

# ---------------------------------------------------------------- install
PKGS=(request-tracker5 rt5-db-postgresql rt5-standalone rt5-clients w3m curl)
pkg_installed() { dpkg-query -W -f='${Status}\n' "$1" 2>/dev/null | grep -q '^install ok installed$'; }
pkgs_missing() { local p; for p in "${PKGS[@]}"; do pkg_installed "$p" || echo "$p"; done; }

if [ "$INSTALL" = 1 ]; then
    if ! pkg_installed request-tracker5; then
        # Answers for request-tracker5's debconf questions (as start-rt.sh);
        # dbconfig-install=false: the package must NOT create a database.
        debconf-set-selections <<'EOF'
request-tracker5 request-tracker5/rtname string example.com
request-tracker5 request-tracker5/organization string example.com
request-tracker5 request-tracker5/correspondaddress string rt@example.com
request-tracker5 request-tracker5/commentaddress string rt-comment@example.com
request-tracker5 request-tracker5/webbaseurl string http://127.0.0.1:8080
request-tracker5 request-tracker5/webpath string /rt
request-tracker5 request-tracker5/handle-siteconfig-permissions boolean true
request-tracker5 request-tracker5/install-cronjobs boolean false
request-tracker5 request-tracker5/dbconfig-install boolean false
request-tracker5 request-tracker5/database-type select pgsql
rt5-db-postgresql rt5-db-postgresql/available boolean true
msmtp msmtp/apparmor boolean false
EOF
    fi
    extra=()
    # request-tracker5 needs an MTA; the daemon-less msmtp-mta if none is there.
    if ! dpkg-query -S /usr/sbin/sendmail >/dev/null 2>&1; then extra+=(msmtp-mta); fi
    # Installed, or upgraded to the newest the package lists offer (lib-apt.sh).
    source "$(dirname "${BASH_SOURCE[0]}")/../lib-apt.sh"
    apt_current start-rt-pg "${PKGS[@]}" "${extra[@]}" || die "apt-get install failed"
    log "packages current after $(elapsed)s"
fi
[ -x "$RT_LIBEXEC/rt-server" ] || die "request-tracker5 is not installed (run without --no-install)"
perl -MDBD::Pg -e 1 2>/dev/null || die "DBD::Pg missing (package libdbd-pg-perl, via rt5-db-postgresql)"
perl -MStarlet -e 1 2>/dev/null || die "Starlet missing (package rt5-standalone)"
command -v setpriv >/dev/null || die "setpriv (util-linux) not found"

# ---------------------------------------------------------------- PostgreSQL
# Start or reuse the private PostgreSQL (its facts are in its pg.env; its
# KEY=VALUE output is not repeated here).  9>&-: no lock of ours leaks into it.
pg_args=()
[ "$INSTALL" = 1 ] || pg_args+=(--no-install)
bash "$SCRIPT_DIR/start-postgres.sh" "${pg_args[@]}" >/dev/null 9>&- \
    || die "start-postgres.sh failed (see above)"
PG_ENV="$(realpath -m "${PG_STATE_DIR:-/var/lib/rtbridge-pg}")/pg.env"
[ -f "$PG_ENV" ] || die "start-postgres.sh wrote no $PG_ENV"
pg_fact() { sed -n "s/^$1=//p" "$PG_ENV" | tail -n 1; }
DB_HOST="$(pg_fact PG_HOST)"
DB_PORT="$(pg_fact PG_PORT)"
DBA_USER="$(pg_fact PG_ADMIN_USER)"
admin_pw_file="$(pg_fact PG_ADMIN_PASSWORD_FILE)"
[ -r "$admin_pw_file" ] || die "cannot read the PostgreSQL admin password file '$admin_pw_file' named in $PG_ENV"
DBA_PW="$(cat "$admin_pw_file")"
if [ -z "$DB_HOST" ] || [ -z "$DB_PORT" ] || [ -z "$DBA_USER" ] || [ -z "$DBA_PW" ]; then
    die "incomplete facts in $PG_ENV"
fi

CLEAN=(env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME="$RT_PG_DATA_DIR")
# Superuser SQL over TCP, as RT's own rt-setup-database does.
admin_psql() {
    "${CLEAN[@]}" PGPASSWORD="$DBA_PW" PGCONNECT_TIMEOUT=10 PGOPTIONS='-c client_min_messages=warning' \
        psql -X -q -v ON_ERROR_STOP=1 \
        -h "$DB_HOST" -p "$DB_PORT" -U "$DBA_USER" -d postgres "$@"
}

# ---------------------------------------------------------------- helpers
mkdir -p "$RT_PG_DATA_DIR"
chmod 0755 "$RT_PG_DATA_DIR"
exec 9>"$RT_PG_DATA_DIR/.lock"
flock -w 600 9 || die "another start-rt-pg.sh/stop-rt-pg.sh holds $RT_PG_DATA_DIR/.lock"

URL="http://$RT_PG_HOST:$RT_PG_PORT"
CONF="$RT_PG_DATA_DIR/RT_SiteConfig.pm"
LOG="$RT_PG_DATA_DIR/log/rt-server.log"
PRISTINE="$RT_PG_DATA_DIR/pristine"
DB_PW_FILE="$RT_PG_DATA_DIR/db.password"

source "$(dirname "${BASH_SOURCE[0]}")/../lib-proc.sh" # alive PID

# The PID in the PID file, if that process is alive and is the RT server of
# THIS instance (its stdout is this instance's log file).  (Not
# /proc/PID/cmdline: plackup sets $0.)
running_pid() {
    local pid
    [ -f "$RT_PG_PID_FILE" ] || return 1
    pid="$(cat "$RT_PG_PID_FILE" 2>/dev/null)" || return 1
    case "$pid" in ''|*[!0-9]*) return 1 ;; esac
    alive "$pid" || return 1
    [ "$(readlink "/proc/$pid/fd/1" 2>/dev/null)" = "$LOG" ] || return 1
    echo "$pid"
}

stop_server() {
    local pid
    pid="$(running_pid)" || { rm -f "$RT_PG_PID_FILE"; return 0; }
    log "stopping rt-server (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
    if alive "$pid"; then
        pkill -KILL -P "$pid" 2>/dev/null || true
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$RT_PG_PID_FILE"
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

port_in_use() { (exec 3<>"/dev/tcp/$RT_PG_HOST/$RT_PG_PORT") 2>/dev/null; }

rt_env() {   # run a command with this instance's RT configuration only
    "${CLEAN[@]}" RT_SITE_CONFIG="$CONF" RT_SITE_CONFIG_DIR="$RT_PG_DATA_DIR/RT_SiteConfig.d" "$@"
}

# REST 1.0 login works (server up, database reachable, root's password).
login_ok() {
    curl -s -m 20 --data-urlencode user=root --data-urlencode "pass=$RT_PG_ROOT_PASSWORD" \
        "$URL/REST/1.0/" 2>/dev/null | head -n 1 | grep -q '^RT/[^ ]* 200 '
}

# ---------------------------------------------------------------- config
mkdir -p "$RT_PG_DATA_DIR"/{RT_SiteConfig.d,log,var,mason_data,session_data}
chown "$RT_PG_RUN_USER:" "$RT_PG_DATA_DIR"/{log,var,mason_data,session_data}
setpriv --reuid="$RT_PG_RUN_USER" --regid="$RT_PG_RUN_USER" --init-groups test -w "$RT_PG_DATA_DIR/var" \
    || die "$RT_PG_RUN_USER cannot write $RT_PG_DATA_DIR/var: make every parent directory world-executable (o+x), or set RT_PG_RUN_USER=root"
if [ ! -s "$DB_PW_FILE" ]; then
    (umask 077; od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > "$DB_PW_FILE")
fi
DB_PW="$(cat "$DB_PW_FILE")"

html_formatter_conf=""
[ -z "$RT_PG_HTML_FORMATTER" ] || html_formatter_conf="Set(\$HTMLFormatter, '$RT_PG_HTML_FORMATTER');"
new_conf="$(cat <<EOF
# Generated by start-rt-pg.sh - do not edit; drop extra *.pm files into
# $RT_PG_DATA_DIR/RT_SiteConfig.d/ instead (loaded after this file).
# Loaded via RT_SITE_CONFIG / RT_SITE_CONFIG_DIR, so /etc/request-tracker5
# (the package's debconf/dbconfig snippets) is NOT used by this instance.
Set(\$rtname, 'example.com');
Set(\$Organization, 'example.com');
Set(\$CorrespondAddress, 'rt@example.com');
Set(\$CommentAddress, 'rt-comment@example.com');
Set(\$OwnerEmail, 'root@localhost');
Set(\$Timezone, 'UTC');

Set(\$WebDomain, '$RT_PG_HOST');
Set(\$WebPort, $RT_PG_PORT);
Set(\$WebPath, '');
Set(\$WebBaseURL, '$URL');
# plain http on loopback: no Secure flag on the session cookie
Set(\$WebSecureCookies, 0);

# PostgreSQL of start-postgres.sh, over TCP.  Sessions are stored in this
# database too (Apache::Session::Postgres, RT's default for Pg).
Set(\$DatabaseType, 'Pg');
Set(\$DatabaseHost, '$DB_HOST');
Set(\$DatabasePort, '$DB_PORT');
Set(\$DatabaseName, '$RT_PG_DB_NAME');
Set(\$DatabaseUser, '$RT_PG_DB_USER');
Set(\$DatabasePassword, '$DB_PW');
Set(\$DatabaseAdmin, '$DBA_USER');

# Outgoing mail is appended to $RT_PG_DATA_DIR/var/<start-time>.mbox
Set(\$MailCommand, 'mbox');

Set(\$BcryptCost, $RT_PG_BCRYPT_COST);
$html_formatter_conf

Set(\$LogToSTDERR, '$RT_PG_LOG_LEVEL');
Set(\$LogToSyslog, undef);
Set(\$LogToFile, undef);

# Keep every piece of mutable state inside RT_PG_DATA_DIR.
\$RT::VarPath          = '$RT_PG_DATA_DIR/var';
\$RT::MasonDataDir     = '$RT_PG_DATA_DIR/mason_data';
\$RT::MasonSessionDir  = '$RT_PG_DATA_DIR/session_data';
1;
EOF
)"

# The pristine DB depends on the RT version, the root password, the bcrypt
# cost, names and this script's DB recipe (bump "v1" when build_pristine
# changes).  The stamp is kept as the pristine database's COMMENT, so a
# PostgreSQL --reset-cluster invalidates it automatically.
pkgver="$(dpkg-query -W -f='${Version}' request-tracker5)"
stamp="v1 rt=$pkgver bcrypt=$RT_PG_BCRYPT_COST db=$RT_PG_DB_NAME user=$RT_PG_DB_USER pw=$(printf '%s' "$RT_PG_ROOT_PASSWORD" | sha256sum | cut -c1-16)"
pristine_comment() {
    admin_psql -At -v d="$PRISTINE_DB" <<'EOF'
SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = :'d';
EOF
}
pristine_ok() {
    local got
    [ -s "$PRISTINE/root.token" ] || return 1
    got="$(pristine_comment)" || return 1
    [ "$got" = "$stamp dir=$RT_PG_DATA_DIR build=$(cat "$PRISTINE/build-id" 2>/dev/null)" ]
}
# Refuse to drop the databases of ANOTHER RT-on-PG instance (same PostgreSQL,
# same RT_PG_DB_NAME, other RT_PG_DATA_DIR that still exists).
check_db_owner() {
    local got other
    got="$(pristine_comment)" || die "cannot query PostgreSQL on $DB_HOST:$DB_PORT as $DBA_USER"
    other="$(sed -n 's/.* dir=\(.*\) build=.*/\1/p' <<<"$got")"
    if [ -n "$other" ] && [ "$other" != "$RT_PG_DATA_DIR" ] && [ -d "$other/pristine" ]; then
        die "database $RT_PG_DB_NAME belongs to the RT-on-PG instance in $other; give this one its own RT_PG_DB_NAME"
    fi
}
db_exists() {
    [ "$(admin_psql -At -v d="$RT_PG_DB_NAME" <<'EOF'
SELECT count(*) FROM pg_database WHERE datname = :'d';
EOF
)" = 1 ]
}

# What else the running server depends on: worker count, the drop-in
# config files and the PostgreSQL server it connected to.
run_state="workers=$RT_PG_WORKERS dropins=$({ cat "$RT_PG_DATA_DIR"/RT_SiteConfig.d/*.pm 2>/dev/null || true; } | sha256sum | cut -c1-16)"
pid="$(running_pid || true)"
if [ -n "$pid" ] && [ "$RESET" = 0 ] && [ -f "$CONF" ] && [ "$(cat "$CONF")" = "$new_conf" ] \
   && [ -f "$RT_PG_DATA_DIR/rt-pg.env" ] && [ "$(cat "$RT_PG_DATA_DIR/.run-state" 2>/dev/null)" = "$run_state" ] \
   && pristine_ok && db_exists && login_ok; then
    log "already running (pid $pid) at $URL"
    cat "$RT_PG_DATA_DIR/rt-pg.env"
    exit 0
fi
stop_server
rm -f "$RT_PG_DATA_DIR/.run-state"
check_db_owner
if port_in_use; then
    die "something else already listens on $RT_PG_HOST:$RT_PG_PORT (not this instance): $(ss -Hltnp "sport = :$RT_PG_PORT" 2>/dev/null | head -n 1)"
fi
# root-owned and not writable by the server: if the database is unreachable
# at startup, rt-server would otherwise enter its web installer mode, which
# may rewrite this file.
printf '%s\n' "$new_conf" > "$CONF"
chown "root:$RT_PG_RUN_USER" "$CONF"
chmod 0640 "$CONF"

# ---------------------------------------------------------------- database
# Role first, with our password: RT's "acl" step keeps an existing role as
# it is (it never changes its password).
admin_psql -v u="$RT_PG_DB_USER" -v pw="$DB_PW" >/dev/null <<'EOF' || die "creating role $RT_PG_DB_USER failed"
SELECT format($$CREATE ROLE %I LOGIN$$, :'u') WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'u') \gexec
ALTER ROLE :"u" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'pw';
EOF

clear_runtime() {
    rm -rf "$RT_PG_DATA_DIR/session_data" "$RT_PG_DATA_DIR"/var/*.mbox
    mkdir -p "$RT_PG_DATA_DIR/session_data"
    chown "$RT_PG_RUN_USER:" "$RT_PG_DATA_DIR/session_data"
}

# A pristine, freshly initialised RT database (plus rights, custom fields and
# a REST2 auth token for root) is kept as the database $PRISTINE_DB (no
# connections allowed); --reset re-creates $RT_PG_DB_NAME from it (< 1 s).
build_pristine() {
    log "initialising a new RT database $RT_PG_DB_NAME (rt-setup-database-5 --action init, Pg)"
    rm -rf "$PRISTINE"
    mkdir -p "$PRISTINE"
    admin_psql -v d="$RT_PG_DB_NAME" -v p="$PRISTINE_DB" >/dev/null <<'EOF' || die "dropping old RT databases failed"
DROP DATABASE IF EXISTS :"d" WITH (FORCE);
DROP DATABASE IF EXISTS :"p" WITH (FORCE);
EOF
    local pwfile setup_log="$RT_PG_DATA_DIR/log/setup-database.log"
    pwfile="$(mktemp)"
    printf '%s\n' "$RT_PG_ROOT_PASSWORD" > "$pwfile"
    # DBA credentials via RT_DBA_USER / RT_DBA_PASSWORD (not on the command
    # line); init = create, schema, acl, coredata, insert.
    if ! rt_env RT_DBA_USER="$DBA_USER" RT_DBA_PASSWORD="$DBA_PW" /usr/sbin/rt-setup-database-5 \
            --action init --root-password-file "$pwfile" > "$setup_log" 2>&1 9>&-; then
        rm -f "$pwfile"
        cat "$setup_log" >&2
        die "rt-setup-database-5 failed (log: $setup_log)"
    fi
    rm -f "$pwfile"
    # Mail-gateway rights for Everyone on General, the rtbridge custom fields
    # (as test/servers/rt/ensure-cf.sh does for the SQLite RT), and an auth
    # token for root (REST2 "Authorization: token ...", also REST 1.0).
    # shellcheck disable=SC2016
    rt_env perl -I/usr/local/share/request-tracker5/lib -I/usr/share/request-tracker5/lib -e '
        use strict; use warnings;
        use RT; RT::LoadConfig(); RT::Init();
        my $everyone = RT::Group->new(RT->SystemUser);
        $everyone->LoadSystemInternalGroup("Everyone") or die "no Everyone group\n";
        my $q = RT::Queue->new(RT->SystemUser); $q->Load("General") or die "no General queue\n";
        for my $right (qw(CreateTicket ReplyToTicket CommentOnTicket)) {
            my ($ok, $m) = $everyone->PrincipalObj->GrantRight(Right => $right, Object => $q);
            $ok or die "GrantRight $right: $m\n";
        }
        for my $spec (["RTBridgeKey", "FreeformSingle"], ["RTBridgeTags", "FreeformMultiple"]) {
            my ($name, $type) = @$spec;
            my $cf = RT::CustomField->new(RT->SystemUser);
            $cf->LoadByCols(Name => $name, LookupType => "RT::Queue-RT::Ticket", Disabled => 0);
            next if $cf->id;
            my ($id, $msg) = $cf->Create(Name => $name, Type => $type,
                LookupType => "RT::Queue-RT::Ticket", Description => "rtbridge tests");
            $id or die "create $name: $msg\n";
            my ($ok, $m) = $cf->AddToObject(RT::Queue->new(RT->SystemUser));   # id 0 = global
            $ok or die "apply $name globally: $m\n";
        }
        my $u = RT::User->new(RT->SystemUser); $u->Load("root") or die "no root user\n";
        my $t = RT::AuthToken->new(RT->SystemUser);
        my ($id, $msg, $auth) = $t->Create(Owner => $u->Id, Description => "start-rt-pg.sh CI token");
        $id or die "token: $msg\n";
        print "$auth\n";' > "$PRISTINE/root.token" 2>>"$setup_log" 9>&- \
        || die "rights/custom fields/auth token failed (see $setup_log)"
    local build_id
    build_id="$(date -u +%Y%m%dT%H%M%S)-$$"
    # CREATE DATABASE ... TEMPLATE needs the source without other sessions
    # (it waits up to 5 s for closing ones).
    admin_psql -v d="$RT_PG_DB_NAME" -v p="$PRISTINE_DB" -v c="$stamp dir=$RT_PG_DATA_DIR build=$build_id" >/dev/null <<'EOF' \
        || die "copying $RT_PG_DB_NAME to $PRISTINE_DB failed"
CREATE DATABASE :"p" TEMPLATE :"d";
COMMENT ON DATABASE :"p" IS :'c';
ALTER DATABASE :"p" WITH ALLOW_CONNECTIONS false;
EOF
    printf '%s\n' "$build_id" > "$PRISTINE/build-id"
    clear_runtime
}

restore_pristine() {
    log "resetting database $RT_PG_DB_NAME from $PRISTINE_DB"
    admin_psql -v d="$RT_PG_DB_NAME" -v p="$PRISTINE_DB" >/dev/null <<'EOF' || die "restoring $RT_PG_DB_NAME from $PRISTINE_DB failed"
DROP DATABASE IF EXISTS :"d" WITH (FORCE);
CREATE DATABASE :"d" TEMPLATE :"p";
EOF
    clear_runtime
}

if ! pristine_ok; then
    build_pristine
elif [ "$RESET" = 1 ] || ! db_exists; then
    restore_pristine
fi
RT_TOKEN="$(cat "$PRISTINE/root.token")"
# The server's own login works (password, pg_hba) before it is started.
"${CLEAN[@]}" PGPASSWORD="$DB_PW" PGCONNECT_TIMEOUT=10 psql -X -qAt -h "$DB_HOST" -p "$DB_PORT" \
    -U "$RT_PG_DB_USER" -d "$RT_PG_DB_NAME" -c 'SELECT count(*) FROM users' >/dev/null \
    || die "$RT_PG_DB_USER cannot read $RT_PG_DB_NAME on $DB_HOST:$DB_PORT"
chown -R "$RT_PG_RUN_USER:" "$RT_PG_DATA_DIR"/{log,var,mason_data,session_data}

# ---------------------------------------------------------------- start
server_cmd=("$RT_LIBEXEC/rt-server" --server Starlet --host "$RT_PG_HOST" --port "$RT_PG_PORT"
            --max-workers "$RT_PG_WORKERS")
echo "=== $(date -u '+%F %T') start-rt-pg.sh: ${server_cmd[*]}" >> "$LOG"
chown "$RT_PG_RUN_USER:" "$LOG"
: > "$RT_PG_DATA_DIR/.server-pid"; chown "$RT_PG_RUN_USER:" "$RT_PG_DATA_DIR/.server-pid"
# setsid: own session, so Ctrl-C / job control of the caller does not hit it;
# all output goes to $LOG, so a caller that waits for this script's stdout to
# close (Go's exec.Cmd) does not hang on the server.  The inner shell writes
# its own PID and then execs, so the PID file holds the server's master PID.
# shellcheck disable=SC2016
(close_fds; cd "$RT_PG_DATA_DIR" && exec setsid setpriv --reuid="$RT_PG_RUN_USER" --regid="$RT_PG_RUN_USER" --init-groups \
    "${CLEAN[@]}" RT_SITE_CONFIG="$CONF" RT_SITE_CONFIG_DIR="$RT_PG_DATA_DIR/RT_SiteConfig.d" \
    sh -c 'echo $$ > "$0"; exec "$@"' "$RT_PG_DATA_DIR/.server-pid" "${server_cmd[@]}") \
    >> "$LOG" 2>&1 < /dev/null 9>&- &
launcher=$!
pid=""
for _ in $(seq 1 50); do
    if [ -s "$RT_PG_DATA_DIR/.server-pid" ]; then pid="$(cat "$RT_PG_DATA_DIR/.server-pid")"; break; fi
    sleep 0.1
done
[ -n "$pid" ] || pid=$launcher
rm -f "$RT_PG_DATA_DIR/.server-pid"
echo "$pid" > "$RT_PG_PID_FILE"

deadline=$((SECONDS + RT_PG_READY_TIMEOUT))
while :; do
    body="$(curl -s -m 10 "$URL/REST/1.0/" 2>/dev/null || true)"
    case "$body" in RT/*) break ;; esac
    if ! alive "$pid"; then
        tail -n 40 "$LOG" >&2
        rm -f "$RT_PG_PID_FILE"
        die "rt-server exited during startup (log: $LOG)"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
        tail -n 40 "$LOG" >&2
        die "rt-server not ready after ${RT_PG_READY_TIMEOUT}s (log: $LOG)"
    fi
    sleep 0.2
done
# A real login (database, sessions table) - also compiles the REST
# components once before tests time anything.
login_ok || { tail -n 40 "$LOG" >&2; die "REST 1.0 login as root fails on $URL (log: $LOG)"; }

cat > "$RT_PG_DATA_DIR/rt-pg.env" <<EOF
RT_PG_URL=$URL
RT_PG_REST1_URL=$URL/REST/1.0/
RT_PG_REST2_URL=$URL/REST/2.0/
RT_PG_USER=root
RT_PG_PASSWORD=$RT_PG_ROOT_PASSWORD
RT_PG_TOKEN=$RT_TOKEN
RT_PG_COOKIE_NAME=RT_SID_example.com.$RT_PG_PORT
RT_PG_WORKERS=$RT_PG_WORKERS
RT_PG_TEST_CF=RTBridgeKey
RT_PG_TEST_MULTI_CF=RTBridgeTags
RT_PG_DB_NAME=$RT_PG_DB_NAME
RT_PG_DB_USER=$RT_PG_DB_USER
RT_PG_DB_PASSWORD_FILE=$DB_PW_FILE
RT_PG_DB_DSN=postgres://$RT_PG_DB_USER:$DB_PW@$DB_HOST:$DB_PORT/$RT_PG_DB_NAME?sslmode=disable
RT_PG_PG_ENV_FILE=$PG_ENV
RT_PG_PID_FILE=$RT_PG_PID_FILE
RT_PG_DATA_DIR=$RT_PG_DATA_DIR
RT_PG_LOG=$LOG
RT_PG_MAILBOX_DIR=$RT_PG_DATA_DIR/var
EOF
printf '%s\n' "$run_state" > "$RT_PG_DATA_DIR/.run-state"
log "ready at $URL (pid $pid, $RT_PG_WORKERS workers) after $(elapsed)s"
cat "$RT_PG_DATA_DIR/rt-pg.env"

#!/usr/bin/env bash
# Start a private Postfix on loopback for rtbridge's MTA-intake tests.
#
# Not the system MTA: its own config_directory, queue_directory,
# data_directory, log file and wrappers, all under $POSTFIX_DIR.  Nothing in
# /etc/postfix is read or written; the system's /usr/sbin/sendmail (RT's
# msmtp-mta) is left as it is: by default Debian's postfix package is only
# unpacked (dpkg-deb -x), never dpkg-installed.  Mail is accepted by SMTP on
# 127.0.0.1:$POSTFIX_SMTP_PORT only and is never delivered off the machine:
#
#   $POSTFIX_PIPE_ALIAS@$POSTFIX_DOMAIN   alias pipe "|$POSTFIX_PIPE_COMMAND"
#                                         (rtbridge mailgate --action correspond)
#   $POSTFIX_PIPE_ALIAS-comment@...       the same pipe with --action comment
#   rt-mailgate@$POSTFIX_DOMAIN           RT's own rt-mailgate, when installed
#                                         (for side-by-side comparisons)
#   $POSTFIX_LMTP_USER@$POSTFIX_DOMAIN    LMTP  to $POSTFIX_LMTP_DEST
#   anything@$POSTFIX_LMTP_DOMAIN         LMTP  to $POSTFIX_LMTP_DEST
#   postmaster, root, mailer-daemon, abuse, bounces @$POSTFIX_DOMAIN
#                                         mbox file $POSTFIX_DIR/mail/local.mbox
#   any other local address               550 at RCPT time
#   any other domain                      refused by the error transport
#
# The pipe runs $POSTFIX_DIR/mailgate/rtbridge (a test installs the binary
# there; the directory is 0755 so the pipe user can run it) and hands mail to
# the socket $POSTFIX_DIR/run/mailgate.sock; LMTP goes to
# $POSTFIX_DIR/run/lmtp.sock.  Until a daemon listens there, mail is deferred.
#
# Idempotent: if the instance is running with the same settings it only prints
# the facts again.  If settings changed (pipe command, LMTP destination, port,
# timers ...) it rewrites the config and runs "postfix reload" (queue kept).
#
# Environment (all optional):
#   POSTFIX_DIR             state dir                       (default /tmp/rtbridge-postfix)
#   POSTFIX_SMTP_PORT       SMTP listener on 127.0.0.1      (default 10025)
#   POSTFIX_DOMAIN          local domain                    (default rt.test)
#   POSTFIX_PIPE_ALIAS      alias that pipes to a command   (default support)
#   POSTFIX_RT_URL          --url written in the alias lines (default http://127.0.0.1:18080/)
#   POSTFIX_PIPE_COMMAND    command line, as in /etc/aliases "|..."
#                           (default: rtbridge mailgate, see above)
#   POSTFIX_PIPE_USER       unprivileged user the pipe runs as (default nobody)
#   POSTFIX_LMTP_USER       local part routed to LMTP       (default lmtp-support)
#   POSTFIX_LMTP_DOMAIN     whole domain routed to LMTP     (default lmtp.$POSTFIX_DOMAIN)
#   POSTFIX_LMTP_DEST       inet:HOST:PORT or unix:/PATH    (default unix:$POSTFIX_DIR/run/lmtp.sock)
#   POSTFIX_ALIASES_EXTRA   extra aliases(5) lines (newline separated)
#   POSTFIX_TRANSPORT_EXTRA extra transport(5) lines (newline separated)
#   POSTFIX_QUEUE_RUN_DELAY / POSTFIX_MIN_BACKOFF / POSTFIX_MAX_BACKOFF
#                           retry timers                    (default 1s / 2s / 4s)
#   POSTFIX_COMMAND_TIME_LIMIT  pipe command time limit; past it the mail is
#                           BOUNCED, not deferred             (default 1000s, as Postfix)
#   POSTFIX_RESET=1 or --reset  stop, wipe $POSTFIX_DIR (queue, config, log), start fresh
#   POSTFIX_INSTALL         auto | apt | extract | 0        (default auto)
#       auto:    use Debian's postfix if dpkg has it, else "extract"
#       extract: "apt-get download postfix" + "dpkg-deb -x" into $POSTFIX_PKG_DIR.
#                dpkg's state is not touched, so an installed MTA (msmtp-mta,
#                exim4) stays the system MTA.  Creates user postfix and group
#                postdrop if missing (as Debian's postinst would).
#       apt:     apt-get install postfix ("No configuration").  Replaces any
#                other MTA package (they all conflict on mail-transport-agent).
#       0:       never install; fail if neither form is present
#   POSTFIX_PKG_DIR         where "extract" unpacks        (default /tmp/rtbridge-postfix-pkg)
#
# Prints KEY=VALUE lines (also written to $POSTFIX_DIR/env) that tests can source.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[[ "${1:-}" == --reset ]] && POSTFIX_RESET=1

POSTFIX_DIR="${POSTFIX_DIR:-/tmp/rtbridge-postfix}"
POSTFIX_SMTP_PORT="${POSTFIX_SMTP_PORT:-10025}"
POSTFIX_DOMAIN="${POSTFIX_DOMAIN:-rt.test}"
POSTFIX_PIPE_ALIAS="${POSTFIX_PIPE_ALIAS:-support}"
POSTFIX_PIPE_USER="${POSTFIX_PIPE_USER:-nobody}"
POSTFIX_RT_URL="${POSTFIX_RT_URL:-http://127.0.0.1:18080/}"
MAILGATE_BIN="$POSTFIX_DIR/mailgate/rtbridge"
MAILGATE_SOCKET="$POSTFIX_DIR/run/mailgate.sock"
MAILGATE_ARGS="mailgate --socket $MAILGATE_SOCKET --timeout 60"
POSTFIX_PIPE_COMMAND="${POSTFIX_PIPE_COMMAND:-$MAILGATE_BIN $MAILGATE_ARGS --queue General --action correspond --url $POSTFIX_RT_URL}"
COMMENT_COMMAND="$MAILGATE_BIN $MAILGATE_ARGS --queue General --action comment --url $POSTFIX_RT_URL"
RT_MAILGATE="$(command -v rt-mailgate || true)"
POSTFIX_LMTP_USER="${POSTFIX_LMTP_USER:-lmtp-support}"
POSTFIX_LMTP_DOMAIN="${POSTFIX_LMTP_DOMAIN:-lmtp.$POSTFIX_DOMAIN}"
POSTFIX_LMTP_DEST="${POSTFIX_LMTP_DEST:-unix:$POSTFIX_DIR/run/lmtp.sock}"
POSTFIX_ALIASES_EXTRA="${POSTFIX_ALIASES_EXTRA:-}"
POSTFIX_TRANSPORT_EXTRA="${POSTFIX_TRANSPORT_EXTRA:-}"
POSTFIX_QUEUE_RUN_DELAY="${POSTFIX_QUEUE_RUN_DELAY:-1s}"
POSTFIX_MIN_BACKOFF="${POSTFIX_MIN_BACKOFF:-2s}"
POSTFIX_MAX_BACKOFF="${POSTFIX_MAX_BACKOFF:-4s}"
POSTFIX_COMMAND_TIME_LIMIT="${POSTFIX_COMMAND_TIME_LIMIT:-1000s}"
POSTFIX_RESET="${POSTFIX_RESET:-0}"
POSTFIX_INSTALL="${POSTFIX_INSTALL:-auto}"
POSTFIX_PKG_DIR="${POSTFIX_PKG_DIR:-/tmp/rtbridge-postfix-pkg}"

log() { echo "start-postfix: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
t0=$(date +%s.%N)

[[ $(id -u) == 0 ]] || die "must run as root (Postfix's master needs root)"
[[ "$POSTFIX_DIR" == /* && "$POSTFIX_DIR" != / ]] || die "POSTFIX_DIR must be an absolute path"
# one start at a time per state dir ("go test ./..." runs several TestMains at once)
exec 9>"${POSTFIX_DIR%/}.lock"
flock -w 300 9 || die "timed out waiting for ${POSTFIX_DIR%/}.lock"
[[ "$POSTFIX_SMTP_PORT" =~ ^[0-9]+$ ]] || die "bad POSTFIX_SMTP_PORT"
id "$POSTFIX_PIPE_USER" >/dev/null 2>&1 || die "POSTFIX_PIPE_USER $POSTFIX_PIPE_USER does not exist"
[[ $(id -u "$POSTFIX_PIPE_USER") != 0 ]] || die "POSTFIX_PIPE_USER must not be root"
case "$POSTFIX_LMTP_DEST" in
  unix:/*|inet:*) ;;
  *) die "POSTFIX_LMTP_DEST must be unix:/PATH or inet:HOST:PORT (got '$POSTFIX_LMTP_DEST')" ;;
esac
[[ "$POSTFIX_PIPE_COMMAND" != *'"'* ]] || die "POSTFIX_PIPE_COMMAND must not contain double quotes (aliases(5) quoting)"

CONF="$POSTFIX_DIR/conf"
QUEUE="$POSTFIX_DIR/spool"
DATA="$POSTFIX_DIR/data"
BIN="$POSTFIX_DIR/bin"
LOGFILE="$POSTFIX_DIR/log/postfix.log"
MBOX="$POSTFIX_DIR/mail/local.mbox"
PIDFILE="$QUEUE/pid/master.pid"

# ---------------------------------------------------------------- binaries
# Sets SBIN (command_directory), DAEMON (daemon_directory), META, SHLIB, LIBPATH.
use_system() {
  MODE=system SBIN=/usr/sbin DAEMON=/usr/lib/postfix/sbin META=/etc/postfix
  SHLIB=/usr/lib/postfix LIBPATH=""
}
use_extract() {
  local root="$POSTFIX_PKG_DIR/root"
  MODE=extract SBIN="$root/usr/sbin" DAEMON="$root/usr/lib/postfix/sbin"
  META="$root/etc/postfix" SHLIB="$root/usr/lib/postfix" LIBPATH="$root/usr/lib/postfix"
}
dpkg_has_postfix() {
  [[ "$(dpkg-query -W -f='${Status}' postfix 2>/dev/null)" == "install ok installed" ]] &&
    [[ -x /usr/lib/postfix/sbin/master ]]
}
apt_opts=(-y -q -o DPkg::Lock::Timeout=600)

extract_postfix() {
  local root="$POSTFIX_PKG_DIR/root" dl="$POSTFIX_PKG_DIR/dl"
  mkdir -p "$(dirname "$POSTFIX_PKG_DIR")"
  # the unpacked tree may be shared by several state dirs: its own lock, in a subshell
  # so that the fd is closed again before anything long-lived is started
  ( flock -w 300 8 || die "timed out waiting for ${POSTFIX_PKG_DIR%/}.lock"
  if [[ ! -x "$root/usr/lib/postfix/sbin/master" ]]; then
    log "extracting Debian's postfix package into $POSTFIX_PKG_DIR (dpkg state untouched) ..."
    rm -rf "$dl" "$root.tmp"; mkdir -p "$dl"
    # apt-get download runs as _apt where it can; a root-only dir only makes it warn
    chmod 755 "$POSTFIX_PKG_DIR"; chmod 777 "$dl"
    ( cd "$dl" && { apt-get "${apt_opts[@]}" download postfix >/dev/null 2>&1 ||
        { apt-get "${apt_opts[@]}" update >/dev/null && apt-get "${apt_opts[@]}" download postfix >/dev/null; }; } ) ||
      die "apt-get download postfix failed"
    local deb; deb=$(ls "$dl"/postfix_*.deb | head -1)
    dpkg-deb -x "$deb" "$root.tmp"
    # as Debian's postinst does
    cp "$root.tmp/usr/share/postfix/dynamicmaps.cf" "$root.tmp/etc/postfix/dynamicmaps.cf"
    dpkg-deb -f "$deb" Depends >"$POSTFIX_PKG_DIR/depends"
    dpkg-deb -f "$deb" Version >"$POSTFIX_PKG_DIR/version"
    rm -rf "$root"; mv "$root.tmp" "$root"
    rm -rf "$dl"
  fi
  ) 8>"${POSTFIX_PKG_DIR%/}.lock" || exit 1
  # shared libraries the binaries need (libdb5.3, libicu72, libsasl2-2, libssl3 ...)
  if LD_LIBRARY_PATH="$root/usr/lib/postfix" ldd "$root/usr/lib/postfix/sbin/"{master,smtpd,local,smtp,cleanup} \
       "$root/usr/sbin/postconf" 2>/dev/null | grep -q 'not found'; then
    local libs
    libs=$(tr ',' '\n' <"$POSTFIX_PKG_DIR/depends" | sed 's/[(|].*//; s/ //g' | grep '^lib' | tr '\n' ' ')
    log "installing postfix's libraries: $libs"
    DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install --no-install-recommends $libs >/dev/null 2>&1 ||
      { apt-get "${apt_opts[@]}" update >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install --no-install-recommends $libs >/dev/null; }
  fi
  # accounts Postfix insists on (Debian's postinst creates the same)
  getent group postfix >/dev/null || groupadd --system postfix
  getent passwd postfix >/dev/null ||
    useradd --system --gid postfix --home-dir /var/spool/postfix --no-create-home \
      --shell /usr/sbin/nologin --comment "Postfix (private test instance)" postfix
  getent group postdrop >/dev/null || groupadd --system postdrop
}

apt_install_postfix() {
  log "apt-get install postfix (replaces any other MTA package) ..."
  printf '%s\n' "postfix postfix/main_mailer_type select No configuration" \
                "postfix postfix/mailname string $POSTFIX_DOMAIN" | debconf-set-selections
  export DEBIAN_FRONTEND=noninteractive
  apt-get "${apt_opts[@]}" install --no-install-recommends postfix >/dev/null 2>&1 ||
    { apt-get "${apt_opts[@]}" update >/dev/null
      apt-get "${apt_opts[@]}" install --no-install-recommends postfix >/dev/null; }
}

case "$POSTFIX_INSTALL" in
  auto)    if dpkg_has_postfix; then use_system; else extract_postfix; use_extract; fi ;;
  extract) extract_postfix; use_extract ;;
  apt)     dpkg_has_postfix || apt_install_postfix; use_system ;;
  0|no|none)
    if dpkg_has_postfix; then use_system
    elif [[ -x "$POSTFIX_PKG_DIR/root/usr/lib/postfix/sbin/master" ]]; then use_extract
    else die "postfix is not installed and POSTFIX_INSTALL=0"; fi ;;
  *) die "POSTFIX_INSTALL must be auto, apt, extract or 0" ;;
esac
# (fd 9, the start lock, must not leak into the long-lived master)
pf() { LD_LIBRARY_PATH="$LIBPATH" "$SBIN/$1" "${@:2}" 9>&-; }
VERSION=$(pf postconf -d -h mail_version 2>/dev/null) || die "$SBIN/postconf does not run"

# ---------------------------------------------------------------- reset / running?
is_running() {
  [[ -s "$PIDFILE" ]] || return 1
  local pid; pid=$(tr -d ' \n' <"$PIDFILE")
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == master ]] || return 1
  # our master, not the system's: started with MAIL_CONFIG=$CONF
  tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "MAIL_CONFIG=$CONF"
}

if [[ "$POSTFIX_RESET" == 1 ]]; then
  if is_running; then
    log "reset: stopping running instance"
    POSTFIX_DIR="$POSTFIX_DIR" bash "$HERE/stop-postfix.sh" >&2 || true
  fi
  rm -rf "$POSTFIX_DIR"
fi

# the port must be free unless our running instance already listens on it
# (checked before any config is written: a reload onto a busy port kills the master)
running_port=""
if is_running && [[ -s "$POSTFIX_DIR/env" ]]; then
  running_port=$(sed -n 's/^POSTFIX_SMTP_PORT=//p' "$POSTFIX_DIR/env")
fi
if [[ "$running_port" != "$POSTFIX_SMTP_PORT" ]] && (exec 3<>"/dev/tcp/127.0.0.1/$POSTFIX_SMTP_PORT") 2>/dev/null; then
  die "port $POSTFIX_SMTP_PORT on 127.0.0.1 is already in use (set POSTFIX_SMTP_PORT)"
fi

# ---------------------------------------------------------------- config
mkdir -p "$POSTFIX_DIR" "$BIN" "$POSTFIX_DIR/log" "$POSTFIX_DIR/mail" "$POSTFIX_DIR/mailgate" "$POSTFIX_DIR/run" "$QUEUE"
# $DATA (and the queue subdirs) are made by "postfix start" (post-install create-missing) with
# the owners Postfix wants: data_directory must belong to mail_owner
mkdir -p "$CONF.new"
# the pipe user must reach the mailgate binary and both sockets
chmod 755 "$POSTFIX_DIR" "$POSTFIX_DIR/mailgate" "$POSTFIX_DIR/run"
# the mbox file is written with $POSTFIX_PIPE_USER's rights
chown "$POSTFIX_PIPE_USER" "$POSTFIX_DIR/mail"

IMPORT_ENV="MAIL_CONFIG MAIL_DEBUG MAIL_LOGTAG TZ XAUTHORITY DISPLAY LANG=C POSTLOG_SERVICE POSTLOG_HOSTNAME"
EXPORT_ENV="TZ MAIL_CONFIG LANG"
LOCAL_OPTS=""
if [[ -n "$LIBPATH" ]]; then
  # Extracted binaries carry RUNPATH /usr/lib/postfix, so their libpostfix-*.so are
  # found through LD_LIBRARY_PATH: imported by every Postfix program, and exported
  # so that sendmail's postdrop child gets it too.  local(8) gets the stock export
  # list back, so the alias pipe sees the environment a system Postfix would give it.
  IMPORT_ENV+=" LD_LIBRARY_PATH=$LIBPATH"
  EXPORT_ENV+=" LD_LIBRARY_PATH"
  LOCAL_OPTS=" -o { export_environment = TZ MAIL_CONFIG LANG }"
fi

cat >"$CONF.new/main.cf" <<EOF
# generated by start-postfix.sh -- private test instance, not the system MTA
compatibility_level = 3.6
queue_directory = $QUEUE
data_directory = $DATA
command_directory = $SBIN
daemon_directory = $DAEMON
meta_directory = $META
shlib_directory = $SHLIB
sendmail_path = $SBIN/sendmail
newaliases_path = $SBIN/newaliases
mailq_path = $SBIN/mailq
mail_owner = postfix
setgid_group = postdrop
import_environment = $IMPORT_ENV
export_environment = $EXPORT_ENV
maillog_file = $LOGFILE
maillog_file_prefixes = $POSTFIX_DIR
readme_directory = no
html_directory = no
biff = no

# loopback only, never off the machine
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
myhostname = mx.$POSTFIX_DOMAIN
mydomain = $POSTFIX_DOMAIN
myorigin = $POSTFIX_DOMAIN
mydestination = $POSTFIX_DOMAIN, mx.$POSTFIX_DOMAIN, localhost
relay_domains = $POSTFIX_LMTP_DOMAIN
relayhost =
default_transport = error:5.7.1 test MTA: no mail leaves this machine
relay_transport = error:5.7.1 test MTA: no mail leaves this machine
append_dot_mydomain = no
smtpd_banner = \$myhostname ESMTP test
smtpd_peername_lookup = no

# routing
alias_maps = hash:$CONF/aliases
alias_database = hash:$CONF/aliases
transport_maps = hash:$CONF/transport
local_recipient_maps = \$alias_maps hash:$CONF/recipients
recipient_delimiter = +
default_privs = $POSTFIX_PIPE_USER
command_time_limit = $POSTFIX_COMMAND_TIME_LIMIT

# fast tests: short retry timers, no throttling of fast senders
queue_run_delay = $POSTFIX_QUEUE_RUN_DELAY
minimal_backoff_time = $POSTFIX_MIN_BACKOFF
maximal_backoff_time = $POSTFIX_MAX_BACKOFF
transport_retry_time = $POSTFIX_MIN_BACKOFF
in_flow_delay = 0s
smtpd_error_sleep_time = 0s
EOF

cat >"$CONF.new/master.cf" <<EOF
# generated by start-postfix.sh (Debian's master.cf without port 25, uucp etc.; no chroot)
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$POSTFIX_SMTP_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local$LOCAL_OPTS
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF

{
  echo "# generated by start-postfix.sh"
  for a in postmaster root mailer-daemon abuse bounces; do echo "$a: $MBOX"; done
  echo "$POSTFIX_PIPE_ALIAS: \"|$POSTFIX_PIPE_COMMAND\""
  echo "$POSTFIX_PIPE_ALIAS-comment: \"|$COMMENT_COMMAND\""
  [[ -n "$RT_MAILGATE" ]] && echo "rt-mailgate: \"|$RT_MAILGATE --queue General --action correspond --url $POSTFIX_RT_URL\""
  [[ -n "$POSTFIX_ALIASES_EXTRA" ]] && printf '%s\n' "$POSTFIX_ALIASES_EXTRA"
} >"$CONF.new/aliases"
{
  echo "# generated by start-postfix.sh"
  echo "$POSTFIX_LMTP_USER@$POSTFIX_DOMAIN lmtp:$POSTFIX_LMTP_DEST"
  echo "$POSTFIX_LMTP_DOMAIN lmtp:$POSTFIX_LMTP_DEST"
  [[ -n "$POSTFIX_TRANSPORT_EXTRA" ]] && printf '%s\n' "$POSTFIX_TRANSPORT_EXTRA"
} >"$CONF.new/transport"
# local addresses that are not aliases but must pass RCPT validation
echo "$POSTFIX_LMTP_USER@$POSTFIX_DOMAIN OK" >"$CONF.new/recipients"

# Replace only files whose content changed, and date them 2 s back: every Postfix
# command (postalias, postmap, postqueue ...) that reads a main.cf younger than
# about 1 s re-reads it in 300 ms steps until it is "stable", which costs ~1.5 s.
# The files are renamed into place whole, so there is nothing half-written to wait for.
changed=0
mkdir -p "$CONF"
past="@$(( $(date +%s) - 2 ))"
for f in main.cf master.cf aliases transport recipients; do
  if ! cmp -s "$CONF.new/$f" "$CONF/$f" 2>/dev/null || [[ ! -s "$CONF/$f.db" && $f != *.cf ]]; then
    changed=1
    touch -d "$past" "$CONF.new/$f"
    mv -f "$CONF.new/$f" "$CONF/$f"
    case $f in
      aliases) pf postalias -c "$CONF" "hash:$CONF/aliases" ;;
      transport|recipients) pf postmap -c "$CONF" "hash:$CONF/$f" ;;
    esac
  fi
done
rm -rf "$CONF.new"

# ---------------------------------------------------------------- wrappers
# Every Postfix command bound to this instance, e.g. $BIN/postqueue -f
for c in postfix postconf postqueue postsuper postcat postmap postalias postlog sendmail mailq; do
  case $c in sendmail|mailq) opt=(-C "$CONF") ;; postlog) opt=(-c "$CONF") ;; *) opt=(-c "$CONF") ;; esac
  cat >"$BIN/$c.new" <<EOF
#!/bin/sh
# generated by start-postfix.sh: $c of the private Postfix in $POSTFIX_DIR
${LIBPATH:+LD_LIBRARY_PATH=$LIBPATH; export LD_LIBRARY_PATH}
exec $SBIN/$c ${opt[*]} "\$@"
EOF
  chmod 755 "$BIN/$c.new"; mv -f "$BIN/$c.new" "$BIN/$c"
done

q() { if [[ "$1" =~ [^A-Za-z0-9_.,:/@+=-] ]]; then printf "'%s'" "${1//\'/\'\\\'\'}"; else printf '%s' "$1"; fi; }
print_env() {
  local pid; pid=$(tr -d ' \n' <"$PIDFILE")
  {
    echo "POSTFIX_SMTP_HOST=127.0.0.1"
    echo "POSTFIX_SMTP_PORT=$POSTFIX_SMTP_PORT"
    echo "POSTFIX_SMTP_ADDR=127.0.0.1:$POSTFIX_SMTP_PORT"
    echo "POSTFIX_DOMAIN=$POSTFIX_DOMAIN"
    echo "POSTFIX_PIPE_ADDRESS=$POSTFIX_PIPE_ALIAS@$POSTFIX_DOMAIN"
    echo "POSTFIX_PIPE_COMMAND=$(q "$POSTFIX_PIPE_COMMAND")"
    echo "POSTFIX_PIPE_USER=$POSTFIX_PIPE_USER"
    echo "POSTFIX_COMMENT_ADDRESS=$POSTFIX_PIPE_ALIAS-comment@$POSTFIX_DOMAIN"
    [[ -n "$RT_MAILGATE" ]] && echo "POSTFIX_RT_MAILGATE_ADDRESS=rt-mailgate@$POSTFIX_DOMAIN"
    echo "POSTFIX_MAILGATE_BIN=$MAILGATE_BIN"
    echo "POSTFIX_MAILGATE_SOCKET=$MAILGATE_SOCKET"
    echo "POSTFIX_LMTP_ADDRESS=$POSTFIX_LMTP_USER@$POSTFIX_DOMAIN"
    echo "POSTFIX_LMTP_DOMAIN=$POSTFIX_LMTP_DOMAIN"
    echo "POSTFIX_LMTP_DEST=$POSTFIX_LMTP_DEST"
    case "$POSTFIX_LMTP_DEST" in
      unix:*) echo "POSTFIX_LMTP_SOCKET=${POSTFIX_LMTP_DEST#unix:}" ;;
      inet:*) echo "POSTFIX_LMTP_TCP=${POSTFIX_LMTP_DEST#inet:}" ;;
    esac
    echo "POSTFIX_LOCAL_MBOX=$MBOX"
    echo "POSTFIX_DIR=$POSTFIX_DIR"
    echo "POSTFIX_CONFIG_DIR=$CONF"
    echo "POSTFIX_QUEUE_DIR=$QUEUE"
    echo "POSTFIX_DATA_DIR=$DATA"
    echo "POSTFIX_LOG=$LOGFILE"
    echo "POSTFIX_PIDFILE=$PIDFILE"
    echo "POSTFIX_PID=$pid"
    echo "POSTFIX_BIN=$BIN"
    echo "POSTFIX_SENDMAIL=$BIN/sendmail"
    echo "POSTFIX_POSTQUEUE=$BIN/postqueue"
    echo "POSTFIX_POSTSUPER=$BIN/postsuper"
    echo "POSTFIX_FLUSH=$(q "$BIN/postqueue -f")"
    echo "POSTFIX_MODE=$MODE"
    echo "POSTFIX_VERSION=$VERSION"
    echo "POSTFIX_RETRY=$(q "queue_run_delay=$POSTFIX_QUEUE_RUN_DELAY minimal_backoff_time=$POSTFIX_MIN_BACKOFF maximal_backoff_time=$POSTFIX_MAX_BACKOFF")"
  } >"$POSTFIX_DIR/env.new"
  mv -f "$POSTFIX_DIR/env.new" "$POSTFIX_DIR/env"
  cat "$POSTFIX_DIR/env"
}

smtp_greets() {
  ( exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    IFS= read -r -t 2 line <&3 || exit 1
    printf 'QUIT\r\n' >&3
    [[ "$line" == "220 "* ]] ) 2>/dev/null
}
wait_greeting() {
  for _ in $(seq 1 200); do smtp_greets "$POSTFIX_SMTP_PORT" && return 0; sleep 0.05; done
  tail -20 "$LOGFILE" >&2 2>/dev/null; die "no SMTP greeting on 127.0.0.1:$POSTFIX_SMTP_PORT"
}

# ---------------------------------------------------------------- already running
if is_running; then
  if [[ $changed == 1 ]]; then
    log "running (pid $(tr -d ' ' <"$PIDFILE")): settings changed, postfix reload"
    # (stdout too: the "postsuper &" that reload leaves behind would hold a caller's pipe open ~2.5 s)
    pf postfix -c "$CONF" reload >>"$POSTFIX_DIR/log/postfix-cmd.log" 2>&1 || die "postfix reload failed"
    wait_greeting
  else
    log "already running (pid $(tr -d ' ' <"$PIDFILE")), settings unchanged"
  fi
  print_env
  exit 0
fi

# ---------------------------------------------------------------- start
rm -f "$PIDFILE"
# a queue made under an older "postfix" account (e.g. Debian's postfix was purged,
# which deletes the user, and the account was made again) cannot be reused
if [[ -d "$DATA" && "$(stat -c %u "$DATA")" != "$(id -u postfix)" ]]; then
  die "$DATA belongs to uid $(stat -c %u "$DATA"), not to user postfix ($(id -u postfix)): start with POSTFIX_RESET=1"
fi
pf postfix -c "$CONF" start >>"$POSTFIX_DIR/log/postfix-cmd.log" 2>&1 ||
  { tail -20 "$POSTFIX_DIR/log/postfix-cmd.log" "$LOGFILE" >&2 2>/dev/null; die "postfix start failed"; }
wait_greeting
is_running || die "master started but $PIDFILE does not name it"

t1=$(date +%s.%N)
log "postfix $VERSION ($MODE) up (pid $(tr -d ' ' <"$PIDFILE")) in $(awk "BEGIN{printf \"%.2f\", $t1-$t0}")s"
print_env

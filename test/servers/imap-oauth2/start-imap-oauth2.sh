#!/usr/bin/env bash
# Start a throwaway Dovecot IMAP server on loopback that accepts OAuth2 bearer
# tokens (SASL XOAUTH2 and OAUTHBEARER) and validates them LOCALLY as JWTs
# signed with a test key that this script generates.  Password login (PLAIN,
# LOGIN) stays enabled for the same users, so tests can append mail.
#
# A private instance, separate from test/servers/imap/start-imap.sh (own config,
# base_dir, PID file, ports and state dir); it never touches another Dovecot.
# Idempotent: if the instance is already running it only prints the facts again.
#
# Environment (all optional):
#   OAUTH_IMAP_PORT        plain IMAP + STARTTLS port                 (default 1144)
#   OAUTH_IMAPS_PORT       implicit-TLS IMAPS port, 0 = off            (default 1994)
#   OAUTH_IMAP_DIR         state dir (config, keys, cert, Maildirs)    (default /tmp/bridge-imap-oauth2)
#   OAUTH_IMAP_USERS       "user:pass ..." password users              (default "oauthuser@example.org:secret")
#   OAUTH_IMAP_FOLDERS     folders auto-created + subscribed           (default "Processed Failed")
#   OAUTH_ISSUER           required "iss" claim                        (default https://idp.example.test)
#   OAUTH_AZP              "azp" claim (client id); names the key dir  (default imap-poller-test)
#   OAUTH_KID              "kid" header of tokens; names the key file  (default test-key-1)
#   OAUTH_AUDIENCE         "aud" claim to put in tokens (NOT checked by this Dovecot, see README)
#                                                                      (default https://imap.example.test)
#   OAUTH_USERNAME_CLAIM   claim that must equal the SASL user         (default email)
#   OAUTH_REQUIRED_SCOPE   space-separated words the "scope" claim must contain; "" = no check
#                                                                      (default "imap")
#   OAUTH_LENIENT_KEYS=1   also install the keys for tokens without azp / without kid (default 1)
#   OAUTH_DEBUG=1          auth_debug = yes (logs every validation step)
#   OAUTH_AUTH_PENALTY=1   keep Dovecot's per-IP auth penalty (default: off, see README)
#   OAUTH_IMAP_RESET=1     stop, wipe all state (keys too), start fresh
#   OAUTH_IMAP_SEED=N      after start, put N sample messages into each password user's INBOX
#   OAUTH_IMAP_INSTALL=0   never apt-get install dovecot-imapd (default: install if missing)
#
# Prints KEY=VALUE lines (also written to $OAUTH_IMAP_DIR/env) that tests can source.
# The tests mint the tokens themselves (Go, with OAUTH_RS256_PRIVATE_KEY), so no
# token tool is needed here.
set -euo pipefail

OAUTH_IMAP_PORT="${OAUTH_IMAP_PORT:-1144}"
OAUTH_IMAPS_PORT="${OAUTH_IMAPS_PORT:-1994}"
OAUTH_IMAP_DIR="${OAUTH_IMAP_DIR:-/tmp/bridge-imap-oauth2}"
OAUTH_IMAP_USERS="${OAUTH_IMAP_USERS:-oauthuser@example.org:secret}"
OAUTH_IMAP_FOLDERS="${OAUTH_IMAP_FOLDERS:-Processed Failed}"
OAUTH_ISSUER="${OAUTH_ISSUER:-https://idp.example.test}"
OAUTH_AZP="${OAUTH_AZP:-imap-poller-test}"
OAUTH_KID="${OAUTH_KID:-test-key-1}"
OAUTH_AUDIENCE="${OAUTH_AUDIENCE:-https://imap.example.test}"
OAUTH_USERNAME_CLAIM="${OAUTH_USERNAME_CLAIM:-email}"
OAUTH_REQUIRED_SCOPE="${OAUTH_REQUIRED_SCOPE-imap}"
OAUTH_LENIENT_KEYS="${OAUTH_LENIENT_KEYS:-1}"
OAUTH_DEBUG="${OAUTH_DEBUG:-0}"
OAUTH_AUTH_PENALTY="${OAUTH_AUTH_PENALTY:-0}"
OAUTH_IMAP_RESET="${OAUTH_IMAP_RESET:-0}"
OAUTH_IMAP_SEED="${OAUTH_IMAP_SEED:-0}"
OAUTH_IMAP_INSTALL="${OAUTH_IMAP_INSTALL:-1}"

D="$OAUTH_IMAP_DIR"
log() { echo "start-imap-oauth2: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

CONF="$D/dovecot.conf"
OCONF="$D/dovecot-oauth2.conf.ext"
PIDFILE="$D/dovecot.pid"
LOGFILE="$D/dovecot.log"
JWT="$D/jwt"
KEYDIR="$JWT/keys"          # the fs:posix dict prefix Dovecot reads keys from
t0=$(date +%s.%N)

# dict paths are <azp>/<ALG>/<kid>; '/' in them would be escaped by Dovecot,
# a leading '.' by the fs dict: keep them to plain characters.
for v in OAUTH_AZP OAUTH_KID; do
  [[ "${!v}" =~ ^[A-Za-z0-9_][A-Za-z0-9_.:@+-]*$ ]] || die "$v='${!v}': use letters, digits, _ . : @ + - (no '/', no leading '.')"
done
[[ "$OAUTH_USERNAME_CLAIM" =~ ^[A-Za-z0-9_]+$ ]] || die "bad OAUTH_USERNAME_CLAIM"

source "$(dirname "${BASH_SOURCE[0]}")/../imap/lib-dovecot.sh"
# ---------------------------------------------------------------- install
if [[ "$OAUTH_IMAP_INSTALL" == 1 ]]; then
  source "$(dirname "${BASH_SOURCE[0]}")/../lib-apt.sh"
  apt_current start-imap-oauth2 dovecot-imapd dovecot-core openssl || die "cannot install dovecot-imapd"
fi
command -v dovecot >/dev/null 2>&1 || [[ -x /usr/sbin/dovecot ]] || die "dovecot not installed and OAUTH_IMAP_INSTALL=0"
command -v openssl >/dev/null 2>&1 || die "openssl is needed (apt-get install openssl)"
DOVECOT=$(command -v dovecot || echo /usr/sbin/dovecot)
DOVEADM=$(command -v doveadm || echo /usr/bin/doveadm)

# ---------------------------------------------------------------- reset
if [[ "$OAUTH_IMAP_RESET" == 1 ]]; then
  if is_running; then
    log "OAUTH_IMAP_RESET=1: stopping running instance"
    OAUTH_IMAP_DIR="$D" bash "$(dirname "$0")/stop-imap-oauth2.sh" >&2 || true
  fi
  rm -rf "$D"
fi

print_env() {
  local first="${OAUTH_IMAP_USERS%% *}"
  {
    echo "# generated by start-imap-oauth2.sh; source with: set -a; . $D/env; set +a"
    echo "OAUTH_IMAP_HOST=127.0.0.1"
    echo "OAUTH_IMAP_PORT=$OAUTH_IMAP_PORT"
    echo "OAUTH_IMAPS_PORT=$OAUTH_IMAPS_PORT"
    echo "OAUTH_IMAP_URL=imap://127.0.0.1:$OAUTH_IMAP_PORT"
    [[ "$OAUTH_IMAPS_PORT" != 0 ]] && echo "OAUTH_IMAPS_URL=imaps://127.0.0.1:$OAUTH_IMAPS_PORT"
    echo "OAUTH_IMAP_CA_CERT=$D/tls/cert.pem"
    echo "OAUTH_IMAP_USER=${first%%:*}"
    echo "OAUTH_IMAP_PASSWORD=${first#*:}"
    echo "OAUTH_IMAP_USERS=\"$OAUTH_IMAP_USERS\""
    echo "OAUTH_IMAP_MECHANISMS=\"XOAUTH2 OAUTHBEARER PLAIN LOGIN\""
    echo "OAUTH_ISSUER=$OAUTH_ISSUER"
    echo "OAUTH_AUDIENCE=$OAUTH_AUDIENCE"
    echo "OAUTH_AZP=$OAUTH_AZP"
    echo "OAUTH_KID=$OAUTH_KID"
    echo "OAUTH_USERNAME_CLAIM=$OAUTH_USERNAME_CLAIM"
    echo "OAUTH_REQUIRED_SCOPE=\"$OAUTH_REQUIRED_SCOPE\""
    echo "OAUTH_ALGS=\"RS256 HS256\""
    echo "OAUTH_RS256_PRIVATE_KEY=$JWT/rs256-private.pem"
    echo "OAUTH_RS256_PUBLIC_KEY=$JWT/rs256-public.pem"
    echo "OAUTH_HS256_SECRET_B64=$(cat "$JWT/hs256-secret.b64")"
    echo "OAUTH_HS256_SECRET_FILE=$JWT/hs256-secret.b64"
    echo "OAUTH_KEY_DIR=$KEYDIR"
    echo "OAUTH_LENIENT_KEYS=$OAUTH_LENIENT_KEYS"
    echo "OAUTH_TOKEN_HEADER='{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":\"$OAUTH_KID\"}'"
    local scope_claim=""
    [[ -n "$OAUTH_REQUIRED_SCOPE" ]] && scope_claim=",\"scope\":\"$OAUTH_REQUIRED_SCOPE\""
    echo "OAUTH_TOKEN_CLAIMS='{\"iss\":\"$OAUTH_ISSUER\",\"sub\":\"<any>\",\"$OAUTH_USERNAME_CLAIM\":\"<SASL user>\",\"azp\":\"$OAUTH_AZP\",\"aud\":\"$OAUTH_AUDIENCE\"$scope_claim,\"iat\":<now>,\"exp\":<now+3600>}'"
    echo "OAUTH_IMAP_CONF=$CONF"
    echo "OAUTH_IMAP_OAUTH2_CONF=$OCONF"
    echo "OAUTH_IMAP_PIDFILE=$PIDFILE"
    echo "OAUTH_IMAP_LOG=$LOGFILE"
    echo "OAUTH_IMAP_MAILDIR_ROOT=$D/mail"
    echo "OAUTH_IMAP_DIR=$D"
  } | tee "$D/env"
}

if is_running; then
  log "already running (pid $(cat "$PIDFILE"), config $CONF)"
  if [[ -s "$D/env" ]]; then
    running_port=$(sed -n 's/^OAUTH_IMAP_PORT=//p' "$D/env")
    [[ "$running_port" == "$OAUTH_IMAP_PORT" ]] || die "instance in $D runs on port $running_port, not $OAUTH_IMAP_PORT: run stop-imap-oauth2.sh first (or use another OAUTH_IMAP_DIR)"
    log "settings are those of the running instance; OAUTH_IMAP_RESET=1 applies new ones"
    cat "$D/env"
  else
    print_env
  fi
  exit 0
fi

# ---------------------------------------------------------------- users / uids
dovecot_accounts

mkdir -p "$D"/{tls,mail,state,run} "$JWT"
chmod 755 "$D" "$JWT"
rm -f "$D/run/master.pid"   # a stale one makes dovecot refuse to start

# ---------------------------------------------------------------- TLS cert
if [[ ! -s "$D/tls/cert.pem" ]]; then
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 \
    -keyout "$D/tls/key.pem" -out "$D/tls/cert.pem" \
    -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1 \
    || die "openssl failed to make a self-signed cert"
  chmod 600 "$D/tls/key.pem"
fi
DH_LINE=""
[[ -s /usr/share/dovecot/dh.pem ]] && DH_LINE="ssl_dh = </usr/share/dovecot/dh.pem"

# ---------------------------------------------------------------- JWT signing keys
# RS256: 2048-bit RSA.  The private key (PKCS#8 PEM) is for the tests' token
# endpoint; Dovecot gets the public key as SubjectPublicKeyInfo PEM
# ("BEGIN PUBLIC KEY").  PKCS#1 "BEGIN RSA PUBLIC KEY" is refused by Dovecot.
if [[ ! -s "$JWT/rs256-private.pem" ]]; then
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$JWT/rs256-private.pem" 2>/dev/null || die "openssl genpkey failed"
  chmod 600 "$JWT/rs256-private.pem"
  openssl pkey -in "$JWT/rs256-private.pem" -pubout -out "$JWT/rs256-public.pem"
  chmod 644 "$JWT/rs256-public.pem"
fi
# HS256: 32 random bytes.  Dovecot's key file holds them base64-encoded.
if [[ ! -s "$JWT/hs256-secret.b64" ]]; then
  openssl rand -base64 32 | tr -d '\n' >"$JWT/hs256-secret.b64"
  chmod 600 "$JWT/hs256-secret.b64"
fi

# Dovecot looks a key up as <prefix><azp or "default">/<ALG>/<kid or "default">.
rm -rf "$KEYDIR"
azps="$OAUTH_AZP"; kids="$OAUTH_KID"
if [[ "$OAUTH_LENIENT_KEYS" == 1 ]]; then
  [[ "$OAUTH_AZP" != default ]] && azps+=" default"
  [[ "$OAUTH_KID" != default ]] && kids+=" default"
fi
for a in $azps; do
  mkdir -p "$KEYDIR/$a/RS256" "$KEYDIR/$a/HS256"
  for k in $kids; do
    cp "$JWT/rs256-public.pem" "$KEYDIR/$a/RS256/$k"
    cp "$JWT/hs256-secret.b64" "$KEYDIR/$a/HS256/$k"
    chmod 644 "$KEYDIR/$a/RS256/$k"
    # the auth process runs as $INTERNAL_USER and must read the secret
    chmod 640 "$KEYDIR/$a/HS256/$k"
    chgrp "$INTERNAL_GROUP" "$KEYDIR/$a/HS256/$k" 2>/dev/null || true
  done
done
find "$KEYDIR" -type d -exec chmod 755 {} +

# ---------------------------------------------------------------- passwd-file
: >"$D/users"
for up in $OAUTH_IMAP_USERS; do
  u="${up%%:*}"; p="${up#*:}"
  [[ -n "$u" && -n "$p" && "$u" != "$up" ]] || die "bad OAUTH_IMAP_USERS entry '$up' (want user:pass)"
  echo "$u:{PLAIN}$p:$MAIL_UID:$MAIL_GID::$D/mail/$u::" >>"$D/users"
  mkdir -p "$D/mail/$u"
done
chmod 640 "$D/users"
chgrp "$INTERNAL_GROUP" "$D/users" 2>/dev/null || true
chown -R "$MAIL_UID:$MAIL_GID" "$D/mail"

MAILBOXES=""
for f in $OAUTH_IMAP_FOLDERS; do
  MAILBOXES+="  mailbox \"$f\" {
    auto = subscribe
  }
"
done
if [[ "$OAUTH_IMAPS_PORT" != 0 ]]; then
  IMAPS_BLOCK="  inet_listener imaps {
    address = 127.0.0.1
    port = $OAUTH_IMAPS_PORT
    ssl = yes
  }"
else
  IMAPS_BLOCK="  inet_listener imaps {
    port = 0
  }"
fi
AUTH_DEBUG=no; [[ "$OAUTH_DEBUG" == 1 ]] && AUTH_DEBUG=yes

# ---------------------------------------------------------------- oauth2 config
cat >"$OCONF" <<EOF
# generated by start-imap-oauth2.sh -- read by the oauth2 passdb (auth process)
# Validate tokens locally as JWTs; no HTTP call to any IdP.
introspection_mode = local
# Key file = <prefix><azp, or "default">/<ALG upper-cased>/<kid, or "default">.
# Its whole content is the key: for RS*/PS*/ES* a "BEGIN PUBLIC KEY" PEM or
# one JWK object; for HS* the secret in base64.  A key, once read, is cached
# in memory until Dovecot restarts; new kids are picked up at once.
local_validation_key_dict = fs:posix:prefix=$KEYDIR/
# "iss" must be one of these (space-separated)
issuers = $OAUTH_ISSUER
# this claim must equal the SASL user (both expanded with username_format)
username_attribute = $OAUTH_USERNAME_CLAIM
username_format = %Lu
# a token with "active" present but not "true" is refused (absent = ok)
active_attribute = active
active_value = true
# every word must appear in the token's "scope" claim (empty: not checked)
scope = $OAUTH_REQUIRED_SCOPE
EOF
chmod 644 "$OCONF"

# ---------------------------------------------------------------- dovecot config
cat >"$CONF" <<EOF
# generated by start-imap-oauth2.sh -- private test instance, not the system dovecot
instance_name = bridge-imap-oauth2-$OAUTH_IMAP_PORT
protocols = imap
listen = 127.0.0.1
base_dir = $D/run
state_dir = $D/state
log_path = $LOGFILE
info_log_path = $LOGFILE
debug_log_path = $LOGFILE
auth_verbose = yes
auth_debug = $AUTH_DEBUG
ssl = yes
ssl_cert = <$D/tls/cert.pem
ssl_key = <$D/tls/key.pem
$DH_LINE
# loopback test instance: allow PLAIN/LOGIN/XOAUTH2/OAUTHBEARER without TLS
# (Dovecot counts the OAuth2 mechanisms as plaintext); STARTTLS is offered
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
# failed logins answer at once (default 2s delay slows negative tests)
auth_failure_delay = 0
default_internal_user = $INTERNAL_USER
default_login_user = $LOGIN_USER
default_internal_group = $INTERNAL_GROUP
first_valid_uid = $MAIL_UID
first_valid_gid = $MAIL_GID
mail_location = maildir:~/Maildir
mail_privileged_group =
mail_max_userip_connections = 200
login_trusted_networks = 127.0.0.0/8
# tokens go to the oauth2 passdb only ...
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $OCONF
}
# ... and passwords to the passwd-file only (never try a token as a password)
passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u $D/users
}
# every user who authenticates gets a Maildir under mail/<user>.
# allow_all_users=yes: without it static userdb checks users with a passdb
# lookup, which the mechanisms filters above skip (doveadm -u would fail)
userdb {
  driver = static
  args = uid=$MAIL_UID gid=$MAIL_GID home=$D/mail/%u allow_all_users=yes
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Drafts {
    special_use = \\Drafts
  }
  mailbox Sent {
    special_use = \\Sent
  }
  mailbox Trash {
    special_use = \\Trash
  }
$MAILBOXES}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $OAUTH_IMAP_PORT
  }
$IMAPS_BLOCK
}
service auth {
  unix_listener auth-userdb {
    mode = 0666
  }
}
$NONROOT_BLOCK
service stats {
  unix_listener stats-reader {
    mode = 0666
  }
  unix_listener stats-writer {
    mode = 0666
  }
}
EOF

for p in "$OAUTH_IMAP_PORT" $([[ "$OAUTH_IMAPS_PORT" != 0 ]] && echo "$OAUTH_IMAPS_PORT"); do
  port_open "$p" && die "port $p on 127.0.0.1 is already in use (set OAUTH_IMAP_PORT/OAUTH_IMAPS_PORT)"
done

# ---------------------------------------------------------------- start
"$DOVECOT" -c "$CONF" || { tail -20 "$LOGFILE" >&2 2>/dev/null; die "dovecot failed to start"; }
if [[ "$OAUTH_AUTH_PENALTY" != 1 ]]; then
  # Switch off Dovecot's per-IP auth penalty: after each failed login from
  # 127.0.0.1 the NEXT login (valid or not) is held 2, 4, 8, then 15 s.  The
  # auth process (started lazily, on the first login) disables the penalty
  # silently when it cannot find this anvil socket.  A reload recreates it.
  rm -f "$D/run/anvil-auth-penalty"
  mpid=$(cat "$D/run/master.pid" 2>/dev/null || true)
  if [[ -n "$mpid" ]] && ps -o comm= --ppid "$mpid" 2>/dev/null | grep -qx auth; then
    log "WARNING: auth process started before anvil-auth-penalty was removed; the penalty stays on"
  fi
fi

for _ in $(seq 1 100); do
  if [[ -s "$D/run/master.pid" ]] && imap_greets "$OAUTH_IMAP_PORT"; then break; fi
  sleep 0.05
done
imap_greets "$OAUTH_IMAP_PORT" || { tail -20 "$LOGFILE" >&2; die "dovecot does not greet on $OAUTH_IMAP_PORT"; }
cp "$D/run/master.pid" "$PIDFILE"

for up in $OAUTH_IMAP_USERS; do
  u="${up%%:*}"
  for f in $OAUTH_IMAP_FOLDERS; do
    "$DOVEADM" -c "$CONF" mailbox create -s -u "$u" "$f" 2>/dev/null || true
  done
  if [[ "$OAUTH_IMAP_SEED" =~ ^[0-9]+$ && "$OAUTH_IMAP_SEED" -gt 0 ]]; then
    for i in $(seq 1 "$OAUTH_IMAP_SEED"); do
      printf 'From: Alice Example <alice@example.test>\r\nTo: %s\r\nSubject: seed message %d\r\nDate: %s\r\nMessage-ID: <seed-%d-%s@example.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThis is seed message %d.\r\n' \
        "$u" "$i" "$(date -R)" "$i" "$RANDOM$RANDOM" "$i" |
        "$DOVEADM" -c "$CONF" save -u "$u" -m INBOX
    done
  fi
done

t1=$(date +%s.%N)
log "dovecot up (pid $(cat "$PIDFILE")) in $(awk "BEGIN{printf \"%.2f\", $t1-$t0}")s"
print_env

# Sourced by start-imap.sh and start-imap-oauth2.sh: what every private
# Dovecot of the tests needs. Needs PIDFILE set; sets the accounts Dovecot
# runs as (MAIL_*, INTERNAL_*, LOGIN_USER, NONROOT_BLOCK).

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# true once the server answers with an IMAP greeting ("* OK ...")
imap_greets() {
  ( exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    IFS= read -r -t 2 line <&3 || exit 1
    printf 'x LOGOUT\r\n' >&3
    [[ "$line" == "* OK"* ]] ) 2>/dev/null
}

is_running() {
  [[ -s "$PIDFILE" ]] || return 1
  local pid; pid=$(cat "$PIDFILE")
  kill -0 "$pid" 2>/dev/null || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == dovecot ]]
}

# dovecot_accounts: the users a private instance runs its processes as.
dovecot_accounts() {
  if [[ $(id -u) == 0 ]]; then
    # Dovecot refuses uid 0 for mail access; "mail" (uid 8) exists on every Debian.
    MAIL_USER=mail; MAIL_GROUP=mail
    INTERNAL_USER=dovecot; LOGIN_USER=dovenull
    id dovecot >/dev/null 2>&1 || INTERNAL_USER=nobody
    id dovenull >/dev/null 2>&1 || LOGIN_USER=nobody
    INTERNAL_GROUP=$(id -gn "$INTERNAL_USER")
  else
    # non-root: everything runs as the invoking user (ports must be > 1024)
    MAIL_USER=$(id -un); MAIL_GROUP=$(id -gn)
    INTERNAL_USER=$MAIL_USER; LOGIN_USER=$MAIL_USER; INTERNAL_GROUP=$MAIL_GROUP
  fi
  NONROOT_BLOCK=""
  if [[ $(id -u) != 0 ]]; then
    # an unprivileged master cannot chroot its login/anvil processes
    NONROOT_BLOCK="service anvil {
    chroot =
  }
  service imap-login {
    chroot =
  }"
  fi
  MAIL_UID=$(id -u "$MAIL_USER"); MAIL_GID=$(getent group "$MAIL_GROUP" | cut -d: -f3)
}

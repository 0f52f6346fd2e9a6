#!/usr/bin/env bash
# check-deb.sh DEB: install the package on this machine, check what it
# installed (binary, unit, conffiles, docs, monitoring files), run
# `rtbridge check` on the installed example config and `systemd-analyze
# verify` on the installed unit, then purge it. Needs root; part of make test.
set -euo pipefail
deb=${1:?usage: check-deb.sh DEB}
log() { echo "check-deb: $*" >&2; }
die() { log "FAIL: $*"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (dpkg -i)"
version=$(dpkg-deb -f "$deb" Version)
dpkg-query -W rtbridge >/dev/null 2>&1 && dpkg --purge rtbridge >/dev/null
trap 'dpkg --purge rtbridge >/dev/null 2>&1 || true' EXIT

log "dpkg -i $deb ($version)"
dpkg -i "$deb" >&2
for f in /usr/bin/rtbridge /lib/systemd/system/rtbridge.service /etc/rtbridge/config.yaml /etc/default/rtbridge \
	/usr/share/doc/rtbridge/README.md /usr/share/doc/rtbridge/CHANGELOG.md /usr/share/doc/rtbridge/copyright \
	/usr/share/doc/rtbridge/config.example.yaml /usr/share/rtbridge/rtbridge.rules.yml /usr/share/rtbridge/rtbridge.dashboard.json; do
	[ -e "$f" ] || die "$f not installed"
done
conffiles=$(dpkg-query -W -f='${Conffiles}' rtbridge)
for f in /etc/rtbridge/config.yaml /etc/default/rtbridge; do
	grep -q " $f " <<<"$conffiles" || die "$f is not a conffile"
done
[ "$(stat -c %a /etc/rtbridge/credentials)" = 700 ] || die "/etc/rtbridge/credentials is not mode 0700"
/usr/bin/rtbridge version | grep -q "version ${version%-*} " || die "rtbridge version does not say ${version%-*}"
grep -q '^ExecStart=/usr/bin/rtbridge ' /lib/systemd/system/rtbridge.service || die "unit does not run /usr/bin/rtbridge"

# The example names its secrets under $CREDENTIALS_DIRECTORY, as systemd's
# LoadCredential= provides them: give check a directory holding each.
creds=$(mktemp -d)
for name in $(grep -o 'CREDENTIALS_DIRECTORY}/[a-z0-9-]*' /etc/rtbridge/config.yaml | cut -d/ -f2 | sort -u); do
	echo "placeholder-$name" >"$creds/$name"
done
log "rtbridge check on the installed example"
CREDENTIALS_DIRECTORY=$creds /usr/bin/rtbridge check --config /etc/rtbridge/config.yaml >&2 || die "rtbridge check refused the installed example"
rm -rf "$creds"

log "systemd-analyze verify the installed unit"
out=$(systemd-analyze verify /lib/systemd/system/rtbridge.service 2>&1) || die "systemd-analyze verify: $out"
if grep -q 'rtbridge.service' <<<"$out"; then die "systemd-analyze verify complains: $out"; fi

log "dpkg --purge rtbridge"
dpkg --purge rtbridge >&2
trap - EXIT
for f in /usr/bin/rtbridge /lib/systemd/system/rtbridge.service /etc/rtbridge/config.yaml /etc/default/rtbridge; do
	[ ! -e "$f" ] || die "$f left after purge"
done
log "ok: $deb installs, checks, verifies and purges"

# Sourced by the start scripts: keeps the test servers on the packages a new
# machine would get. A package that is missing is installed, and one that is
# installed at an older version than the package lists offer is upgraded, so
# a developer's machine tests what CI on a fresh machine tests.
#
#   apt_current TAG PKG...   install or upgrade PKG..., then log the versions
#
# The lists are refreshed once per run of up.sh (it exports APT_LISTS_FRESH=1)
# or once per start script run on its own.

apt_current() {
  local tag=$1 p inst cand need=()
  shift
  for p in "$@"; do
    # dpkg-query fails for a package never installed; under set -e and
    # pipefail (up.sh) that must not end the caller.
    inst=$(dpkg-query -W -f='${Status} ${Version}' "$p" 2>/dev/null | sed -n 's/^install ok installed //p' || true)
    cand=$(apt-cache policy "$p" 2>/dev/null | sed -n 's/^  Candidate: //p' || true)
    if [[ -z "$inst" ]] || [[ -n "$cand" && "$cand" != "(none)" && "$cand" != "$inst" ]]; then
      need+=("$p")
    fi
  done
  if ((${#need[@]})); then
    [[ $(id -u) == 0 ]] || { echo "$tag: ERROR: need ${need[*]} (install or upgrade); run as root" >&2; return 1; }
    export DEBIAN_FRONTEND=noninteractive UCF_FORCE_CONFFOLD=1
    if [[ "${APT_LISTS_FRESH:-0}" != 1 ]]; then
      apt-get -q -o DPkg::Lock::Timeout=900 update >&2 || echo "$tag: apt-get update failed; using the lists there are" >&2
      export APT_LISTS_FRESH=1
      # The lists changed: look again at what is current.
      apt_current "$tag" "$@"
      return
    fi
    echo "$tag: installing or upgrading: ${need[*]}" >&2
    apt-get -q -o DPkg::Lock::Timeout=900 install -y --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${need[@]}" >&2 ||
      { echo "$tag: ERROR: apt-get install ${need[*]} failed" >&2; return 1; }
  fi
  for p in "$@"; do
    echo "$tag: $p $(dpkg-query -W -f='${Version}' "$p")" >&2
  done
}

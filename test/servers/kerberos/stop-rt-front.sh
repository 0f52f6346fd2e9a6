#!/usr/bin/env bash
# stop-rt-front.sh - stops the process start-rt-front.sh started (by PID file).
set -uo pipefail
RT_FRONT_DIR="${RT_FRONT_DIR:-/tmp/bridge-rt-front}"
log() { echo "stop-rt-front: $*" >&2; }
# shellcheck source=../rt/lib-web.sh
. "$(dirname "${BASH_SOURCE[0]}")/../rt/lib-web.sh"
web_stop "$RT_FRONT_DIR/rt-front.pid" "$RT_FRONT_DIR/rt-front.log"

#!/usr/bin/env bash
# stop-rt-basic.sh - stops the process start-rt-basic.sh started (by PID file).
set -uo pipefail
RT_BASIC_DIR="${RT_BASIC_DIR:-/tmp/bridge-rt-basic}"
log() { echo "stop-rt-basic: $*" >&2; }
# shellcheck source=lib-web.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib-web.sh"
web_stop "$RT_BASIC_DIR/rt-basic.pid" "$RT_BASIC_DIR/rt-basic.log"

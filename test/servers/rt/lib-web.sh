# lib-web.sh - sourced (not run) by the scripts that run web processes of the
# test RT: start-rt.sh (the main RT), start-rt-basic.sh (Basic-auth front),
# ../kerberos/start-rt-front.sh (behind the SPNEGO front) and their stop
# scripts.  It starts a server as RT_RUN_USER under a PID file, waits until RT
# answers, and stops only our own process.  The caller sets RT_DATA_DIR and
# RT_RUN_USER and defines log() and die().
#
# A process is "ours" when its stdout is our log file: PIDs get reused, and
# plackup sets $0, which blanks /proc/PID/cmdline and environ.

# web_pid PIDFILE LOG: prints the PID in PIDFILE if it is alive and ours.
web_pid() {
    local pid
    [ -f "$1" ] || return 1
    pid="$(cat "$1" 2>/dev/null)" || return 1
    case "$pid" in ''|*[!0-9]*) return 1 ;; esac
    kill -0 "$pid" 2>/dev/null || return 1
    [ "$(readlink "/proc/$pid/fd/1" 2>/dev/null)" = "$2" ] || return 1
    echo "$pid"
}

# web_stop PIDFILE LOG: TERM (a Starlet master stops its workers), KILL after
# 10 s, then removes PIDFILE.  Leaves a process that is not ours alone.
web_stop() {
    local pid
    pid="$(web_pid "$1" "$2")" || { rm -f "$1"; return 0; }
    log "stopping (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
        log "still running after 10s, sending KILL"
        pkill -KILL -P "$pid" 2>/dev/null || true
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$1"
}

# web_ready URL: RT answers REST 1.0 under URL.
web_ready() { curl -s -m 10 "$1/REST/1.0/" 2>/dev/null | grep -q '^RT/'; }

# web_port_busy HOST PORT: something accepts connections there.
web_port_busy() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# web_spawn PIDFILE LOG [VAR=VALUE...] -- CMD...: runs CMD as RT_RUN_USER in
# RT_DATA_DIR with the test RT's configuration plus the given variables, and
# writes its PID to PIDFILE.  setsid: Ctrl-C / job control of the caller does
# not reach it; all output goes to LOG, so a caller waiting for our stdout to
# close (Go's exec.Cmd) does not hang.  The inner shell writes its own PID,
# then execs, so PIDFILE holds the server's master PID.
web_spawn() {
    local pidfile="$1" log="$2" tmp="$1.tmp" pid="" vars=()
    shift 2
    while [ "$1" != -- ]; do vars+=("$1"); shift; done
    shift
    : >>"$log"; chown "$RT_RUN_USER:" "$log"
    # created here: RT_RUN_USER may not be able to create files next to PIDFILE
    : >"$tmp"; chown "$RT_RUN_USER:" "$tmp"
    echo "=== $(date -u '+%F %T') ${0##*/}: ${vars[*]:+${vars[*]} }$*" >>"$log"
    # shellcheck disable=SC2016
    (cd "$RT_DATA_DIR" && exec setsid setpriv --reuid="$RT_RUN_USER" --regid="$RT_RUN_USER" --init-groups \
        env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 HOME="$RT_DATA_DIR" \
        RT_SITE_CONFIG="$RT_DATA_DIR/RT_SiteConfig.pm" RT_SITE_CONFIG_DIR="$RT_DATA_DIR/RT_SiteConfig.d" \
        "${vars[@]}" sh -c 'echo $$ > "$0"; exec "$@"' "$tmp" "$@") >>"$log" 2>&1 </dev/null 9>&- &
    for _ in $(seq 1 50); do [ -s "$tmp" ] && break; sleep 0.1; done
    pid="$(cat "$tmp" 2>/dev/null)"
    [ -n "$pid" ] || pid=$!
    rm -f "$tmp"
    echo "$pid" >"$pidfile"
}

# web_wait PIDFILE LOG URL SECONDS: waits until RT answers under URL; dies
# (after showing the log's tail) when the server exits or the time is up.
web_wait() {
    local pid deadline=$((SECONDS + $4))
    pid="$(cat "$1")"
    until web_ready "$3"; do
        kill -0 "$pid" 2>/dev/null || { tail -n 40 "$2" >&2; rm -f "$1"; die "exited during startup (log: $2)"; }
        [ "$SECONDS" -lt "$deadline" ] || { tail -n 40 "$2" >&2; die "not ready after $4s (log: $2)"; }
        sleep 0.2
    done
}

# web_front NAME DIR PSGI PORT WORKERS [VAR=VALUE...]: a second web process of
# the running test RT (same database and configuration) that serves the
# wrapper PSGI on 127.0.0.1:PORT with the given variables; state in DIR:
# NAME.pid, NAME.log, a copy of PSGI.  Idempotent: keeps a running process
# unless the database file was replaced (start-rt.sh --reset; the process
# would keep the old, deleted file open), the wrapper or any setting changed.
# The caller holds DIR/.lock (web_lock DIR).
web_front() {
    local name="$1" dir="$2" psgi="$3" port="$4" workers="$5" state pid
    shift 5
    local pidfile="$dir/$name.pid" log="$dir/$name.log" url="http://127.0.0.1:$port"
    [ -f "$RT_DATA_DIR/RT_SiteConfig.pm" ] && [ -f "$RT_DATA_DIR/rt5.db" ] \
        || die "no test RT in $RT_DATA_DIR (run test/servers/rt/start-rt.sh first)"
    case "$port" in ''|*[!0-9]*) die "port must be a number: $port" ;; esac

    state="db=$(stat -c %d:%i "$RT_DATA_DIR/rt5.db") port=$port workers=$workers"
    state+=" psgi=$(sha256sum <"$psgi" | cut -c1-16) env=$*"
    pid="$(web_pid "$pidfile" "$log" || true)"
    if [ -n "$pid" ] && [ "$(cat "$dir/state" 2>/dev/null)" = "$state" ] && web_ready "$url"; then
        log "already running (pid $pid) on $url"
        return 0
    fi
    web_stop "$pidfile" "$log"
    ! web_port_busy 127.0.0.1 "$port" || die "something else listens on 127.0.0.1:$port"
    install -m 0644 "$psgi" "$dir/${psgi##*/}"
    web_spawn "$pidfile" "$log" "$@" -- plackup -E deployment -s Starlet --host 127.0.0.1 \
        --port "$port" --max-workers "$workers" "$dir/${psgi##*/}"
    web_wait "$pidfile" "$log" "$url" 180
    printf '%s\n' "$state" >"$dir/state"
    log "ready on $url (pid $(cat "$pidfile"))"
}

# web_lock DIR: creates DIR (0755, so RT_RUN_USER can read the wrapper) and
# holds DIR/.lock (fd 9, closed for the server) until the script exits.
web_lock() {
    mkdir -p "$1"
    exec 9>"$1/.lock"
    flock -w 300 9 || die "another start/stop holds $1/.lock"
    chmod 0755 "$1"
}

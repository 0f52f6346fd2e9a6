# Sourced by the start and stop scripts of the test servers.
#
# alive PID: the process exists and is not a zombie (an exited server that
# is re-parented to PID 1 stays a zombie until PID 1 reaps it, which some
# container inits do only every few seconds; kill -0 succeeds on a zombie).
alive() {
    local st
    st="$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)" || return 1
    [ -n "$st" ] && [ "$st" != Z ]
}

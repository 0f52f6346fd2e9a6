#!/usr/bin/env bash
# bench/run.sh: side-by-side end-to-end benchmark against the real test RT
# and Dovecot (issues 4 and 7). One run, same RT, same machine, same mails:
#
#   ceil1    RT's own ceiling: the 100 tickets created with curl, one RT
#            session cookie, one at a time (POST /REST/1.0/ticket/new)
#   ceilN    the same at concurrency BENCH_CONC (what rtbridge uses)
#   fetchmail  fetchmail --mda rt-mailgate on a fresh IMAP folder holding
#            the same 100 mails
#   rtbimap  `rtbridge run` with an IMAP source on a fresh copy of the folder
#   ceilhook RT's ceiling for the webhook's plain tickets (curl, BENCH_CONC)
#   rtbhook  N JSON events posted to rtbridge's webhook → tickets
#   idle     a fresh daemon: idle RSS, IDLE latency (append → ticket) over
#            BENCH_IDLE_N mails, then a mail with a BENCH_BIG_MB MiB
#            attachment and the daemon's peak RSS (VmHWM)
#
#   bash bench/run.sh                       # every leg that can run
#   BENCH_LEGS="ceil1 fetchmail" bash bench/run.sh
#   BENCH_ROUNDS=3 bash bench/run.sh        # medians of 3 interleaved rounds
#
# Tickets are counted by a REST search on a subject tag unique to the run and
# leg, so other users of the same RT do not disturb the counts (they do slow
# RT down: the table prints times and counts so a reader can judge). A leg
# that cannot run prints why and the others still run.
#
# Environment: BENCH_N (100), BENCH_CONC (4), BENCH_HOOK_N (BENCH_N),
# BENCH_IDLE_N (20), BENCH_BIG_MB (50), BENCH_DIR (/tmp/rtbridge-bench),
# BENCH_LEGS (all), BENCH_ROUNDS (1: more rounds repeat every leg and end
# with the medians, which tames a noisy shared RT), RTBRIDGE_BIN (default: built from this tree),
# RTBRIDGE_TEST_DIR (/tmp/rtbridge-test, where servers.env is).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
N=${BENCH_N:-100}
CONC=${BENCH_CONC:-4}
HOOK_N=${BENCH_HOOK_N:-$N}
IDLE_N=${BENCH_IDLE_N:-20}
BIG_MB=${BENCH_BIG_MB:-50}
DIR=${BENCH_DIR:-/tmp/rtbridge-bench}
ROUNDS=${BENCH_ROUNDS:-1}
LEGS=${BENCH_LEGS:-ceil1 ceilN fetchmail rtbimap ceilhook rtbhook idle}
ENV_FILE=${RTBRIDGE_TEST_DIR:-/tmp/rtbridge-test}/servers.env
export GOTOOLCHAIN=local

. "$here/lib.sh"
. "$here/legs.sh"

mkdir -p "$DIR"
exec 9>"$DIR/lock"
flock -n 9 || die "another bench/run.sh holds $DIR/lock"
load_env
BASE=b$(date +%s)
trap cleanup EXIT
log "run $BASE: N=$N conc=$CONC rounds=$ROUNDS legs: $LEGS; work dir $DIR/$BASE*"
log "$(nproc) CPUs, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); RT $RT_URL; IMAP $IMAP_HOST:$IMAPS_PORT"

rt_login || die "cannot log in to RT at $RT_URL as $RT_USER"
generate || die "mail generation failed"
warm_up

for ((round = 1; round <= ROUNDS; round++)); do
	RUN=$BASE
	((ROUNDS > 1)) && RUN=$BASE-r$round
	WORK=$DIR/$RUN
	mkdir -p "$WORK"
	new_round
	# RT slows down as its database grows, which favours whichever leg runs
	# first; even rounds run the legs in reverse so medians cancel that out.
	order=$LEGS
	((round % 2 == 0)) && order=$(printf '%s\n' $LEGS | tac | tr '\n' ' ')
	for leg in $order; do
		case $leg in
		ceil1) leg_ceiling ceil1 1 mail "$N" ;;
		ceilN) leg_ceiling ceilN "$CONC" mail "$N" ;;
		fetchmail) leg_fetchmail ;;
		rtbimap) leg_rtbimap ;;
		ceilhook) leg_ceiling ceilhook "$CONC" hook "$HOOK_N" ;;
		rtbhook) leg_rtbhook ;;
		idle) leg_idle ;;
		*) log "unknown leg $leg (known: ceil1 ceilN fetchmail rtbimap ceilhook rtbhook idle)" ;;
		esac
	done
	report
	collect
done
if ((ROUNDS > 1)); then summary; fi

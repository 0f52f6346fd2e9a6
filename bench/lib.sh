# bench/lib.sh: helpers of bench/run.sh (sourced): environment, RT session,
# ticket creation and counting, the mailbox, and the result table.
# shellcheck shell=bash

declare -A R_TICKETS R_DISTINCT R_SECS R_WHY R_NOTE RATES LATS
declare -a STARTED_PIDS=() MADE_FOLDERS=()

log() { printf '%s bench: %s\n' "$(date +%T)" "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}
now() { date +%s.%N; }
# The expression is parenthesised: a bare ">" inside awk's printf arguments
# would redirect the output to a file named after the right-hand side.
calc() { awk "BEGIN{ printf \"%.${2:-2}f\", ($1) }"; }

load_env() {
	[[ -r $ENV_FILE ]] || die "no $ENV_FILE: start the test servers first (bash test/servers/up.sh)"
	set -a
	# shellcheck disable=SC1090
	. "$ENV_FILE"
	set +a
	RT_URL=${RT_URL%/}
	GEN=$DIR/gen-$N-$BIG_MB
	JAR=$DIR/cookies
	DOVEADM=(doveadm -c "$IMAP_CONF")
}

# rt_login stores one RT session cookie in $JAR; every curl create reuses it.
rt_login() {
	local out
	out=$(curl -sS -c "$JAR" --data-urlencode "user=$RT_USER" --data-urlencode "pass=$RT_PASSWORD" "$RT_URL/REST/1.0/") || return 1
	[[ $out == *"200 Ok"* && $out != *"Credentials required"* ]]
}

# generate writes the mails and forms once per (N, BIG_MB); they are the
# same for every run.
generate() {
	if [[ -s $GEN/manifest ]]; then
		log "mails: $(cat "$GEN/manifest")"
		return 0
	fi
	log "generating $N mails and a $BIG_MB MiB mail in $GEN"
	(cd "$root" && go run ./bench/mailgen -dir "$GEN.tmp" -n "$N" -big-mb "$BIG_MB") >&2 || return 1
	rm -rf "$GEN" && mv "$GEN.tmp" "$GEN"
}

# warm_up creates the requestors' RT users once, so the first leg does not
# pay for user creation that later legs skip.
warm_up() {
	local addr out
	for addr in $(sed -n 's/^Requestor: //p' "$GEN"/rest/*.form | sort -u) hook@example.test; do
		out=$(curl -sS -b "$JAR" "$RT_URL/REST/1.0/user/$addr")
		[[ $out == *"No user named"* ]] || continue
		curl -sS -b "$JAR" --data-urlencode "content=Name: $addr
EmailAddress: $addr
Privileged: 0" "$RT_URL/REST/1.0/user/new" >/dev/null
	done
}

# hook_subject/hook_text IDX TAG print webhook event IDX's subject and text.
# IDX may be zero-padded (001): 10# keeps it decimal.
hook_subject() { printf '%s m%03d deploy of service-%d finished' "$2" $((10#$1)) $((10#$1)); }
hook_text() { printf 'Deploy %d of service-%d finished with status ok.\nVersion 1.2.%d, 42 files changed.' $((10#$1)) $((10#$1)) $((10#$1)); }

# curl_entry LEG TAG IDX KIND renders ticket IDX (a mail's form, or a
# webhook event's plain ticket) into $WORK/LEG and prints its transfer for a
# curl config file: one RT session cookie, answer to LEG/IDX.out.
curl_entry() {
	local d=$WORK/$1 tag=$2 idx=$3 kind=$4 form
	form=$d/$idx.form
	printf 'next\nurl = "%s/REST/1.0/ticket/new"\ncookie = "%s"\noutput = "%s/%s.out"\n' "$RT_URL" "$JAR" "$d" "$idx"
	if [[ $kind == hook ]]; then
		printf 'Queue: General\nRequestor: hook@example.test\nSubject: %s\nText: %s\n' \
			"$(hook_subject "$idx" "$tag")" "$(hook_text "$idx" | sed '2,$s/^/ /')" >"$form"
	else
		sed "s/@@RUN@@/$tag/g" "$GEN/rest/$idx.form" >"$form"
	fi
	if [[ $kind == mail && -s $GEN/rest/$idx.att ]]; then
		printf 'form = "content=<%s"\n' "$form"
		local k=0 path name type
		while IFS=$'\t' read -r path name type; do
			k=$((k + 1))
			printf 'form = "attachment_%d=@%s;filename=%s;type=%s"\n' "$k" "$GEN/$path" "$name" "$type"
		done <"$GEN/rest/$idx.att"
	else
		printf 'data-urlencode = "content@%s"\n' "$form"
	fi
}

# count_tag PATTERN sets COUNT (tickets whose subject contains PATTERN) and DISTINCT
# (distinct subjects among them: COUNT > DISTINCT means duplicates).
count_tag() {
	local out
	out=$(curl -sS -b "$JAR" -G --data-urlencode "query=Subject LIKE '$1'" --data-urlencode format=s \
		"$RT_URL/REST/1.0/search/ticket")
	COUNT=$(grep -cE '^[0-9]+: ' <<<"$out")
	DISTINCT=$(grep -E '^[0-9]+: ' <<<"$out" | cut -d' ' -f2- | sort -u | grep -c .)
}

# wait_count TAG WANT TIMEOUT polls until WANT tickets carry TAG; sets
# T_DONE to the time the count was first seen (polling is 1 s apart until
# 80 % are there, then 0.2 s, so it loads RT little and resolves the end).
wait_count() {
	local tag=$1 want=$2 deadline
	deadline=$(calc "$(now) + $3" 3)
	while :; do
		count_tag "$tag m"
		T_DONE=$(now)
		((COUNT >= want)) && return 0
		[[ $(calc "$T_DONE > $deadline" 0) == 1 ]] && return 1
		if ((COUNT * 5 >= want * 4)); then sleep 0.2; else sleep 1; fi
	done
}

# wait_done LOG N SECS waits until the daemon's JSON log (LOG) holds N
# "event done" lines and sets T_DONE to the time the last of them gives.
# Polling RT with ticket searches would load the very RT being measured, and
# polling the daemon's /status would load the daemon (the ceiling legs are
# timed by curl and pay neither); reading the log costs neither. The tickets
# are still counted in RT afterwards by record, so nothing is taken on trust.
wait_done() {
	local log=$1 want=$2 deadline done last
	deadline=$(calc "$(now) + $3" 3)
	while :; do
		done=$(grep -c '"msg":"event done"' "$log" 2>/dev/null)
		if ((${done:-0} >= want)); then
			last=$(grep '"msg":"event done"' "$log" | sed -n "${want}p" | sed 's/^{"time":"\([^"]*\)".*/\1/')
			T_DONE=$(date -d "$last" +%s.%N)
			return 0
		fi
		T_DONE=$(now)
		[[ $(calc "$T_DONE > $deadline" 0) == 1 ]] && return 1
		sleep 0.1
	done
}

# record LEG TAG T0 T1 [NOTE] counts TAG's tickets and stores the leg's row.
record() {
	count_tag "$2 m"
	R_TICKETS[$1]=$COUNT
	R_DISTINCT[$1]=$DISTINCT
	R_SECS[$1]=$(calc "$4 - $3" 2)
	R_NOTE[$1]=${5:-}
	log "$1: $COUNT tickets ($DISTINCT distinct) in ${R_SECS[$1]} s"
}

skip() {
	R_WHY[$1]=$2
	log "$1: skipped: $2"
}

# fill_folder FOLDER TAG FILE... creates FOLDER in the bench user's mailbox
# and saves the files into it with @@RUN@@ replaced by TAG.
fill_folder() {
	local folder=$1 tag=$2 f
	shift 2
	"${DOVEADM[@]}" mailbox create -u "$IMAP_USER" "$folder" || return 1
	MADE_FOLDERS+=("$folder")
	for f in "$@"; do
		sed "s/@@RUN@@/$tag/g" "$f" | "${DOVEADM[@]}" save -u "$IMAP_USER" -m "$folder" || return 1
	done
}

cleanup() {
	local pid f
	for pid in "${STARTED_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	for f in "${MADE_FOLDERS[@]}"; do
		"${DOVEADM[@]}" mailbox delete -u "$IMAP_USER" -s "$f" 2>/dev/null
	done
}

rate() {
	local t=${R_TICKETS[$1]:-0} s=${R_SECS[$1]:-0}
	[[ $s == 0 || $s == 0.00 ]] && { echo -; return; }
	calc "$t / $s" 2
}

ratio() {
	local a b
	a=$(rate "$1")
	b=$(rate "$2")
	[[ $a == - || $b == - || -z ${R_SECS[$2]:-} ]] && { echo -; return; }
	calc "$a / $b" 2
}

new_round() {
	R_TICKETS=() R_DISTINCT=() R_SECS=() R_WHY=() R_NOTE=()
}

# collect keeps this round's rates (and IDLE p50) for the summary.
collect() {
	local leg
	for leg in ceil1 ceilN fetchmail rtbimap ceilhook rtbhook; do
		[[ -n ${R_SECS[$leg]:-} && -z ${R_WHY[$leg]:-} ]] && RATES[$leg]+="$(rate "$leg") "
	done
	[[ -n ${R_NOTE[idle_lat]:-} ]] && LATS[p50]+="$(awk '{print $2}' <<<"${R_NOTE[idle_lat]}") "
}

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END { if (NR) printf "%.2f", (a[int((NR+1)/2)] + a[int(NR/2)+1]) / 2 }'; }

leg_label() {
	case $1 in
	ceil1) echo "RT ceiling: curl, 1 session, c=1" ;;
	ceilN) echo "RT ceiling: curl, 1 session, c=$CONC" ;;
	fetchmail) echo "fetchmail + rt-mailgate" ;;
	rtbimap) echo "rtbridge run, IMAP, c=$CONC" ;;
	ceilhook) echo "RT ceiling, webhook tickets, c=$CONC" ;;
	rtbhook) echo "rtbridge run, JSON webhook" ;;
	esac
}

# summary prints the median tickets/s of every leg over the rounds and the
# ratios of those medians.
summary() {
	local leg m c1 cN ch best
	printf '\n== medians over %d rounds (run %s)\n' "$ROUNDS" "$BASE"
	printf '%-36s %9s %8s %8s %8s  %s\n' leg tickets/s vs_ceil1 vs_ceilN vs_best per-round
	c1=$(median <<<"${RATES[ceil1]:-}")
	cN=$(median <<<"${RATES[ceilN]:-}")
	ch=$(median <<<"${RATES[ceilhook]:-}")
	best=$(printf '%s\n%s\n' "${c1:-0}" "${cN:-0}" | sort -n | tail -1)
	for leg in ceil1 ceilN fetchmail rtbimap ceilhook rtbhook; do
		[[ -n ${RATES[$leg]:-} ]] || continue
		m=$(median <<<"${RATES[$leg]}")
		local r1=- rN=- rb=-
		[[ -n $c1 ]] && r1=$(calc "$m / $c1")
		[[ -n $cN ]] && rN=$(calc "$m / $cN")
		[[ $best != 0 ]] && rb=$(calc "$m / $best")
		[[ $leg == rtbhook && -n $ch ]] && rN="$(calc "$m / $ch")*" && rb=-
		printf '%-36s %9s %8s %8s %8s  %s\n' "$(leg_label "$leg")" "$m" "$r1" "$rN" "$rb" "${RATES[$leg]}"
	done
	[[ -n ${LATS[p50]:-} ]] && printf '%-36s %s s (per round: %s)\n' "IDLE latency p50, median" "$(median <<<"${LATS[p50]}")" "${LATS[p50]}"
	echo "  vs_best: against the better of the two RT ceilings; * webhook against the webhook-ticket ceiling"
}

report() {
	local leg label
	printf '\n== bench %s: %s, %d CPUs, N=%d, concurrency %d, load %s, finished %s\n' \
		"$RUN" "$(hostname)" "$(nproc)" "$N" "$CONC" "$(cut -d' ' -f1-3 /proc/loadavg)" "$(date '+%F %T')"
	printf '%-36s %9s %8s %9s %8s %8s  %s\n' leg tickets seconds tickets/s vs_ceil1 vs_ceilN note
	for leg in ceil1 ceilN fetchmail rtbimap ceilhook rtbhook; do
		label=$(leg_label "$leg")
		if [[ -n ${R_WHY[$leg]:-} ]]; then
			printf '%-36s skipped: %s\n' "$label" "${R_WHY[$leg]}"
			continue
		fi
		[[ -n ${R_SECS[$leg]:-} ]] || continue
		local want=$N vs1 vsN
		[[ $leg == ceilhook || $leg == rtbhook ]] && want=$HOOK_N
		vs1=$(ratio "$leg" ceil1)
		vsN=$(ratio "$leg" ceilN)
		[[ $leg == rtbhook ]] && vsN="$(ratio rtbhook ceilhook)*"
		local note=${R_NOTE[$leg]}
		((${R_TICKETS[$leg]} > ${R_DISTINCT[$leg]})) && note="DUPLICATES $note"
		printf '%-36s %9s %8s %9s %8s %8s  %s\n' "$label" "${R_TICKETS[$leg]}/$want" "${R_SECS[$leg]}" \
			"$(rate "$leg")" "$vs1" "$vsN" "$note"
	done
	[[ -n ${R_SECS[rtbhook]:-} ]] && echo "  * webhook ratio is against the webhook-ticket ceiling (ceilhook), not the mail one"
	if [[ -n ${R_WHY[idle]:-} ]]; then
		printf '%-36s skipped: %s\n' "rtbridge memory / IDLE latency" "${R_WHY[idle]}"
	else
		[[ -n ${R_NOTE[idle_rss]:-} ]] && printf '%-36s %s\n' "rtbridge idle RSS" "${R_NOTE[idle_rss]} (target <= 25 MB)"
		[[ -n ${R_NOTE[idle_lat]:-} ]] && printf '%-36s %s\n' "rtbridge IDLE latency append->ticket" "${R_NOTE[idle_lat]}"
		[[ -n ${R_NOTE[big]:-} ]] && printf '%-36s %s\n' "rtbridge peak RSS, ${BIG_MB} MiB mail" "${R_NOTE[big]} (target <= 64 MB)"
	fi
	echo "(targets: rtbridge IMAP >= 0.95 x RT's ceiling, webhook >= 0.9; RT is shared with other users, so compare rows of one run)"
}

# bench/lib.sh: helpers of bench/run.sh (sourced): environment, RT session,
# ticket creation and counting, the mailbox, and the result table.
# shellcheck shell=bash

declare -A R_TICKETS R_DISTINCT R_SECS R_WHY R_NOTE
declare -a STARTED_PIDS=() MADE_FOLDERS=()

log() { printf '%s bench: %s\n' "$(date +%T)" "$*" >&2; }
die() {
	log "ERROR: $*"
	exit 1
}
now() { date +%s.%N; }
calc() { awk "BEGIN{ printf \"%.${2:-2}f\", $1 }"; }

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

# hook_fields IDX TAG prints subject, requestor and text of webhook event IDX.
hook_subject() { printf '%s m%03d deploy of service-%d finished' "$2" "$1" "$1"; }
hook_text() { printf 'Deploy %d of service-%d finished with status ok.\nVersion 1.2.%d, 42 files changed.' "$1" "$1" "$1"; }

# create_ticket TAG IDX KIND creates ticket IDX (mail form or webhook event)
# with one curl through the shared session; exit 0 only on "created".
create_ticket() {
	local tag=$1 idx=$2 kind=$3 form out
	form=$(mktemp "$WORK/form.XXXXXX")
	local -a args=()
	if [[ $kind == hook ]]; then
		printf 'Queue: General\nRequestor: hook@example.test\nSubject: %s\nText: %s\n' \
			"$(hook_subject "$idx" "$tag")" "$(hook_text "$idx" | sed '2,$s/^/ /')" >"$form"
		args=(--data-urlencode "content@$form")
	else
		sed "s/@@RUN@@/$tag/g" "$GEN/rest/$idx.form" >"$form"
		if [[ -s $GEN/rest/$idx.att ]]; then
			args=(-F "content=<$form")
			local k=0 path name type
			while IFS=$'\t' read -r path name type; do
				k=$((k + 1))
				args+=(-F "attachment_$k=@$path;filename=$name;type=$type")
			done <"$GEN/rest/$idx.att"
		else
			args=(--data-urlencode "content@$form")
		fi
	fi
	out=$(curl -sS -b "$JAR" "${args[@]}" "$RT_URL/REST/1.0/ticket/new" 2>&1)
	rm -f "$form"
	[[ $out == *"# Ticket "*" created."* ]] && return 0
	echo "create $tag $idx: $(echo "$out" | grep -m1 '^#' || echo "$out" | head -2)" >&2
	return 1
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

report() {
	local leg label
	printf '\n== bench %s: %s, %d CPUs, N=%d, concurrency %d, finished %s\n' \
		"$RUN" "$(hostname)" "$(nproc)" "$N" "$CONC" "$(date '+%F %T')"
	printf '%-36s %9s %8s %9s %8s %8s  %s\n' leg tickets seconds tickets/s vs_ceil1 vs_ceilN note
	for leg in ceil1 ceilN fetchmail rtbimap ceilhook rtbhook; do
		case $leg in
		ceil1) label="RT ceiling: curl, 1 session, c=1" ;;
		ceilN) label="RT ceiling: curl, 1 session, c=$CONC" ;;
		fetchmail) label="fetchmail + rt-mailgate" ;;
		rtbimap) label="rtbridge run, IMAP, c=$CONC" ;;
		ceilhook) label="RT ceiling, webhook tickets, c=$CONC" ;;
		rtbhook) label="rtbridge run, JSON webhook" ;;
		esac
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

# bench/legs.sh: the legs of bench/run.sh (sourced).
# shellcheck shell=bash

# leg_ceiling LEG CONC KIND COUNT: COUNT creates through one RT session by
# one curl process (--parallel, CONC at a time), so the client costs next to
# nothing; forms are rendered before the clock starts.
leg_ceiling() {
	local leg=$1 conc=$2 kind=$3 count=$4 tag=$RUN-$1 t0 t1 i ok
	mkdir -p "$WORK/$leg"
	for i in $(seq -f '%03g' 1 "$count"); do
		curl_entry "$leg" "$tag" "$i" "$kind"
	done | sed 1d >"$WORK/$leg/curl.cfg" # no "next" before the first transfer
	log "$leg: $count creates with curl, concurrency $conc"
	t0=$(now)
	curl -sS --no-progress-meter --parallel --parallel-max "$conc" -K "$WORK/$leg/curl.cfg" 2>"$WORK/$leg/curl.err"
	t1=$(now)
	ok=$(cat "$WORK/$leg"/*.out 2>/dev/null | grep -cE '^# Ticket [0-9]+ created')
	record "$leg" "$tag" "$t0" "$t1" "$( ((ok < count)) && echo "$((count - ok)) creates failed, see $WORK/$leg/*.out")"
}

leg_fetchmail() {
	local fm
	fm=$(command -v fetchmail)
	if [[ -z $fm && $(id -u) == 0 ]]; then
		log "installing fetchmail (Debian package)"
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends fetchmail >&2
		fm=$(command -v fetchmail)
	fi
	[[ -n $fm ]] || { skip fetchmail "fetchmail not installed (apt-get install fetchmail)"; return; }
	command -v rt-mailgate >/dev/null || { skip fetchmail "rt-mailgate not installed (apt-get install rt5-clients)"; return; }
	local tag=$RUN-fetchmail folder=bench-$RUN-fetchmail t0 t1 rc
	log "fetchmail: filling IMAP folder $folder"
	fill_folder "$folder" "$tag" "$GEN"/mail/*.eml || { skip fetchmail "could not fill $folder with doveadm"; return; }
	mkdir -p "$WORK/fetchmail"
	# keep + fetchall on a fresh folder: every mail once, nothing deleted.
	cat >"$WORK/fetchmail/rc" <<-EOF
		set no bouncemail
		poll 127.0.0.1 service $IMAPS_PORT protocol IMAP
		  user "$IMAP_USER" password "$IMAP_PASSWORD"
		  folder "$folder"
		  ssl sslcertck sslcertfile "$IMAP_CA_CERT" sslcommonname localhost
		  keep fetchall
		  mda "rt-mailgate --url $RT_URL/ --queue General --action correspond"
	EOF
	chmod 600 "$WORK/fetchmail/rc"
	log "fetchmail: running"
	t0=$(now)
	FETCHMAILHOME=$WORK/fetchmail "$fm" -f "$WORK/fetchmail/rc" --nosyslog --nodetach >"$WORK/fetchmail/log" 2>&1
	rc=$?
	t1=$(now)
	record fetchmail "$tag" "$t0" "$t1" "$( ((rc > 1)) && echo "fetchmail exit $rc, see $WORK/fetchmail/log")"
}

# rtb_available builds rtbridge (unless RTBRIDGE_BIN is set) and checks
# that `run` exists; prints the reason when it cannot run.
rtb_available() {
	if [[ -n ${RTB_REASON+x} ]]; then
		[[ -z $RTB_REASON ]]
		return
	fi
	RTB=${RTBRIDGE_BIN:-$DIR/rtbridge}
	RTB_REASON=
	if [[ -z ${RTBRIDGE_BIN:-} ]] && ! (cd "$root" && go build -o "$RTB" ./cmd/rtbridge) >"$WORK/build.log" 2>&1; then
		RTB_REASON="go build ./cmd/rtbridge fails: $(grep -v "^#" "$WORK/build.log" | head -1)"
	elif "$RTB" run -h 2>&1 | grep -q 'not built yet'; then
		RTB_REASON="rtbridge run is not built yet"
	fi
	[[ -z $RTB_REASON ]]
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((20000 + RANDOM % 20000)); }

# rtb_config NAME FOLDER writes $WORK/NAME/config.yaml for a daemon with
# the JSON webhook and (when FOLDER is set) an IMAP source on FOLDER.
rtb_config() {
	local d=$WORK/$1 folder=$2
	mkdir -p "$d/state"
	printf '%s' "$RT_PASSWORD" >"$d/rt.pass"
	printf '%s' "$IMAP_PASSWORD" >"$d/imap.pass"
	printf 'bench-%s' "$RUN" >"$d/hook.token"
	chmod 600 "$d"/*.pass "$d/hook.token"
	RTB_PORT=$(free_port)
	{
		cat <<-EOF
			rt:
			  url: $RT_URL/
			  auth: cookie
			  user: $RT_USER
			  password_file: $d/rt.pass
			  max_concurrency: $CONC
			state:
			  dir: $d/state
			log:
			  level: info
			  format: json
			http:
			  listen: 127.0.0.1:$RTB_PORT
			executor:
			  workers: $CONC
			webhooks:
			  - name: bench-hook
			    path: /hooks/bench
			    auth:
			      bearer:
			        token_file: $d/hook.token
		EOF
		[[ -n $folder ]] && cat <<-EOF
			imap:
			  - name: bench
			    address: 127.0.0.1:$IMAPS_PORT
			    tls: implicit
			    ca_file: $IMAP_CA_CERT
			    username: $IMAP_USER
			    password_file: $d/imap.pass
			    folders: [ "$folder" ]
			    idle: true
			    disposition: seen
			    # a 50 MiB attachment is ~69 MiB as base64, over the 64 MiB default
			    max_message_bytes: $(((BIG_MB * 3 / 2 + 16) << 20))
		EOF
		cat <<-'EOF'
			rules:
			  - name: bench webhook events open tickets
			    when: { source: bench-hook }
			    do:
			      - create: { queue: General, requestor: '{{ .JSON.requestor }}', subject: '{{ .JSON.subject }}', text: '{{ .JSON.text }}' }
			  - name: bench mail opens tickets
			    when: { kind: mail }
			    do:
			      - create: { queue: General, requestor: '{{ .From }}', attachments: all }
			  - name: default
			    do: [ { ignore: 'not a bench event' } ]
		EOF
	} >"$d/config.yaml"
	RTB_CONF=$d/config.yaml
}

# rtb_start NAME starts the daemon of rtb_config NAME; sets RTB_PID.
rtb_start() {
	"$RTB" run --config "$RTB_CONF" >"$WORK/$1/daemon.log" 2>&1 &
	RTB_PID=$!
	STARTED_PIDS+=("$RTB_PID")
}

# rtb_ready waits for /readyz (up to 30 s).
rtb_ready() {
	local i
	for i in $(seq 150); do
		kill -0 "$RTB_PID" 2>/dev/null || return 1
		curl -fsS -o /dev/null "http://127.0.0.1:$RTB_PORT/readyz" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

rtb_stop() {
	kill -TERM "$RTB_PID" 2>/dev/null
	wait "$RTB_PID" 2>/dev/null
}

# rtb_check NAME validates the config with `rtbridge check` when it exists.
rtb_check() {
	"$RTB" check -h >/dev/null 2>&1 || return 0
	"$RTB" check --config "$RTB_CONF" >"$WORK/$1/check.log" 2>&1
}

status_kb() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# cpu_secs PID: user + system CPU seconds the process has used (fields 14 and
# 15 of /proc/PID/stat, after the parenthesised command name).
cpu_secs() { sed 's/.*) //' "/proc/$1/stat" | awk -v hz="$(getconf CLK_TCK)" '{ printf "%.1f", ($12 + $13) / hz }'; }
mb() { calc "$1 / 1024" 1; }

# The deadline for N tickets: generous, from the slowest plausible RT.
deadline_for() { echo $((30 + $1 * 2)); }

leg_rtbimap() {
	rtb_available || { skip rtbimap "$RTB_REASON"; return; }
	local tag=$RUN-rtbimap folder=bench-$RUN-rtbimap t0
	log "rtbimap: filling IMAP folder $folder"
	fill_folder "$folder" "$tag" "$GEN"/mail/*.eml || { skip rtbimap "could not fill $folder with doveadm"; return; }
	rtb_config rtbimap "$folder"
	rtb_check rtbimap || { skip rtbimap "rtbridge check rejects the bench config: $(head -3 "$WORK/rtbimap/check.log" | tr '\n' ' ')"; return; }
	log "rtbimap: starting rtbridge run (port $RTB_PORT)"
	t0=$(now)
	rtb_start rtbimap
	if ! wait_done "$WORK/rtbimap/daemon.log" "$N" "$(deadline_for "$N")"; then
		log "rtbimap: not all $N events done in time; daemon log: $WORK/rtbimap/daemon.log"
	fi
	record rtbimap "$tag" "$t0" "$T_DONE" "peak RSS $(mb "$(status_kb "$RTB_PID" VmHWM)") MB, CPU $(cpu_secs "$RTB_PID") s"
	rtb_stop
}

# hook_entries TAG PORT TOKEN renders the HOOK_N JSON events into
# $WORK/rtbhook and prints one curl transfer per event.
hook_entries() {
	local i
	for i in $(seq -f '%03g' 1 "$HOOK_N"); do
		jq -cn --arg s "$(hook_subject "$i" "$1")" --arg t "$(hook_text "$i")" \
			'{subject: $s, text: $t, requestor: "hook@example.test", service: "bench"}' >"$WORK/rtbhook/$i.json"
		printf 'next\nurl = "http://127.0.0.1:%s/hooks/bench"\nheader = "Authorization: Bearer %s"\n' "$2" "$3"
		printf 'header = "Content-Type: application/json"\ndata-binary = "@%s"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
			"$WORK/rtbhook/$i.json"
	done
}

leg_rtbhook() {
	rtb_available || { skip rtbhook "$RTB_REASON"; return; }
	command -v jq >/dev/null || { skip rtbhook "jq not installed"; return; }
	local tag=$RUN-rtbhook t0 fails
	rtb_config rtbhook ""
	rtb_check rtbhook || { skip rtbhook "rtbridge check rejects the bench config: $(head -3 "$WORK/rtbhook/check.log" | tr '\n' ' ')"; return; }
	rtb_start rtbhook
	rtb_ready || { skip rtbhook "daemon not ready: $(tail -3 "$WORK/rtbhook/daemon.log" | tr '\n' ' ')"; return; }
	hook_entries "$tag" "$RTB_PORT" "bench-$RUN" | sed 1d >"$WORK/rtbhook/curl.cfg"
	log "rtbhook: posting $HOOK_N events with curl, concurrency $CONC"
	t0=$(now)
	curl -sS --no-progress-meter --parallel --parallel-max "$CONC" -K "$WORK/rtbhook/curl.cfg" >"$WORK/rtbhook/codes" 2>"$WORK/rtbhook/curl.err"
	fails=$(grep -vc '^202$' "$WORK/rtbhook/codes")
	log "rtbhook: all posted after $(calc "$(now) - $t0") s ($fails not answered 202)"
	wait_done "$WORK/rtbhook/daemon.log" "$HOOK_N" "$(deadline_for "$HOOK_N")" || log "rtbhook: not all $HOOK_N events done in time"
	record rtbhook "$tag" "$t0" "$T_DONE" "$( ((fails > 0)) && echo "$fails posts not answered 202")"
	rtb_stop
}

# leg_idle: one fresh daemon on an empty folder: idle RSS after 5 s, then
# IDLE_N mails appended one at a time (append → ticket seen by a 0.1 s REST
# poll), then the big mail and the peak RSS.
leg_idle() {
	rtb_available || { skip idle "$RTB_REASON"; return; }
	local tag=$RUN-idle folder=bench-$RUN-idle i t0 lat=() f big_t0
	"${DOVEADM[@]}" mailbox create -u "$IMAP_USER" "$folder" || { skip idle "doveadm cannot create $folder"; return; }
	MADE_FOLDERS+=("$folder")
	rtb_config idle "$folder"
	rtb_start idle
	rtb_ready || { skip idle "daemon not ready: $(tail -3 "$WORK/idle/daemon.log" | tr '\n' ' ')"; return; }
	sleep 5
	R_NOTE[idle_rss]="$(mb "$(status_kb "$RTB_PID" VmRSS)") MB RSS after 5 s idle (IMAP IDLE + webhook listening)"
	log "idle: ${R_NOTE[idle_rss]}; IDLE latency over $IDLE_N mails"
	for i in $(seq 1 "$IDLE_N"); do
		f=$(printf '%s/mail/%03d.eml' "$GEN" "$i")
		t0=$(now)
		sed "s/@@RUN@@/$tag/g" "$f" | "${DOVEADM[@]}" save -u "$IMAP_USER" -m "$folder"
		while :; do
			count_tag "$tag m"
			((COUNT >= i)) && break
			[[ $(calc "$(now) - $t0 > 60" 0) == 1 ]] && break
			sleep 0.1
		done
		lat+=("$(calc "$(now) - $t0" 3)")
	done
	R_NOTE[idle_lat]=$(printf '%s\n' "${lat[@]}" | sort -n | awk '{a[NR]=$1} END {
		printf "p50 %.2f s, min %.2f s, max %.2f s over %d mails (0.1 s poll)", a[int((NR+1)/2)], a[1], a[NR], NR }')
	log "idle: ${R_NOTE[idle_lat]}"
	local hwm0
	hwm0=$(status_kb "$RTB_PID" VmHWM)
	log "idle: appending the ${BIG_MB} MiB mail"
	big_t0=$(now)
	sed "s/@@RUN@@/$tag/" "$GEN/big.eml" | "${DOVEADM[@]}" save -u "$IMAP_USER" -m "$folder"
	local btag="$tag big"
	local peak=0 kb deadline
	deadline=$(calc "$(now) + 300" 0)
	while kill -0 "$RTB_PID" 2>/dev/null; do
		kb=$(status_kb "$RTB_PID" VmHWM)
		((kb > peak)) && peak=$kb
		count_tag "$btag"
		((COUNT >= 1)) && break
		[[ $(calc "$(now) > $deadline" 0) == 1 ]] && break
		sleep 0.5
	done
	local took att=""
	took=$(calc "$(now) - $big_t0" 1)
	if ((COUNT >= 1)); then
		# the attachment as RT lists it, to show it really went through
		local id
		id=$(curl -sS -b "$JAR" -G --data-urlencode "query=Subject LIKE '$btag'" --data-urlencode format=i \
			"$RT_URL/REST/1.0/search/ticket" | sed -n 's|^ticket/||p' | head -1)
		att=$(curl -sS -b "$JAR" "$RT_URL/REST/1.0/ticket/$id/attachments" | grep -o 'disk.img ([^)]*)' | head -1)
	fi
	R_NOTE[big]="VmHWM $(mb "$peak") MB (before the big mail $(mb "$hwm0") MB); ticket $( ((COUNT >= 1)) && echo "after $took s, RT has ${att:-NO disk.img attachment}" || echo "NOT created in $took s")"
	rtb_stop
}

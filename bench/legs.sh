# bench/legs.sh: the legs of bench/run.sh (sourced).
# shellcheck shell=bash

# leg_ceiling LEG CONC KIND COUNT: COUNT creates through one RT session,
# CONC at a time (xargs -P), timed from the first request to the last answer.
leg_ceiling() {
	local leg=$1 conc=$2 kind=$3 count=$4 tag=$RUN-$1 t0 t1 fails
	log "$leg: $count creates with curl, concurrency $conc"
	t0=$(now)
	fails=$(seq -f '%03g' 1 "$count" |
		xargs -P "$conc" -I{} bash "$here/run.sh" _create "$tag" {} "$kind" 2>&1 | tee -a "$WORK/$leg.log" | grep -c '^create ')
	t1=$(now)
	record "$leg" "$tag" "$t0" "$t1" "$( ((fails > 0)) && echo "$fails creates failed, see $WORK/$leg.log")"
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
		RTB_REASON="go build ./cmd/rtbridge fails: $(head -1 "$WORK/build.log")"
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
	if ! wait_count "$tag" "$N" "$(deadline_for "$N")"; then
		log "rtbimap: only $COUNT of $N tickets; daemon log: $WORK/rtbimap/daemon.log"
	fi
	record rtbimap "$tag" "$t0" "$T_DONE" "peak RSS $(mb "$(status_kb "$RTB_PID" VmHWM)") MB"
	rtb_stop
}

# post_event TAG IDX PORT TOKEN posts webhook event IDX; exit 0 on 202.
post_event() {
	local body code
	body=$(jq -cn --arg s "$(hook_subject "$2" "$1")" --arg t "$(hook_text "$2")" \
		'{subject: $s, text: $t, requestor: "hook@example.test", service: "bench"}')
	code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $4" -H 'Content-Type: application/json' \
		--data-binary "$body" "http://127.0.0.1:$3/hooks/bench")
	[[ $code == 202 ]] && return 0
	echo "create $1 $2: HTTP $code" >&2
	return 1
}

leg_rtbhook() {
	rtb_available || { skip rtbhook "$RTB_REASON"; return; }
	command -v jq >/dev/null || { skip rtbhook "jq not installed"; return; }
	local tag=$RUN-rtbhook t0 fails
	rtb_config rtbhook ""
	rtb_check rtbhook || { skip rtbhook "rtbridge check rejects the bench config: $(head -3 "$WORK/rtbhook/check.log" | tr '\n' ' ')"; return; }
	rtb_start rtbhook
	rtb_ready || { skip rtbhook "daemon not ready: $(tail -3 "$WORK/rtbhook/daemon.log" | tr '\n' ' ')"; return; }
	log "rtbhook: posting $HOOK_N events, concurrency $CONC"
	t0=$(now)
	fails=$(seq -f '%03g' 1 "$HOOK_N" |
		xargs -P "$CONC" -I{} bash "$here/run.sh" _post "$tag" {} "$RTB_PORT" "bench-$RUN" 2>&1 | grep -c '^create ')
	log "rtbhook: all posted after $(calc "$(now) - $t0") s ($fails refused)"
	wait_count "$tag" "$HOOK_N" "$(deadline_for "$HOOK_N")" || log "rtbhook: only $COUNT of $HOOK_N tickets"
	record rtbhook "$tag" "$t0" "$T_DONE" "$( ((fails > 0)) && echo "$fails posts refused")"
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
	R_NOTE[big]="VmHWM $(mb "$peak") MB (before the big mail $(mb "$hwm0") MB); ticket $( ((COUNT >= 1)) && echo "after $(calc "$(now) - $big_t0" 1) s" || echo "NOT created")"
	rtb_stop
}

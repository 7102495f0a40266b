#!/usr/bin/env bash
# The curl examples of the SecuMon API reference, run in order against a server of yours:
#
#   SECUMON_URL=http://127.0.0.1:8080 SECUMON_TOKEN=smn_… examples/curl/secumon-api.sh
#
# (without SECUMON_TOKEN, from the repository's root, it uses .secumon/owner.token).
#
# Each call is printed as the curl command it runs, then the answer and its status. The ids
# the reference shows (8f3b1c2a-…) are replaced by those of the resources the script creates,
# and what it creates is deleted at the end (except the incident and the maintenance windows,
# which the API keeps as history: they end resolved, completed and cancelled). The host it
# creates points at 127.0.0.1
# (the reference's 10.0.0.12 is a documentation address: never probed here), and names carry
# a run suffix so that runs do not collide.
#
# Needs bash, curl and jq (or python3). The token needs the admin role. Exit status: 0 when
# every call answered as expected; operations the server does not implement yet (501) are
# reported and tolerated unless STRICT=1. Calls that would retire a worker or ask the
# server's configured AI provider are printed, not run (set SECUMON_CURL_AI=1 for the latter).
set -u

SECUMON_URL=${SECUMON_URL:-http://127.0.0.1:8080}
# Without SECUMON_TOKEN: the owner token `make run` wrote (run this from the repository's root).
if [ -z "${SECUMON_TOKEN:-}" ] && [ -r .secumon/owner.token ]; then
	SECUMON_TOKEN=$(cat .secumon/owner.token)
fi
: "${SECUMON_TOKEN:?set SECUMON_TOKEN to an API token with the admin role, or run this where make run wrote .secumon/owner.token}"
API="${SECUMON_URL%/}/api/v2"
RUN=${RUN:-$(date +%s)}
STRICT=${STRICT:-0}

failed=()
unbuilt=()
STATUS=""
BODY=""

# field NAME: the top-level string field NAME of the JSON on stdin.
field() {
	if command -v jq >/dev/null; then
		jq -r --arg f "$1" '.[$f] // empty'
	else
		python3 -c 'import json,sys; v=json.load(sys.stdin).get(sys.argv[1]); print(v if v is not None else "")' "$1"
	fi
}

# req EXPECTED METHOD PATH [JSON]: runs one call like the reference's curl line, prints it,
# its answer and its status, and records whether the status matches EXPECTED (a pattern such
# as 200 or 200|409). The answer is left in BODY and the status in STATUS.
req() {
	local expected=$1 method=$2 path=$3
	local args=(-s -X "$method" "$API$path" -H "Authorization: Bearer $SECUMON_TOKEN")
	local shown="curl -s -X $method \"\$API$path\" -H \"Authorization: Bearer \$SECUMON_TOKEN\""
	if [ $# -ge 4 ]; then
		args+=(-H "Content-Type: application/json" -d "$4")
		shown+=" -H \"Content-Type: application/json\" -d '$4'"
	fi
	printf '\n$ %s\n' "$shown"
	local out
	out=$(curl "${args[@]}" -w '\n%{http_code}')
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
	printf '%s\n→ %s\n' "$BODY" "$STATUS"
	check "$expected" "$method $path"
}

# check EXPECTED WHAT: records the outcome of the last call.
check() {
	local expected=$1 what=$2
	if [[ "$STATUS" =~ ^($expected)$ ]]; then
		return 0
	fi
	if [ "$STATUS" = 501 ] && [ "$STRICT" != 1 ]; then
		unbuilt+=("$what")
		return 1
	fi
	failed+=("$what → $STATUS (expected $expected)")
	return 1
}

section() { printf '\n\n## %s\n' "$1"; }

# Everything created is deleted on the way out, whatever happened in between.
cleanup_cmds=()
cleanup() {
	section "Cleanup"
	local i
	for ((i = ${#cleanup_cmds[@]} - 1; i >= 0; i--)); do
		eval "${cleanup_cmds[$i]}"
	done
}
trap cleanup EXIT
later() { cleanup_cmds+=("$1"); }

section "Authentication"
req 200 GET /status

section "Hosts"
req 200 GET "/hosts?active=true"
req 201 POST /hosts "{ \"name\": \"web-prod-01-$RUN\", \"hostname\": \"127.0.0.1\", \"host_type\": \"server\", \"tags\": { \"env\": \"prod\" } }"
HOST=$(field id <<<"$BODY")
if [ -z "$HOST" ]; then
	echo "no host was created: stopping" >&2
	exit 1
fi
req 200 GET "/hosts/$HOST"
req 200 PUT "/hosts/$HOST" '{ "is_active": false }'
req 200 GET "/hosts/$HOST/latest"
req 200 GET "/hosts/$HOST/snmp-metrics"
req 200 GET "/hosts/$HOST/uptime?window=7d"
req 200 GET "/hosts/$HOST/logs?limit=50"
req '200|503' POST /hosts/ai-tag '{ "active_only": true, "provider": "local" }'
if [ "${SECUMON_CURL_AI:-0}" = 1 ]; then
	req '200|503' POST "/hosts/$HOST/ai-tag"
else
	printf '\n$ curl -s -X POST "$API/hosts/%s/ai-tag" -H "Authorization: Bearer $SECUMON_TOKEN"\n(not run: it asks the server'"'"'s configured AI provider; set SECUMON_CURL_AI=1)\n' "$HOST"
fi

section "Checks"
req 200 GET "/checks?host_id=$HOST"
req 201 POST /checks "{ \"host_id\": \"$HOST\", \"name\": \"ping web-prod-01-$RUN\", \"check_type\": \"ping\", \"config\": { \"host\": \"127.0.0.1\" }, \"interval_sec\": 60, \"timeout_sec\": 10 }"
CHECK=$(field id <<<"$BODY")
req 200 GET "/checks/$CHECK"
req 200 PUT "/checks/$CHECK" '{ "interval_sec": 120, "enabled": false }'
req '200|404' GET "/checks/$CHECK/last-result" # 404 until a worker has run it
req 202 POST "/checks/$CHECK/run"
req 200 GET "/metrics/checks?check_id=$CHECK&granularity=5min"

section "SNMP"
req 200 GET /snmp-devices

section "Incidents"
req 200 GET /incidents
req 201 POST /incidents "{ \"title\": \"Dégradation web-prod-01-$RUN\", \"severity\": \"major\" }"
INCIDENT=$(field id <<<"$BODY")
if [ -n "$INCIDENT" ]; then
	req 200 GET "/incidents/$INCIDENT"
	req 200 POST "/incidents/$INCIDENT/ack"
	req '200|409' PUT "/incidents/$INCIDENT/acknowledge" # already acknowledged just above
	req 200 POST "/incidents/$INCIDENT/resolve"
	req '200|409' PUT "/incidents/$INCIDENT/resolve" # already resolved just above
	req '201|409' POST "/incidents/$INCIDENT/updates" '{ "note": "Mitigation appliquée.", "status": "acknowledged" }'
	# AI mode is for critical incidents only: this major one gets a refusal.
	req '200|400|409' POST "/incidents/$INCIDENT/ai-mode" '{ "provider": "local", "justification": "Panne critique, analyse rapide.", "budget_usd": 50 }'
	req '200|404|409' DELETE "/incidents/$INCIDENT/ai-mode"
	req '200|404' GET "/incidents/$INCIDENT/ai-cost"
fi

section "Alert policies"
req 200 GET /alert-policies
req 201 POST /alert-policies "{ \"name\": \"Critiques → astreinte $RUN\", \"conditions\": { \"severity\": [\"critical\"] }, \"channels\": { \"email\": [\"astreinte@example.com\"] }, \"cooldown_sec\": 300 }"
POLICY=$(field id <<<"$BODY")
if [ -n "$POLICY" ]; then
	later "req 204 DELETE /alert-policies/$POLICY"
	req 200 GET "/alert-policies/$POLICY"
	req 200 PUT "/alert-policies/$POLICY" "{ \"name\": \"Critiques → astreinte $RUN\", \"enabled\": false, \"cooldown_sec\": 600 }"
fi

section "On-call"
req 200 GET /oncall-schedules
req 201 POST /oncall-schedules "{ \"name\": \"Astreinte web $RUN\", \"members\": [ { \"name\": \"Alice\", \"email\": \"alice@example.com\" } ] }"
SCHEDULE=$(field id <<<"$BODY")
if [ -n "$SCHEDULE" ]; then
	later "req 204 DELETE /oncall-schedules/$SCHEDULE"
	req 200 GET "/oncall-schedules/$SCHEDULE"
	req 204 PUT "/oncall-schedules/$SCHEDULE" "{ \"name\": \"Astreinte web $RUN\", \"timezone\": \"America/Toronto\", \"rotation_type\": \"weekly\", \"members\": [ { \"name\": \"Bob\", \"email\": \"bob@example.com\" } ] }"
fi
req 200 GET /oncall/current

section "Status pages"
req 200 GET /status-pages
req 201 POST /status-pages "{ \"slug\": \"web-prod-$RUN\", \"title\": \"Statut des services web\", \"is_public\": true }"
PAGE=$(field id <<<"$BODY")
if [ -n "$PAGE" ]; then
	later "req 204 DELETE /status-pages/$PAGE"
	req 200 GET "/status-pages/$PAGE"
	req 200 PUT "/status-pages/$PAGE" '{ "title": "Statut — Services Web", "show_history_days": 60 }'
fi

section "Maintenance windows"
# The reference's dates, moved to tomorrow so that they stay in the future.
DAY=$(date -u -d tomorrow +%Y-%m-%d 2>/dev/null || echo 2026-06-24)
req 200 GET /maintenance-windows
req 201 POST /maintenance-windows "{ \"title\": \"Mise à jour web-prod-01 $RUN\", \"start_time\": \"${DAY}T02:00:00Z\", \"end_time\": \"${DAY}T03:00:00Z\", \"suppress_alerts\": true, \"affected_hosts\": [\"$HOST\"] }"
WINDOW=$(field id <<<"$BODY")
if [ -n "$WINDOW" ]; then
	req 200 GET "/maintenance-windows/$WINDOW"
	req 200 PUT "/maintenance-windows/$WINDOW" "{ \"end_time\": \"${DAY}T03:30:00Z\" }"
	req 200 POST "/maintenance-windows/$WINDOW/start"
	req 200 POST "/maintenance-windows/$WINDOW/end"
fi
req 201 POST /maintenance-windows "{ \"title\": \"Fenêtre annulée $RUN\", \"start_time\": \"${DAY}T04:00:00Z\", \"end_time\": \"${DAY}T05:00:00Z\" }"
CANCELLED=$(field id <<<"$BODY")
if [ -n "$CANCELLED" ]; then
	req 204 POST "/maintenance-windows/$CANCELLED/cancel"
fi

section "Dashboard and status"
req 200 GET /status
# The live stream: curl -N prints events as they come; here, the first ones for 2 seconds.
printf '\n$ curl -N "$API/events" -H "Authorization: Bearer $SECUMON_TOKEN"\n'
out=$(curl -sN --max-time 2 "$API/events" -H "Authorization: Bearer $SECUMON_TOKEN" -w '\n%{http_code}')
STATUS=${out##*$'\n'}
printf '%s\n→ %s\n' "${out%$'\n'*}" "$STATUS"
check 200 "GET /events"
req 200 GET /dashboard
req 200 GET /dashboards/app-security
req 200 GET "/storms?active=true"

section "Workers"
req 200 GET /workers
WORKER=$(jq -r '.[0].id // empty' <<<"$BODY" 2>/dev/null || true)
printf '\n$ curl -s -X DELETE "$API/workers/%s" -H "Authorization: Bearer $SECUMON_TOKEN"\n(not run: it would retire a worker this server needs)\n' "${WORKER:-<id>}"

section "Workspaces"
req 200 GET /workspaces

# The reference's deletes, last: they clean up too.
section "Deletes"
req 204 DELETE "/checks/$CHECK"
req 204 DELETE "/hosts/$HOST"

trap - EXIT
cleanup

printf '\n\n## Summary\n'
if [ ${#unbuilt[@]} -gt 0 ]; then
	printf 'not implemented by this server yet (501):\n'
	printf '  %s\n' "${unbuilt[@]}"
fi
if [ ${#failed[@]} -gt 0 ]; then
	printf 'unexpected answers:\n'
	printf '  %s\n' "${failed[@]}"
	exit 1
fi
echo "every call answered as expected"

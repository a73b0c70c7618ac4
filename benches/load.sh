#!/usr/bin/env bash
# Load benchmark of a full disclosure, GET /v1/requests/{id} (mutual TLS, token, decision, decrypt, durable log
# record), against nginx serving a static JSON file of the same size over mutual TLS with the same certificates,
# in the same run. Both servers are pinned to core 0 and the load generator (oha) to core 1.
#
#   benches/load.sh [SECONDS] [CONNECTIONS]      (defaults: 20 s, 64 kept-alive connections)
#
# Needs: oha (cargo install oha), nginx (apt-get install nginx), curl, python3, taskset.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN="${1:-20}"
CONNECTIONS="${2:-64}"
source benches/common.sh
need oha nginx curl taskset
GW_PORT=18443
NGINX_PORT=18444
start_gateway "$GW_PORT" 0
URL="https://localhost:$GW_PORT"
T_GEM="$(token gemeente professional)"
T_REG="$(token zvh procesregisseur)"
T_ZVH="$(token zvh professional)"
H=(-H "content-type: application/json")
ZVH_OIN="$(cat "$DEMO/orgs/zvh/oin")"
GEM_OIN="$(cat "$DEMO/orgs/gemeente/oin")"
NOW="$(date -u -d '-1 min' +%Y-%m-%dT%H:%M:%SZ)"
LATER="$(date -u -d '+3 hours' +%Y-%m-%dT%H:%M:%SZ)"

# A case with a response of one item of about 1 KiB.
CASE="$(as gemeente "${H[@]}" -H "authorization: Bearer $T_GEM" "$URL/v1/cases" \
  -d '{"subject":{"bsn":"123456782"},"summary":"load benchmark"}' | json id)"
as zvh "${H[@]}" -H "authorization: Bearer $T_REG" "$URL/v1/cases/$CASE/members" \
  -d "{\"oin\":\"$ZVH_OIN\",\"reason\":\"load benchmark\"}"
MEETING="$(as zvh "${H[@]}" -H "authorization: Bearer $T_REG" "$URL/v1/meetings" \
  -d "{\"type\":\"focus\",\"starts_at\":\"$NOW\",\"ends_at\":\"$LATER\"}" | json id)"
as zvh "${H[@]}" -H "authorization: Bearer $T_REG" "$URL/v1/meetings/$MEETING/agenda" -d "{\"case_id\":\"$CASE\"}"
REQUEST="$(as zvh "${H[@]}" -H "authorization: Bearer $T_ZVH" "$URL/v1/requests" \
  -d "{\"case_id\":\"$CASE\",\"meeting_id\":\"$MEETING\",\"purpose\":\"integraal_plan\",\"categories\":[\"leefgebieden\"],\"addressees\":[\"$GEM_OIN\"],\"due\":\"$LATER\"}" \
  | json id)"
CONTENT="$(python3 -c "print('x' * 1000)")"
as gemeente "${H[@]}" -H "authorization: Bearer $T_GEM" "$URL/v1/requests/$REQUEST/responses" \
  -d "{\"items\":[{\"category\":\"leefgebieden\",\"content\":{\"huisvesting\":\"$CONTENT\"}}]}"
as zvh -H "authorization: Bearer $T_ZVH" "$URL/v1/requests/$REQUEST" >"$WORK/static.json"
start_nginx "$NGINX_PORT" "$WORK/static.json"

echo "load: $SECONDS_RUN s each, $CONNECTIONS connections, response $(wc -c <"$WORK/static.json") bytes; work directory $WORK"
oha_run gateway "$URL/v1/requests/$REQUEST" -z "${SECONDS_RUN}s" -c "$CONNECTIONS" -H "authorization: Bearer $T_ZVH"
oha_run nginx "https://localhost:$NGINX_PORT/static.json" -z "${SECONDS_RUN}s" -c "$CONNECTIONS"
compare gateway nginx

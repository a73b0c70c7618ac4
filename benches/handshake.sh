#!/usr/bin/env bash
# The handshake race: full mutual-TLS handshakes per second (no keep-alive: one TLS 1.3 handshake with client
# certificate per request, no session resumption on either side) against the gateway's /healthz and against nginx
# with ssl_verify_client on, the same certificates and curves, in the same run. Servers on core 0, oha on core 1.
#
#   benches/handshake.sh [SECONDS] [CONNECTIONS]      (defaults: 20 s, 32 concurrent clients)
#
# Needs: oha (cargo install oha), nginx (apt-get install nginx), curl, python3, taskset.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN="${1:-20}"
CONNECTIONS="${2:-32}"
source benches/common.sh
need oha nginx curl taskset
GW_PORT=18443
NGINX_PORT=18444
start_gateway "$GW_PORT" 0
as zvh "https://localhost:$GW_PORT/healthz" >"$WORK/static.json"
start_nginx "$NGINX_PORT" "$WORK/static.json"
echo "handshakes: $SECONDS_RUN s each, $CONNECTIONS clients, no keep-alive; work directory $WORK"
oha_run gateway "https://localhost:$GW_PORT/healthz" -z "${SECONDS_RUN}s" -c "$CONNECTIONS" --disable-keepalive
oha_run nginx "https://localhost:$NGINX_PORT/static.json" -z "${SECONDS_RUN}s" -c "$CONNECTIONS" --disable-keepalive
compare gateway nginx

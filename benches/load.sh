#!/usr/bin/env bash
# Load benchmark of a full disclosure, GET /v1/requests/{id} (mutual TLS, token, decision, decrypt, durable log
# record), against nginx serving a static 1 KiB JSON file over mutual TLS with the same certificates, in the same
# run. Both servers are pinned to core 0 and the load generator (oha) to core 1.
#
#   benches/load.sh [SECONDS] [CONNECTIONS]      (defaults: 20 s, 64 kept-alive connections)
#
# Needs: oha (cargo install oha), nginx (apt-get install nginx), curl, python3, taskset. Prints both throughputs,
# p50/p99 latency and the ratio; the raw oha JSON stays in the work directory it names.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_RUN="${1:-20}"
CONNECTIONS="${2:-64}"
GW_PORT=18443
NGINX_PORT=18444
for tool in oha nginx curl python3 taskset; do
  command -v "$tool" >/dev/null || { echo "load.sh: $tool is needed (see the header of this script)" >&2; exit 2; }
done

cargo build --release --quiet
BIN="$PWD/target/release/doelpoort"
WORK="$(mktemp -d /tmp/doelpoort-load.XXXXXX)"
DEMO="$WORK/demo"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

# The gateway on the demo directory (SQLite, synchronous=FULL), on core 0.
DOELPOORT_LOG=warn taskset -c 0 "$BIN" demo --dir "$DEMO" --listen "127.0.0.1:$GW_PORT" >"$WORK/gateway.log" 2>&1 &
PIDS+=($!)
as() { # as SLUG: curl with that organisation's certificate
  local slug="$1"; shift
  curl -sS --fail-with-body --cacert "$DEMO/ca/ca.pem" --cert "$DEMO/orgs/$slug/cert.pem" \
    --key "$DEMO/orgs/$slug/key.pem" "$@"
}
for _ in $(seq 1 300); do
  as zvh "https://localhost:$GW_PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.2
done
token() { "$BIN" token --dir "$DEMO" --org "$1" --sub "load-$1" --roles "$2"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }
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
BYTES="$(wc -c <"$WORK/static.json")"

# nginx: the same server certificate, client CA and curves; one worker on core 0; a static file of the same size.
mkdir -p "$WORK/nginx/www"
cp "$WORK/static.json" "$WORK/nginx/www/static.json"
chmod 755 "$WORK" "$WORK/nginx" "$WORK/nginx/www" && chmod 644 "$WORK/nginx/www/static.json" # nginx's worker user
cat >"$WORK/nginx/nginx.conf" <<EOF
worker_processes 1;
worker_cpu_affinity 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$NGINX_PORT ssl;
    ssl_certificate $DEMO/server/cert.pem;
    ssl_certificate_key $DEMO/server/key.pem;
    ssl_client_certificate $DEMO/ca/ca.pem;
    ssl_verify_client on;
    ssl_protocols TLSv1.3;
    ssl_ecdh_curve X25519:prime256v1:secp384r1;
    ssl_session_tickets off;
    keepalive_requests 1000000;
    root $WORK/nginx/www;
    location / { default_type application/json; }
  }
}
EOF
nginx -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
PIDS+=($!)
sleep 1
as zvh "https://localhost:$NGINX_PORT/static.json" >/dev/null

load() { # load NAME URL [HEADER]
  local name="$1" url="$2"; shift 2
  taskset -c 1 oha --no-tui --output-format json -z "${SECONDS_RUN}s" -c "$CONNECTIONS" --cacert "$DEMO/ca/ca.pem" \
    --cert "$DEMO/orgs/zvh/cert.pem" --key "$DEMO/orgs/zvh/key.pem" "$@" "$url" >"$WORK/$name.json"
}
echo "load: $SECONDS_RUN s each, $CONNECTIONS connections, response $BYTES bytes; work directory $WORK"
load gateway "$URL/v1/requests/$REQUEST" -H "authorization: Bearer $T_ZVH"
load nginx "https://localhost:$NGINX_PORT/static.json"
python3 - "$WORK" <<'EOF'
import json, sys
work = sys.argv[1]
def figures(name):
    r = json.load(open(f"{work}/{name}.json"))
    codes = r.get("statusCodeDistribution", {})
    return r["summary"]["requestsPerSec"], r["latencyPercentiles"]["p50"] * 1000, r["latencyPercentiles"]["p99"] * 1000, codes
g, n = figures("gateway"), figures("nginx")
for name, (rps, p50, p99, codes) in (("gateway", g), ("nginx", n)):
    print(f"{name:8} {rps:10.0f} req/s   p50 {p50:6.2f} ms   p99 {p99:6.2f} ms   status {codes}")
print(f"ratio gateway/nginx: {g[0] / n[0]:.3f}")
EOF
RECORDS="$(as zvh -H "authorization: Bearer $(token zvh privacy_officer)" \
  "$URL/v1/audit/disclosures?kind=disclosure&limit=1" | python3 -c 'import json,sys; r=json.load(sys.stdin)["records"]; print(r[0]["seq"] if r else 0)')"
echo "disclosure log head after the run: record $RECORDS"

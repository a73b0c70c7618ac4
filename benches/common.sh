# Shared by the benchmark and fault scripts (sourced, not run): builds the release binary, starts the demo gateway
# and nginx with the same certificates, and offers curl and token helpers. Expects `set -euo pipefail`.
command -v python3 >/dev/null || { echo "python3 is needed" >&2; exit 2; }
cargo build --release --quiet
BIN="$PWD/target/release/doelpoort"
WORK="$(mktemp -d /tmp/doelpoort-bench.XXXXXX)"
DEMO="$WORK/demo"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

need() { for tool in "$@"; do command -v "$tool" >/dev/null || { echo "$tool is needed (see the script's header)" >&2; exit 2; }; done; }

# as SLUG CURL-ARGS…: curl with that demo organisation's certificate.
as() {
  local slug="$1"; shift
  curl -sS --fail-with-body --cacert "$DEMO/ca/ca.pem" --cert "$DEMO/orgs/$slug/cert.pem" \
    --key "$DEMO/orgs/$slug/key.pem" "$@"
}
token() { "$BIN" token --dir "$DEMO" --org "$1" --sub "bench-$1" --roles "$2"; }
json() { python3 -c "import json,sys; print(json.load(sys.stdin)[sys.argv[1]])" "$1"; }

# start_gateway PORT [CPU]: the demo gateway (SQLite) in the background; waits until it answers.
start_gateway() {
  local port="$1" cpu="${2:-}"
  if [ -n "$cpu" ]; then
    DOELPOORT_LOG=warn taskset -c "$cpu" "$BIN" demo --dir "$DEMO" --listen "127.0.0.1:$port" >>"$WORK/gateway.log" 2>&1 &
  else
    DOELPOORT_LOG=warn "$BIN" demo --dir "$DEMO" --listen "127.0.0.1:$port" >>"$WORK/gateway.log" 2>&1 &
  fi
  GATEWAY_PID=$!
  PIDS+=("$GATEWAY_PID")
  for _ in $(seq 1 300); do
    as zvh "https://localhost:$port/healthz" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "the gateway did not come up; see $WORK/gateway.log" >&2
  exit 1
}

# start_nginx PORT FILE: nginx with ssl_verify_client on, the gateway's certificates and curves, one worker on
# core 0, serving FILE as /static.json.
start_nginx() {
  local port="$1" file="$2"
  mkdir -p "$WORK/nginx/www"
  cp "$file" "$WORK/nginx/www/static.json"
  chmod 755 "$WORK" "$WORK/nginx" "$WORK/nginx/www" && chmod 644 "$WORK/nginx/www/static.json" # nginx's worker user
  cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 1;
worker_cpu_affinity 1;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $DEMO/server/cert.pem;
    ssl_certificate_key $DEMO/server/key.pem;
    ssl_client_certificate $DEMO/ca/ca.pem;
    ssl_verify_client on;
    ssl_protocols TLSv1.3;
    ssl_ecdh_curve X25519:prime256v1:secp384r1;
    ssl_session_tickets off;
    ssl_session_cache off;
    keepalive_requests 1000000;
    root $WORK/nginx/www;
    location / { default_type application/json; }
  }
}
CONF
  nginx -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
  PIDS+=($!)
  sleep 1
  as zvh "https://localhost:$port/static.json" >/dev/null
}

# oha_run NAME URL OHA-ARGS…: oha on core 1 with the ZVH's client certificate, JSON into $WORK/NAME.json.
oha_run() {
  local name="$1" url="$2"; shift 2
  taskset -c 1 oha --no-tui --output-format json --cacert "$DEMO/ca/ca.pem" \
    --cert "$DEMO/orgs/zvh/cert.pem" --key "$DEMO/orgs/zvh/key.pem" "$@" "$url" >"$WORK/$name.json"
}

# compare A B: throughput, p50/p99 and status counts of two oha runs, and the ratio A/B.
compare() {
  python3 - "$WORK" "$1" "$2" <<'PY'
import json, sys
work, a, b = sys.argv[1:]
def figures(name):
    r = json.load(open(f"{work}/{name}.json"))
    return (r["summary"]["requestsPerSec"], r["latencyPercentiles"]["p50"] * 1000,
            r["latencyPercentiles"]["p99"] * 1000, r.get("statusCodeDistribution", {}), r.get("errorDistribution", {}))
fa, fb = figures(a), figures(b)
for name, (rps, p50, p99, codes, errors) in ((a, fa), (b, fb)):
    print(f"{name:10} {rps:10.0f} req/s   p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   status {codes}   errors {errors}")
print(f"ratio {a}/{b}: {fa[0] / fb[0]:.3f}")
PY
}

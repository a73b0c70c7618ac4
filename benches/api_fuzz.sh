#!/usr/bin/env bash
# API fuzzing with schemathesis (PyPI) against the demo gateway's /v1/openapi.json, over mutual TLS with the host's
# client certificate and a token holding every role: no 5xx, every documented status and schema honoured, every
# input the document forbids refused (ST201), every input it allows accepted (ST202) — except, per operation in
# benches/schemathesis.toml, the refusals a schema cannot express (a BSN's elfproef, a time that must lie ahead,
# a purpose of the meeting's own type), each named there with its reason.
#
#   benches/api_fuzz.sh [MAX_EXAMPLES]      (default 25 per operation)
#
# Needs: schemathesis (pip install schemathesis), curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
EXAMPLES="${1:-25}"
source benches/common.sh
need schemathesis curl
PORT=18643
start_gateway "$PORT"
TOKEN="$(token zvh professional,procesregisseur,privacy_officer,admin)"
as zvh "https://localhost:$PORT/v1/openapi.json" >"$WORK/openapi.json"
echo "schemathesis: $EXAMPLES examples per operation; work directory $WORK"
set +e
schemathesis --config-file benches/schemathesis.toml run "$WORK/openapi.json" --url "https://localhost:$PORT" \
  --tls-verify "$DEMO/ca/ca.pem" --request-cert "$DEMO/orgs/zvh/cert.pem" \
  --request-cert-key "$DEMO/orgs/zvh/key.pem" -H "Authorization: Bearer $TOKEN" \
  --max-examples "$EXAMPLES" --seed 1 --workers 1 --report junit --report-dir "$WORK/report" 2>&1 | tee "$WORK/schemathesis.txt"
STATUS=${PIPESTATUS[0]}
set -e
echo "5xx in the gateway's log: $(grep -c 'status=5\|Status code: 5' "$WORK/gateway.log" || true)"
exit "$STATUS"

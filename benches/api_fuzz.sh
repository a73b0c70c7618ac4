#!/usr/bin/env bash
# API fuzzing with schemathesis (PyPI) against the demo gateway's /v1/openapi.json, over mutual TLS with the host's
# client certificate and a token holding every role: no 5xx, every documented status and schema honoured, every
# undocumented input refused with 4xx. (`positive_data_acceptance` is left out: a schema cannot say that a BSN must
# pass the elfproef or that a case id must exist, so schema-valid input is rightly refused with 4xx.)
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
schemathesis run "$WORK/openapi.json" --url "https://localhost:$PORT" \
  --tls-verify "$DEMO/ca/ca.pem" --request-cert "$DEMO/orgs/zvh/cert.pem" \
  --request-cert-key "$DEMO/orgs/zvh/key.pem" -H "Authorization: Bearer $TOKEN" \
  --exclude-checks positive_data_acceptance --max-examples "$EXAMPLES" --seed 1 --workers 2 --report junit --report-dir "$WORK/report" 2>&1 | tee "$WORK/schemathesis.txt"
STATUS=${PIPESTATUS[0]}
set -e
echo "5xx in the gateway's log: $(grep -c 'status=5\|Status code: 5' "$WORK/gateway.log" || true)"
exit "$STATUS"

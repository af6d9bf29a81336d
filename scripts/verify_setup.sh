#!/usr/bin/env bash
# Checks a running payout service end to end: creates one payout through REST and one through
# GraphQL, waits until a worker has processed both (COMPLETED or FAILED), and checks that the
# documentation, GraphQL, readiness and metrics endpoints answer 200. Exits 1 on any failure,
# including when nothing answers at the base URL.
#
#   API_KEY=<a client's key> scripts/verify_setup.sh [BASE_URL]     (default http://127.0.0.1:8000)
#
# Optional: METRICS_TOKEN (sent as a bearer token to /metrics when set),
# VERIFY_TIMEOUT_SECONDS (how long to wait for processing, default 90).
# Needs bash, curl and python3 (for JSON).
set -euo pipefail

base="${1:-http://127.0.0.1:8000}"
base="${base%/}"
timeout_seconds="${VERIFY_TIMEOUT_SECONDS:-90}"
command -v curl >/dev/null || { echo "verify_setup.sh needs curl." >&2; exit 2; }
if [ -z "${API_KEY:-}" ]; then
  echo "Set API_KEY to a client's key (make api-key CLIENT=<name> prints one)." >&2
  exit 2
fi

workdir="$(mktemp -d)"
trap 'rm -rf "$workdir"' EXIT
body="$workdir/body"
failures=0

fail() {
  echo "FAIL  $*"
  failures=$((failures + 1))
}

# request METHOD PATH [JSON] [TOKEN]: the response body goes to $body, the status code to
# stdout (000 when nothing answered). The bearer token is the client's key unless TOKEN is
# given; an empty TOKEN sends none.
request() {
  local method="$1" path="$2" data="${3:-}" token="${4-$API_KEY}"
  local args=(--silent --show-error --max-time 10 --output "$body" --write-out '%{http_code}'
    --request "$method")
  if [ -n "$token" ]; then
    args+=(--header "Authorization: Bearer $token")
  fi
  if [ -n "$data" ]; then
    args+=(--header 'Content-Type: application/json' --data "$data")
  fi
  curl "${args[@]}" "$base$path" 2>"$workdir/curl-error" || true
}

# json KEY...: the value at that path in $body (a string as is, anything else as JSON), or
# nothing when the body is not JSON or has no such value.
json() {
  python3 - "$body" "$@" <<'EOF'
import json, sys
try:
    value = json.load(open(sys.argv[1]))
    for key in sys.argv[2:]:
        value = value[int(key)] if isinstance(value, list) else value[key]
except (ValueError, LookupError, TypeError):
    sys.exit(0)
print(value if isinstance(value, str) else json.dumps(value))
EOF
}

# show LABEL: one line about the payout in $body (REST's fields, or GraphQL's under data.*).
show() {
  python3 - "$body" "$1" <<'EOF'
import json, sys
payout = json.load(open(sys.argv[1]))
if "data" in payout:
    payout = next(iter(payout["data"].values()))
failure = payout.get("failure_code") or payout.get("failureCode") or ""
print(f"      {sys.argv[2]:<9} {payout.get('payout_id') or payout.get('payoutId') or payout['id']}"
      f"  {payout['amount']} {payout['currency']}  {payout['status']}"
      + (f" ({failure})" if failure else ""))
EOF
}

graphql_body() {
  python3 -c 'import json, sys; print(json.dumps({"query": sys.argv[1], "variables": {"id": sys.argv[2]}}))' "$@"
}

echo "Verifying the payout service at $base"

status="$(request GET /readyz)"
if [ "$status" = 000 ]; then
  echo "FAIL  nothing answers at $base: $(cat "$workdir/curl-error")"
  exit 1
fi

# Create one payout through each API.
payout='{"amount": "10.00", "currency": "EUR", "recipient_details": {"account_number": "DE89370400440532013000"}, "description": "verify_setup.sh", "metadata": {"source": "verify_setup"}}'
rest_id=""
status="$(request POST /api/payouts/ "$payout")"
if [ "$status" = 201 ] && rest_id="$(json id)" && [ -n "$rest_id" ]; then
  echo "ok    REST: created"
  show REST
else
  fail "REST: POST /api/payouts/ answered $status, not 201: $(head -c 300 "$body")"
fi

create_payout='mutation {
  createPayout(data: {amount: "10.00", currency: EUR,
      recipientDetails: {account_number: "DE89370400440532013000"},
      description: "verify_setup.sh", metadata: {source: "verify_setup"}}) {
    __typename
    ... on Payout { id payoutId amount currency status failureCode }
    ... on PayoutErrors { errors { field code message } }
  }
}'
graphql_id="" graphql_payout_id=""
status="$(request POST /graphql/ "$(graphql_body "$create_payout" "")")"
if [ "$status" = 200 ] && [ "$(json data createPayout __typename)" = Payout ]; then
  graphql_id="$(json data createPayout id)"
  graphql_payout_id="$(json data createPayout payoutId)"
  echo "ok    GraphQL: created"
  show GraphQL
else
  fail "GraphQL: createPayout answered $status: $(head -c 300 "$body")"
fi

# Wait, bounded, until a worker has taken each payout to COMPLETED or FAILED.
# shellcheck disable=SC2016  # GraphQL's $id, not the shell's
payout_query='query($id: ID!) { payout(id: $id) { id payoutId amount currency status failureCode } }'
rest_done="" graphql_done=""
[ -n "$rest_id" ] || rest_done=skipped
[ -n "$graphql_id" ] || graphql_done=skipped
deadline=$((SECONDS + timeout_seconds))
while [ -z "$rest_done" ] || [ -z "$graphql_done" ]; do
  if [ -z "$rest_done" ]; then
    status="$(request GET "/api/payouts/$rest_id/")"
    case "$status $(json status)" in
      "200 COMPLETED" | "200 FAILED") rest_done=yes; echo "ok    REST: processed"; show REST ;;
      "200 PENDING" | "200 PROCESSING") ;;
      *) rest_done=no; fail "REST: GET /api/payouts/$rest_id/ answered $status" ;;
    esac
  fi
  if [ -z "$graphql_done" ]; then
    status="$(request POST /graphql/ "$(graphql_body "$payout_query" "$graphql_id")")"
    case "$status $(json data payout status)" in
      "200 COMPLETED" | "200 FAILED") graphql_done=yes; echo "ok    GraphQL: processed"; show GraphQL ;;
      "200 PENDING" | "200 PROCESSING") ;;
      *) graphql_done=no; fail "GraphQL: payout(id:) answered $status: $(head -c 300 "$body")" ;;
    esac
  fi
  if [ -z "$rest_done" ] || [ -z "$graphql_done" ]; then
    if [ "$SECONDS" -ge "$deadline" ]; then
      waiting=""
      if [ -z "$rest_done" ]; then waiting+=" REST $rest_id"; fi
      if [ -z "$graphql_done" ]; then waiting+=" GraphQL $graphql_payout_id"; fi
      fail "timed out after ${timeout_seconds} s, still PENDING or PROCESSING:${waiting}." \
        "Is a worker running? VERIFY_TIMEOUT_SECONDS waits longer."
      break
    fi
    sleep 1
  fi
done

# The endpoints an operator and a client rely on.
# check PATH [TOKEN]
check() {
  local path="$1" status
  status="$(request GET "$path" "" "${2-$API_KEY}")"
  if [ "$status" = 200 ]; then
    echo "ok    GET $path: 200"
  else
    fail "GET $path answered $status, not 200"
  fi
}
check /api/docs/
check /api/redoc/
status="$(request POST /graphql/ '{"query": "{ __typename }"}')"
if [ "$status" = 200 ] && [ "$(json data __typename)" = Query ]; then
  echo "ok    POST /graphql/ { __typename }: 200"
else
  fail "POST /graphql/ { __typename } answered $status: $(head -c 300 "$body")"
fi
check /readyz
# /metrics wants its own token, when one is set, and no client's key.
check /metrics "${METRICS_TOKEN:-}"

if [ "$failures" -gt 0 ]; then
  echo "verify_setup: $failures check(s) failed"
  exit 1
fi
echo "verify_setup: every check passed"

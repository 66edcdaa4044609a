#!/usr/bin/env bash
# make kind-e2e: against the cluster from kind-up, place an order through the ingress and wait for PAID.
# shellcheck source=SCRIPTDIR/lib.sh
source "$(dirname "$0")/lib.sh"
need kubectl curl
BASE="${KIND_BASE_URL:-http://localhost}"

order=$(curl -fsS -X POST "$BASE/api/orders" -H 'content-type: application/json' \
  -d '{"customerId":"kind-e2e","items":[{"sku":"SKU-CHEAP","quantity":1}]}')
id=$(printf '%s' "$order" | sed -E 's/.*"id":"([^"]+)".*/\1/')
echo "placed order $id"
for _ in $(seq 1 60); do
  status=$(curl -fsS "$BASE/api/orders/$id" | sed -E 's/.*"status":"([A-Z]+)".*/\1/')
  if [[ "$status" == "PAID" ]]; then
    echo "order $id is PAID"
    exit 0
  fi
  sleep 1
done
echo "order $id did not reach PAID within 60 s (last status: ${status:-none})" >&2
exit 1

#!/usr/bin/env bash
# seed-demo.sh CONF BASE - create the demo data of `make run` through the API and
# print the tokens as shell assignments. Run once; tokens are shown only once.
set -euo pipefail
CONF=$1
BASE=$2
staff=$(./build/rdns-api -c "$CONF" add-staff demo-staff | tail -n 1)
call() { # method path json
  curl -fsS -X "$1" -H "Authorization: Bearer $staff" -H 'Content-Type: application/json' \
    ${3:+-d "$3"} "$BASE$2"
}
json() { /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
cust_id=$(call POST /v1/accounts '{"name": "demo-customer", "role": "customer"}' | json "['id']")
cust_token=$(call POST "/v1/accounts/$cust_id/tokens" '{}' | json "['token']")
call POST /v1/allocations "{\"account_id\": $cust_id, \"prefix\": \"192.0.2.0/28\"}" >/dev/null
call POST /v1/allocations "{\"account_id\": $cust_id, \"prefix\": \"2001:db8:100::/48\"}" >/dev/null
call POST /v1/zones '{"prefix": "192.0.2.0/24", "nameservers": ["ns1.example.net", "ns2.example.net"], "default_ptr": "static-{dashed}.vps.example.net"}' >/dev/null
call POST /v1/zones '{"prefix": "2001:db8:100::/48", "nameservers": ["ns1.example.net", "ns2.example.net"]}' >/dev/null
echo "STAFF_TOKEN=$staff"
echo "CUSTOMER_TOKEN=$cust_token"

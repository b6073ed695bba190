#!/usr/bin/env bash
# run.sh - `make run`: the whole rdns system on an embedded PostgreSQL under var/.
# With database_url set (config file var/rdns.conf or RDNS_DATABASE_URL) that database is used instead.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VAR=$ROOT/var
PG_BIN=/usr/lib/postgresql/15/bin
mkdir -p "$VAR"
CONF=$VAR/rdns.conf
API_LISTEN=${RDNS_API_LISTEN:-127.0.0.1:8053}

pg_user=""
if [ "$(id -u)" -eq 0 ]; then pg_user=postgres; fi
as_pg() { if [ -n "$pg_user" ]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi; }

embedded=0
if [ -z "${RDNS_DATABASE_URL:-}" ] && ! grep -qs '^database_url *= *[^ ]' "$CONF"; then
  embedded=1
  PGDATA=$VAR/pg
  SOCK=$VAR/pgsock
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    echo "run: creating the embedded PostgreSQL cluster in $PGDATA"
    mkdir -p "$PGDATA" "$SOCK"
    [ -n "$pg_user" ] && chown "$pg_user" "$PGDATA" "$SOCK" && chmod 755 "$VAR"
    as_pg "$PG_BIN/initdb" -A trust -U rdns -E UTF8 --locale=C -D "$PGDATA" >/dev/null
    cat >> "$PGDATA/postgresql.conf" <<PGCONF
listen_addresses = ''
unix_socket_directories = '$SOCK'
max_connections = 200
PGCONF
  fi
  [ -n "$pg_user" ] && chmod 755 "$VAR"
  if ! as_pg "$PG_BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    as_pg "$PG_BIN/pg_ctl" -w -D "$PGDATA" -l "$PGDATA/server.log" start >/dev/null
  fi
  export RDNS_DATABASE_URL="host=$SOCK user=rdns dbname=rdns"
  psql -X -q -d "host=$SOCK user=rdns dbname=postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = 'rdns'" \
    | grep -q 1 || psql -X -q -d "host=$SOCK user=rdns dbname=postgres" -c "CREATE DATABASE rdns"
fi
[ -f "$CONF" ] || cat > "$CONF" <<RDNSCONF
# rdns configuration for \`make run\`; see deploy/rdns.conf for every key.
api_listen = $API_LISTEN
zone_dir = $VAR/zones
dns_listen = 127.0.0.1:5300
# The forward check asks these resolvers; set your own recursive resolver here.
resolvers = 127.0.0.1
RDNSCONF
mkdir -p "$VAR/zones"

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "$embedded" = 1 ]; then as_pg "$PG_BIN/pg_ctl" -w -D "$VAR/pg" -m fast stop >/dev/null 2>&1 || true; fi
  echo "run: stopped"
}
trap cleanup INT TERM EXIT

./build/rdns-api -c "$CONF" migrate
./build/rdns-api -c "$CONF" &
pids+=($!)
base=http://$API_LISTEN
for _ in $(seq 1 100); do curl -fs "$base/healthz" >/dev/null 2>&1 && break; sleep 0.1; done

if [ ! -s "$VAR/demo.env" ]; then
  ./deploy/seed-demo.sh "$CONF" "$base" > "$VAR/demo.env.tmp"
  mv "$VAR/demo.env.tmp" "$VAR/demo.env"
  chmod 600 "$VAR/demo.env"
fi
# shellcheck disable=SC1091
. "$VAR/demo.env"

if ./build/rdns-zonegen --help >/dev/null 2>&1; then
  ./build/rdns-zonegen -c "$CONF" &
  pids+=($!)
fi

cat <<MSG

rdns is running: API on $base (API document: $base/v1/openapi.yaml)
  staff token:    $STAFF_TOKEN
  customer token: $CUSTOMER_TOKEN   (owns 192.0.2.0/28 and 2001:db8:100::/48)
Try:
  curl -s -H "Authorization: Bearer $CUSTOMER_TOKEN" $base/v1/ptr/192.0.2.10
  curl -s -X PUT -H "Authorization: Bearer $CUSTOMER_TOKEN" -H 'Content-Type: application/json' \\
       -d '{"hostname": "mail.example.com"}' $base/v1/ptr/192.0.2.10
Ctrl-C stops everything; data stays in var/.
MSG
wait -n "${pids[@]}" || true

#!/usr/bin/env bash
# run.sh - `make run`: the whole rdns system (rdns-api, rdns-zonegen) on a private PostgreSQL
# cluster, with a private knotd as the forward check's resolver, from any folder you own.
#
# Where things live, and as whom (nothing here changes a permission of your folders):
# - Not root: all of it under var/ in the checkout, run as you: the cluster in var/pg (socket in
#   var/pgsock, no TCP), knotd in var/knot, zone files in var/zones.
# - Root: PostgreSQL refuses to run as root, and the checkout may be in a folder no other user
#   may enter (root's home and `mktemp -d` are 0700). The cluster then runs as the system user
#   `postgres` (made by the postgresql package; a dedicated, unprivileged user) in
#   /var/lib/rdns-demo/<hash>/ (pg/ and its socket in sock/), where <hash> is the first 12 hex
#   digits of the sha256 of the checkout's path (written to checkout there), so checkouts never
#   share a cluster; one whose checkout is gone is removed by the next `make run` as root.
#   Delete that folder with var/ to start afresh. knotd and our daemons run
#   as root, under var/ like the rest.
# - With database_url set (var/rdns.conf or RDNS_DATABASE_URL) that database is used, no cluster.
#
# The demo knotd listens on RDNS_DEMO_DNS (default 127.0.0.1:5301) and serves demo.example.com,
# whose names confirm the demo customer's addresses; the first run writes var/rdns.conf with
# `resolvers` pointing at it. Point `resolvers` at a real recursive resolver to check real names.
#
# Ctrl-C or SIGTERM (to this script or to make) stops everything it started: the daemons, knotd
# and the cluster; the data stays. Runs again on what var/ holds (tokens in var/demo.env).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VAR=$ROOT/var
PG_BIN=/usr/lib/postgresql/15/bin
mkdir -p "$VAR"
CONF=$VAR/rdns.conf
API_LISTEN=${RDNS_API_LISTEN:-127.0.0.1:8053}
DNS_LISTEN=${RDNS_DNS_LISTEN:-127.0.0.1:5300}
DEMO_DNS=${RDNS_DEMO_DNS:-127.0.0.1:5301}
DEMO_ZONE=demo.example.com
KNOT=$VAR/knot

pids=()
embedded=0
knot_pid=""
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ -n "$knot_pid" ]; then kill -TERM "$knot_pid" 2>/dev/null || true; wait "$knot_pid" 2>/dev/null || true; fi
  if [ "$embedded" = 1 ]; then as_pg "$PG_BIN/pg_ctl" -w -D "$PGDATA" -m fast stop >/dev/null 2>&1 || true; fi
  echo "run: stopped"
}
trap cleanup INT TERM EXIT

# ---- PostgreSQL: a private cluster, unless a database is configured ----
pg_user=""
as_pg() { if [ -n "$pg_user" ]; then (cd "$PGHOME" && runuser -u "$pg_user" -- "$@"); else "$@"; fi; }

if [ -z "${RDNS_DATABASE_URL:-}" ] && ! grep -qs '^database_url *= *[^ ]' "$CONF"; then
  if [ "$(id -u)" -eq 0 ]; then
    pg_user=postgres
    id -u "$pg_user" >/dev/null 2>&1 || { echo "run: no '$pg_user' user to run PostgreSQL as (is postgresql-15 installed?)" >&2; exit 1; }
    hash=$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)
    PGHOME=/var/lib/rdns-demo/$hash
    install -d -m 755 /var/lib/rdns-demo
    # the clusters of checkouts that are gone (a clone in a temporary folder) go with them
    for old in /var/lib/rdns-demo/[0-9a-f]*; do
      [ -f "$old/checkout" ] && [ "$old" != "$PGHOME" ] || continue
      [ -d "$(cat "$old/checkout")" ] || [ -f "$old/pg/postmaster.pid" ] || rm -rf -- "$old"
    done
    install -d -m 700 -o "$pg_user" -g "$(id -gn "$pg_user")" "$PGHOME" "$PGHOME/sock"
    printf '%s\n' "$ROOT" > "$PGHOME/checkout"
    PGDATA=$PGHOME/pg
    SOCK=$PGHOME/sock
  else
    PGHOME=$VAR
    PGDATA=$VAR/pg
    SOCK=$VAR/pgsock
    mkdir -p "$SOCK"
  fi
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    echo "run: creating the private PostgreSQL cluster in $PGDATA${pg_user:+ (run as $pg_user)}"
    as_pg "$PG_BIN/initdb" -A trust -U rdns -E UTF8 --locale=C -D "$PGDATA" >/dev/null
    cat >> "$PGDATA/postgresql.conf" <<PGCONF
listen_addresses = ''
unix_socket_directories = '$SOCK'
max_connections = 200
PGCONF
  fi
  embedded=1 # stopped on the way out, also when an earlier run left it running
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
dns_listen = $DNS_LISTEN
# The forward check asks these resolvers. $DEMO_DNS is the demo's knotd (demo.example.com only);
# to check real names, put a recursive resolver here, e.g. resolvers = 9.9.9.9
resolvers = $DEMO_DNS
RDNSCONF
mkdir -p "$VAR/zones"

# ---- knotd: the demo's forward zone, as the forward check's resolver ----
# Unprivileged, loopback only, no journal: the zone is written afresh on each run.
mkdir -p "$KNOT"
cat > "$KNOT/$DEMO_ZONE.zone" <<ZONE
\$ORIGIN $DEMO_ZONE.
\$TTL 60
@     SOA ns hostmaster 1 3600 600 86400 60
@     NS ns
ns    A 127.0.0.1
mail  A 192.0.2.10
mail  AAAA 2001:db8:100::10
www   A 192.0.2.11
www   AAAA 2001:db8:100::11
shop  CNAME www
old   A 198.51.100.7
ZONE
cat > "$KNOT/knot.conf" <<KNOTCONF
server:
    rundir: $KNOT
    listen: ${DEMO_DNS%:*}@${DEMO_DNS##*:}
log:
  - target: stderr
    any: info
database:
    storage: $KNOT/db
control:
    listen: $KNOT/knot.sock
template:
  - id: default
    storage: $KNOT
    zonefile-sync: -1
    journal-content: none
zone:
  - domain: $DEMO_ZONE
    file: $KNOT/$DEMO_ZONE.zone
KNOTCONF
knotd -c "$KNOT/knot.conf" 2>"$KNOT/knotd.log" &
knot_pid=$!
for _ in $(seq 1 100); do
  knotc -s "$KNOT/knot.sock" -t 1 zone-status "$DEMO_ZONE" 2>/dev/null | grep -q 'serial: 1' && break
  kill -0 "$knot_pid" 2>/dev/null || break
  sleep 0.1
done
if ! kill -0 "$knot_pid" 2>/dev/null || grep -qi 'cannot bind\|failed to bind' "$KNOT/knotd.log"; then
  echo "run: knotd did not start on $DEMO_DNS (set RDNS_DEMO_DNS to a free ip:port); see $KNOT/knotd.log:" >&2
  tail -n 5 "$KNOT/knotd.log" >&2
  exit 1
fi

# ---- our daemons ----
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
# rdns-verifier: PUTs with "wait_for_forward" that wait for forward DNS (issue 18)
./build/rdns-verifier -c "$CONF" &
pids+=($!)

resolvers=${RDNS_RESOLVERS:-$(sed -n 's/^resolvers *= *//p' "$CONF" | tail -n 1)}
note=""
if [ "$resolvers" != "$DEMO_DNS" ]; then
  note="
  (resolvers = ${resolvers:-/etc/resolv.conf}, not the demo knotd on $DEMO_DNS: the demo names
   resolve there only if that resolver knows them)"
fi
auth="-H \"Authorization: Bearer $CUSTOMER_TOKEN\""
json="-H 'Content-Type: application/json'"
cat <<MSG

rdns is running: API on $base (API document: $base/v1/openapi.yaml)
  web panel:      $base/panel/  (sign in with one of the tokens below)
  staff token:    $STAFF_TOKEN
  customer token: $CUSTOMER_TOKEN   (owns 192.0.2.0/28 and 2001:db8:100::/48)
  forward check:  resolvers = ${resolvers:-/etc/resolv.conf}; knotd on $DEMO_DNS serves $DEMO_ZONE:
                  mail A 192.0.2.10, AAAA 2001:db8:100::10; www A 192.0.2.11; old A 198.51.100.7$note
Try:
  # passes: mail.$DEMO_ZONE has A 192.0.2.10, so the PTR is applied (200)
  curl -s -X PUT $auth $json \\
       -d '{"hostname": "mail.$DEMO_ZONE"}' $base/v1/ptr/192.0.2.10
  # passes over IPv6 too (AAAA 2001:db8:100::10)
  curl -s -X PUT $auth $json \\
       -d '{"hostname": "mail.$DEMO_ZONE"}' $base/v1/ptr/2001:db8:100::10
  # fails with findings (422): old.$DEMO_ZONE has A 198.51.100.7, not 192.0.2.12
  curl -s -X PUT $auth $json \\
       -d '{"hostname": "old.$DEMO_ZONE"}' $base/v1/ptr/192.0.2.12
  # read back; the reverse zone as the hidden primary serves it (dig: package bind9-dnsutils)
  curl -s $auth $base/v1/ptr/192.0.2.10
  dig +short -x 192.0.2.10 @${DNS_LISTEN%:*} -p ${DNS_LISTEN##*:}
To check real names, point the forward check at a recursive resolver: in var/rdns.conf set
  resolvers = 9.9.9.9        (or your own, e.g. a nameserver of /etc/resolv.conf; ip[:port] list)
and run make run again (or once: RDNS_RESOLVERS=9.9.9.9 make run).
Ctrl-C stops everything; data stays in var/.
MSG
wait -n "${pids[@]}" "$knot_pid" || true

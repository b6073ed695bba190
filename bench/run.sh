#!/bin/sh
# run.sh - run the rdns benchmarks (`make bench`): bench/run.sh [api] [zonegen] [batch] [soak] [reverify] [diag] [scale]
# scale: the provider profile (issue #17; also RDNS_BENCH_SCALE=provider with no suite named),
# RDNS_BENCH_SCALE_DIV=n for 1/n of it (quick runs, not the profile); see bench/README.md.
# With no suite named: all but scale and soak. soak (`make soak`): RDNS_SOAK_SECONDS
# (default 600) of mixed traffic with attackers (bench_soak.py).
# One table per benchmark (metric | ours | baseline | ratio | target | ok); exits non-zero
# when a target is missed. Uses the release binaries in build/ (make all).
set -u
cd "$(dirname "$0")/.."
# The Python driver cleans up after itself (PostgreSQL, knotd, PowerDNS, our daemons);
# this trap only forwards a Ctrl-C / kill to it and waits for that cleanup.
pid=""
trap '[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; exit 130' INT TERM HUP
/usr/bin/python3 -u bench/bench.py "$@" &
pid=$!
wait "$pid"
rc=$?
pid=""
exit "$rc"

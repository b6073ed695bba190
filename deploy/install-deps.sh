#!/bin/sh
# install-deps.sh - install the Debian 12 packages rdns needs to build, run and test.
# A no-op when everything is present. Usage: install-deps.sh [build|run|test|bench|fuzz]
set -eu
kind=${1:-test}

BUILD="make gcc pkg-config libpq-dev libjansson-dev libldns-dev libinih-dev libgnutls28-dev libspf2-dev"
RUN="postgresql-15 postgresql-client-15 curl knot"
TEST="libcmocka-dev systemd knot knot-dnsutils knot-dnssecutils knot-resolver bind9 bind9-utils bind9-dnsutils nsd pdns-server pdns-backend-sqlite3 python3-pytest python3-pytest-xdist python3-dnspython python3-requests python3-psycopg2 python3-yaml python3-selenium chromium chromium-driver prometheus curl procps iproute2 ca-certificates"
FUZZ="clang libclang-rt-14-dev clang-format"
BENCH="wrk hyperfine bind9-dnsutils time"

case "$kind" in
  build) want="$BUILD" ;;
  run)   want="$BUILD $RUN" ;;
  test)  want="$BUILD $RUN $TEST" ;;
  bench) want="$BUILD $RUN $TEST $BENCH" ;;
  fuzz)  want="$BUILD $FUZZ" ;;
  *) echo "usage: $0 [build|run|test|bench|fuzz]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

echo "install-deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install-deps: need root or sudo to install:$missing" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# Services the packages would start (postgresql, knot, pdns) are not wanted: the
# tests and `make run` start private instances on their own ports.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod +x "$policy"
  made_policy=1
fi
trap '[ "$made_policy" = 1 ] && $SUDO rm -f "$policy"' EXIT
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null

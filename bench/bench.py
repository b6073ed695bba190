"""bench.py - runs the rdns benchmarks (all, or those named: api, zonegen, batch, soak, reverify, diag,
scale) on one private PostgreSQL cluster, prints one table per benchmark, exits 1 if a
target is missed (2 if a benchmark could not run). scale (the provider profile, issue #17)
is not part of "all": it runs when named, or alone when RDNS_BENCH_SCALE=provider."""
import os
import sys
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_api  # noqa: E402
import bench_reverify  # noqa: E402 - R1, rdns-verifier (issue 18)
import bench_diag  # noqa: E402 - issue #18, diagnostics latency
import bench_batch  # noqa: E402
import bench_soak  # noqa: E402
import bench_scale  # noqa: E402 - issue #17, the provider profile
import bench_zonegen  # noqa: E402
import benchlib  # noqa: E402
from benchlib import BUILD, Pg, cleanup_all, install_signal_handlers, log  # noqa: E402

SUITES = {"api": bench_api.run, "zonegen": bench_zonegen.run, "batch": bench_batch.run, "soak": bench_soak.run,
          "reverify": bench_reverify.run, "diag": bench_diag.run, "scale": bench_scale.run}
# The default profile (`make bench`): every suite but the provider profile (issue #17) and the
# 10-minute soak (issue #13, `make soak`): #17 keeps `make bench` under 6 minutes.
DEFAULT = [n for n in SUITES if n not in ("scale", "soak")]


def main(argv):
    profile = os.environ.get("RDNS_BENCH_SCALE", "")
    if profile not in ("", "default", "provider"):
        print(f"bench: RDNS_BENCH_SCALE={profile}: expected provider (or default)", file=sys.stderr)
        return 2
    names = argv or (["scale"] if profile == "provider" else DEFAULT)
    for n in names:
        if n not in SUITES:
            print(f"usage: bench.py [{'|'.join(SUITES)}]...", file=sys.stderr)
            return 2
    for b in ("rdns-api", "rdns-zonegen", "rdns-verifier"):
        if not os.access(os.path.join(BUILD, b), os.X_OK):
            print(f"bench: {BUILD}/{b} missing: run `make all` first", file=sys.stderr)
            return 2
    install_signal_handlers()
    tables, broken = [], []
    start = time.monotonic()
    try:
        # the provider profile's database is sized for (bench_scale.SHARED_BUFFERS)
        sb = bench_scale.SHARED_BUFFERS if "scale" in names else "256MB"
        log(f"starting a private PostgreSQL cluster (shared_buffers {sb})")
        pg = Pg(shared_buffers=sb)
        for n in names:
            try:
                tables += SUITES[n](pg)
            except Exception:  # noqa: BLE001 - report and go on with the next suite
                traceback.print_exc()
                broken.append(n)
    finally:
        cleanup_all()
    broken += [name for name, _ in benchlib.BROKEN]
    missed = [t.title.split(".")[0] for t in tables if t.failed]
    print(f"bench: {len(tables)} tables in {time.monotonic() - start:.0f} s; "
          f"{len(missed)} with a missed target{': ' if missed else ''}{', '.join(missed)}"
          + (f"; could not run: {', '.join(broken)}" if broken else ""))
    if broken:
        return 2
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""verify/ is a module of its own: rdns-api links it, and so must a background worker that
has no HTTP server. It includes nothing of api/, db/ or zonegen/, and its objects, as the
build made them, call nothing of theirs nor HTTP, TLS or PostgreSQL."""
import glob
import os
import re
import shutil
import subprocess

import pytest

from harness import BUILD, ROOT

VERIFY = sorted(glob.glob(os.path.join(ROOT, "verify", "*.[ch]")))
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
# The other subsystems' prefixes, and the libraries only they use (libpq, GnuTLS).
FOREIGN = re.compile(r"^(api_|db_|zg_|PQ|pg_|gnutls_)")


def test_verify_includes_only_core_and_itself():
    assert VERIFY, "no verify/*.[ch]"
    bad = []
    for path in VERIFY:
        with open(path) as f:
            for inc in INCLUDE.findall(f.read()):
                if not inc.startswith(("core/", "verify/")):
                    bad.append(f"{os.path.relpath(path, ROOT)}: #include \"{inc}\"")
    assert not bad, "verify/ must not depend on api/, db/ or zonegen/:\n" + "\n".join(bad)


def test_verify_objects_call_nothing_of_the_other_subsystems():
    if not shutil.which("nm"):
        pytest.skip("nm (binutils) is not installed")
    objs = sorted(glob.glob(os.path.join(BUILD, "obj", "verify", "*.o")))
    assert len(objs) == len([p for p in VERIFY if p.endswith(".c")]), \
        f"build the objects first (make all): {objs}"
    bad = []
    for obj in objs:
        out = subprocess.run(["nm", "-u", obj], capture_output=True, text=True, timeout=30, check=True)
        for line in out.stdout.splitlines():
            sym = line.split()[-1]
            if FOREIGN.match(sym):
                bad.append(f"{os.path.relpath(obj, BUILD)}: {sym}")
    assert not bad, "verify/ objects call into other subsystems:\n" + "\n".join(bad)

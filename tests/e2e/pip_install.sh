#!/usr/bin/env bash
# pip_install.sh: the Python package installed as users install it, in a
# fresh virtual environment (Debian's NumPy and setuptools seen through
# --system-site-packages, no package index): `pip install
# --no-build-isolation` of a copy of python/ with the C library found
# through $FORGETLAB_LIB; imported from outside the source tree, it loads
# the library copied beside it and computes; without a library to find or
# a source tree to build one in, the install fails saying so.
source "$(dirname "$0")/lib.sh"
SRC="$(cd "$(dirname "$0")/../../python" && pwd)"
LIB="$(cd "$(dirname "$FL")" && pwd)/libforgetlab.so"
[ -s "$LIB" ] || { echo "# no $LIB (a build without the shared library): skipped"; exit 77; }
mkdir -p "$T/pkg" && cp -r "$SRC/forgetlab" "$SRC/pyproject.toml" "$SRC/setup.py" "$SRC/README.md" "$T/pkg/"
rm -rf "$T/pkg/forgetlab/__pycache__"
expect_exit 0 "a fresh virtual environment" -- /usr/bin/python3 -m venv --system-site-packages --without-pip "$T/venv"
expect_exit 0 "pip install --no-build-isolation --no-index, the library found" -- \
    env FORGETLAB_LIB="$LIB" "$T/venv/bin/python" -m pip install --no-build-isolation --no-index "$T/pkg"
(cd / && env -u FORGETLAB_LIB -u PYTHONPATH "$T/venv/bin/python" - "$T/venv" <<'PY') >"$T/out" 2>&1 \
    && ok "imported outside the source tree: the library beside the package, divergences computed" \
    || bad "installed package: $(tail -3 "$T/out")"
import sys
import numpy as np
import forgetlab
venv = sys.argv[1]
assert forgetlab.__file__.startswith(venv), forgetlab.__file__
d = forgetlab.divergences(np.zeros((2, 10), np.float32), np.log(np.full((2, 10), 0.1, np.float32)))
assert abs(d["forward_kl"]) < 1e-6, d
libs = [l.split()[-1] for l in open("/proc/self/maps") if "libforgetlab.so" in l]
assert libs and all(p.startswith(venv) for p in libs), libs
print("#", forgetlab.__version__, libs[0])
PY
cat "$T/out" | grep "^#" || true
rm -rf "$T/pkg/build" "$T/pkg/"*.egg-info
expect_exit 1 "no library to find and no source tree to build one in" -- \
    env -u FORGETLAB_LIB "$T/venv/bin/python" -m pip install --no-build-isolation --no-index "$T/pkg"
expect_stderr "no C library" "  ... says so"
finish

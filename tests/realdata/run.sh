#!/usr/bin/env bash
# Real-data acceptance suite: vega-datasets (npm, pinned in package-lock.json, installed into
# BUILD/realdata on first use; no data is committed) and the statsmodels data sets (Debian's
# python3-statsmodels, scripts/install-deps.sh). check.py imports each file as a user would and
# compares pond's answers with an independent computation. Last line: "N passed, N failed".
# usage: tests/realdata/run.sh BUILD_DIR
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
dest=$build/realdata
if [ ! -d "$dest/node_modules/vega-datasets/data" ]; then
  mkdir -p "$dest" && cp "$here/package.json" "$here/package-lock.json" "$dest/" &&
    (cd "$dest" && npm ci --no-audit --no-fund >/dev/null 2>&1) ||
    { echo "FAIL realdata::setup: npm ci of vega-datasets failed (is npm installed? scripts/install-deps.sh)"; echo "0 passed, 1 failed"; exit 1; }
fi
sm=/usr/lib/python3/dist-packages/statsmodels/datasets
if [ ! -f "$sm/anes96/anes96.csv" ]; then
  echo "FAIL realdata::setup: $sm missing (install python3-statsmodels: scripts/install-deps.sh)"
  echo "0 passed, 1 failed"; exit 1
fi
exec python3 "$here/check.py" "$build/pond" "$dest/node_modules/vega-datasets/data" "$sm"

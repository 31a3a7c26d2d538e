#!/usr/bin/env bash
# pond serve, end to end: the API against the CLI (cat, describe, query, list), Arrow IPC read
# back with apache-arrow, buckets against a brute-force computation, the security bounds,
# reads while another process writes, and the web UI in headless Chromium (screenshots in
# BUILD/serve-tests/). Test tools come from npm (tests/serve/package-lock.json) into
# BUILD/serve-tests on first use. Last line: "N passed, N failed".
# usage: tests/serve/run.sh BUILD_DIR   (POND_BIN=PATH tests another pond binary, e.g. an ASan
# build's: POND_BIN=build-asan/pond tests/serve/run.sh build)
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
dest=$build/serve-tests
if [ ! -d "$dest/node_modules/puppeteer-core" ] || [ ! -d "$dest/node_modules/apache-arrow" ]; then
  mkdir -p "$dest" && cp "$here/package.json" "$here/package-lock.json" "$dest/" &&
    (cd "$dest" && npm ci --no-audit --no-fund >/dev/null 2>&1) ||
    { echo "FAIL serve::setup: npm ci of the test tools failed (is npm installed? scripts/install-deps.sh)"; echo "0 passed, 1 failed"; exit 1; }
fi
pond=${POND_BIN:-$build/pond}
[ -x "$pond" ] || { echo "FAIL serve::setup: no pond binary at $pond"; echo "0 passed, 1 failed"; exit 1; }
exec node "$here/serve_test.mjs" "$(cd "$(dirname "$pond")" && pwd)/$(basename "$pond")" "$dest"

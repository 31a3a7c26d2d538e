#!/bin/sh
# Formats every C source and header of the repository with clang-format (Debian 12's
# clang-format 14) and the checked-in .clang-format; `--check` only lists the files that
# differ and exits 1 if there are any (scripts/lint.sh runs it in CI).
#
# usage: scripts/format.sh [--check]
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
CF=${CLANG_FORMAT:-clang-format}
command -v "$CF" >/dev/null 2>&1 || { echo "format.sh: $CF not found (apt install clang-format)" >&2; exit 2; }
if [ "${1:-}" = "--check" ]; then
    bad=0
    for f in $(git ls-files '*.c' '*.h'); do
        if ! "$CF" --style=file "$f" | cmp -s - "$f"; then
            echo "format.sh: $f differs from clang-format (run scripts/format.sh)"
            bad=1
        fi
    done
    exit $bad
fi
git ls-files '*.c' '*.h' | xargs "$CF" --style=file -i

#!/usr/bin/env bash
# Compiles every public header on its own: each must be self-contained and warning-free.
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
n=0
for h in $(cd include && find pond -name '*.h' | sort); do
  printf '#include <%s>\n#include <%s>\nint pond_headertest_%d;\n' "$h" "$h" "$n" > "$tmp/t.c"
  gcc -std=c17 -Wall -Wextra -Wpedantic -Werror -Iinclude -c "$tmp/t.c" -o "$tmp/t.o" \
    || { echo "headertest: $h does not compile alone"; exit 1; }
  n=$((n + 1))
done
# public comments name nothing outside the repository: no URLs, no paths to other projects
if grep -rnE 'https?://|\.\./shared|/work/' include; then
  echo "headertest: a public header points outside the repository (above)"; exit 1
fi
echo "headertest: $n public headers compile alone"

#!/bin/sh
# Gives every global symbol of libpond.a that lacks it the `pond_` prefix (issue 20: "every
# exported symbol pond_-prefixed"): `table__attrs_read` becomes `pond_table__attrs_read`,
# `pq_stats_may_match` becomes `pond_pq_stats_may_match`. The symbol list comes from `nm` of
# the built archive, so a branch with new internal functions renames them too; every C source,
# header and Markdown file of the repository is rewritten at word boundaries.
#
# usage: scripts/rename-symbols.sh [BUILD_DIR]    (default build; it must be built)
# Run it alone in its own commit, then build and test.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
LIB=$BUILD/libpond.a
[ -f "$LIB" ] || { echo "rename-symbols.sh: $LIB not found: build first" >&2; exit 1; }
LIST=$(mktemp)
trap 'rm -f "$LIST"' EXIT
nm -g --defined-only "$LIB" | awk 'NF == 3 { print $3 }' | grep -v '^pond_' | sort -u >"$LIST"
n=$(wc -l <"$LIST")
if [ "$n" -eq 0 ]; then
    echo "rename-symbols.sh: every global symbol already has the pond_ prefix"
    exit 0
fi
cd "$ROOT"
# a new name that is already used somewhere would merge two things: refuse
clash=0
while read -r s; do
    if git grep -qw "pond_$s" -- '*.c' '*.h'; then
        echo "rename-symbols.sh: pond_$s already exists; rename $s by hand" >&2
        clash=1
    fi
done <"$LIST"
[ "$clash" -eq 0 ] || exit 1
# one alternation, longest names first; a name followed by .c/.h is a file (pq_assemble.c)
# and #include lines name files, so both are left alone
RE=$(awk '{ print length($1) " " $1 }' "$LIST" | sort -rn | awk '{ printf "%s%s", sep, $2; sep = "|" }')
git ls-files '*.c' '*.h' '*.md' | xargs perl -pi -e \
    'next if /^\s*#\s*include/; s/\b('"$RE"')\b(?!\.[ch]\b)/pond_$1/g'
echo "rename-symbols.sh: $n symbols renamed"

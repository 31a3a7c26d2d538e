#!/usr/bin/env bash
# Rules a grep can check (docs/decisions.md, "One way to do each thing"):
#   1. jansson.h is named only under src/util (everyone else includes util/json.h);
#   2. no new growth loop (realloc) or open-addressing hash map (a linear probe) outside
#      src/util: a file may hold at most what scripts/lint-baseline.txt allows it, each line
#      with its reason;
#   3. (STRICT_SYMBOLS=0 turns it off) every global symbol of the static library starts with pond_ (the
#      SQLite extension's entry point excepted);
#   4. (STRICT_FORMAT=0 turns it off) scripts/format.sh --check passes (when the script exists).
# usage: scripts/lint.sh [BUILD_DIR]   (BUILD_DIR, default build, holds libpond.a for rule 3)
set -u
cd "$(dirname "$0")/.."
build=${1:-build}
STRICT_SYMBOLS=${STRICT_SYMBOLS:-1}
STRICT_FORMAT=${STRICT_FORMAT:-1}
baseline=scripts/lint-baseline.txt
fail=0
say() { echo "lint: $*"; }

# Sources the rules look at: tracked and new files alike (a file not yet added still counts).
sources() {
  git ls-files --cached --others --exclude-standard -- "$@" 2>/dev/null |
    while IFS= read -r f; do [ -f "$f" ] && printf '%s\n' "$f"; done
}

# 1. jansson.h
while IFS= read -r f; do
  case "$f" in src/util/*|scripts/lint.sh|scripts/install-deps.sh) continue ;; esac
  if grep -n 'jansson\.h' "$f" >/dev/null; then
    grep -n 'jansson\.h' "$f" | sed "s|^|lint: $f:|; s|$|  (include \"util/json.h\" instead)|"
    fail=1
  fi
done < <(sources '*.c' '*.h')

# 2. growth loops and hash maps, per file against the baseline ("rule path max reason...")
GROW_RE='(^|[^A-Za-z0-9_])(pond_)?realloc\('
PROBE_RE='\(\s*[A-Za-z_][A-Za-z0-9_]*\s*\+\s*1\s*\)\s*&\s*(\(|[A-Za-z_]*mask)'
allowed() { # rule path -> the allowed count (0 when not listed)
  awk -v r="$1" -v p="$2" '$1 == r && $2 == p { print $3; found = 1; exit } END { if (!found) print 0 }' "$baseline"
}
if [ ! -f "$baseline" ]; then
  say "$baseline is missing"; fail=1
else
  # every baseline line names a rule, a file, a count and a reason
  bad=$(grep -vE '^\s*(#|$)' "$baseline" | awk 'NF < 4 || ($1 != "grow" && $1 != "hash") || $3 !~ /^[0-9]+$/')
  if [ -n "$bad" ]; then
    say "malformed lines in $baseline (want: grow|hash PATH MAX REASON...):"; echo "$bad"; fail=1
  fi
  while IFS= read -r f; do
    case "$f" in src/util/*) continue ;; esac
    for rule in grow hash; do
      if [ $rule = grow ]; then re=$GROW_RE; what="growth loop (use POND_GROW / POND_RESERVE, src/util/util.h)"
      else re=$PROBE_RE; what="hash map (use pond__bytemap, pond__strmap or pond__idmap, src/util/util.h)"; fi
      n=$(grep -cE "$re" "$f")
      max=$(allowed $rule "$f")
      if [ "$n" -gt "$max" ]; then
        say "$f: $n ${what%% (*}s, $max allowed: a new $what"
        grep -nE "$re" "$f" | sed "s|^|lint:   $f:|"
        fail=1
      elif [ "$n" -lt "$max" ]; then
        say "note: $f has $n, the baseline allows $max: lower it in $baseline"
      fi
    done
  done < <(sources 'src/*.c' 'src/*.h')
fi

# 3. exported symbols
if [ "$STRICT_SYMBOLS" = 1 ]; then
  lib="$build/libpond.a"
  if [ ! -f "$lib" ]; then
    say "$lib not built (make first)"; fail=1
  else
    bad=$(nm -g --defined-only "$lib" 2>/dev/null | awk 'NF == 3 { print $3 }' |
          grep -vE '^(pond_|sqlite3_pondsqlite_init$)' | sort -u)
    if [ -n "$bad" ]; then
      say "global symbols of $lib without the pond_ prefix ($(echo "$bad" | wc -l)):"
      echo "$bad" | sed 's/^/lint:   /' | head -200
      fail=1
    fi
  fi
fi

# 4. formatting
if [ "$STRICT_FORMAT" = 1 ]; then
  if [ -x scripts/format.sh ]; then
    scripts/format.sh --check || { say "files differ from scripts/format.sh"; fail=1; }
  else
    say "STRICT_FORMAT=1 but scripts/format.sh is not there"; fail=1
  fi
fi

if [ $fail -ne 0 ]; then
  echo "0 passed, 1 failed"
  exit 1
fi
echo "1 passed, 0 failed"

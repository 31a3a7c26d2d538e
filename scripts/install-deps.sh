#!/usr/bin/env bash
# Installs every Debian package pond needs to build, test, fuzz and benchmark.
# Safe to run repeatedly; does nothing when everything is present.
set -euo pipefail
pkgs=(
  build-essential cmake pkg-config git
  libzstd-dev libsnappy-dev liblz4-dev zlib1g-dev libbrotli-dev libbz2-dev liblzma-dev
  libssl-dev libjansson-dev libsqlite3-dev libmicrohttpd-dev chromium
  valgrind clang libclang-rt-14-dev clang-format binutils
  sqlite3 python3 python3-numpy python3-pandas python3-pytest tzdata
  python3-statsmodels bzip2 xz-utils zstd gzip
  openssh-server openssh-client rsync
)
# Node.js (for the oracle and DuckDB comparisons) may come from outside Debian;
# only ask apt for it when no node is on the PATH.
command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
command -v npm >/dev/null 2>&1 || pkgs+=(npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null

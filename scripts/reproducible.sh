#!/usr/bin/env bash
# Reproducible-build test (make test-repro; docs/building.md): builds the
# release binaries of one commit (HEAD, or REPRO_REV) twice, in two fresh
# clones under two differently named folders, the second with its own
# empty Go build cache, and compares every output byte for byte: the
# user interface (frontend/dist), the Linux binaries, the Windows .exe
# files (cross-compiled with mingw-w64) and their resources, and with
# --full also the Linux desktop binary, the tarball and the two .debs.
# Prints each file's SHA-256 on both sides; exits 1 naming every file
# that differs. Uncommitted changes are not part of the test.
#
#   scripts/reproducible.sh [--full]
#   REPRO_REV=v1.2.0      the commit to build (default HEAD)
#   REPRO_GOCACHE=DIR     the second build's Go cache (default: a new,
#                         empty one; a kept one makes reruns quicker)
#   REPRO_KEEP=1          keep the two clones (their folder is printed)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
full=0
[ "${1:-}" = --full ] && full=1
rev=$(git rev-parse --verify "${REPRO_REV:-HEAD}^{commit}")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/outpost-repro.XXXXXX")
cleanup() {
  if [ "${REPRO_KEEP:-}" = 1 ]; then echo "repro: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

# Two folders of different names and depths, so an embedded path shows.
side_a=$tmp/a/outpost
side_b=$tmp/second-build/src/elsewhere
gocache_a=$(go env GOCACHE)
gocache_b=${REPRO_GOCACHE:-$tmp/gocache-b}

linux_bins=(outpost-admin outpost-server outpost-release)
((full)) && linux_bins=(outpost "${linux_bins[@]}")

build_side() { # DIR GOCACHE
  local dir=$1 cache=$2 start=$SECONDS
  mkdir -p "$(dirname "$dir")"
  git clone --quiet --shared --no-checkout "$root" "$dir"
  git -C "$dir" checkout --quiet --detach "$rev"
  # The npm packages: the same lock file gives the same packages, so link
  # the installed ones when the lock files agree (npm ci otherwise).
  if [ -d "$root/frontend/node_modules" ] && cmp -s "$root/frontend/package-lock.json" "$dir/frontend/package-lock.json"; then
    cp -al "$root/frontend/node_modules" "$dir/frontend/node_modules" 2>/dev/null ||
      cp -a "$root/frontend/node_modules" "$dir/frontend/node_modules"
  else
    (cd "$dir/frontend" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  (cd "$dir/frontend" && npm run build >"$tmp/npm-build.log" 2>&1) ||
    { cat "$tmp/npm-build.log" >&2; return 1; }
  mkdir -p "$cache"
  local rel=("$dir/scripts/release.sh")
  GOCACHE=$cache "${rel[@]}" linux "${linux_bins[@]}"
  GOCACHE=$cache "${rel[@]}" windows outpost outpost-admin
  GOCACHE=$cache "${rel[@]}" check-windows
  if ((full)); then
    GOCACHE=$cache "${rel[@]}" tarball
    GOCACHE=$cache "${rel[@]}" deb
  fi
  echo "repro: built in $dir in $((SECONDS - start)) s (Go cache $cache)"
}

echo "repro: commit $rev ($(git describe --tags --always "$rev"))"
build_side "$side_a" "$gocache_a"
build_side "$side_b" "$gocache_b"

# The outputs to compare, named relative to a clone.
list() {
  (cd "$1" && find frontend/dist build/release/linux_amd64 build/release/windows_amd64 dist -type f 2>/dev/null | LC_ALL=C sort)
}
fail=0
if ! diff <(list "$side_a") <(list "$side_b") >"$tmp/lists.diff"; then
  echo "repro: the two builds made different sets of files:"
  cat "$tmp/lists.diff"
  fail=1
fi
n=0
while read -r f; do
  [ -f "$side_b/$f" ] || continue
  n=$((n + 1))
  ha=$(sha256sum <"$side_a/$f" | cut -d' ' -f1)
  if cmp -s "$side_a/$f" "$side_b/$f"; then
    printf 'same     %s  %s\n' "$ha" "$f"
  else
    hb=$(sha256sum <"$side_b/$f" | cut -d' ' -f1)
    printf 'DIFFERS  %s  %s (first build, %s bytes)\n' "$ha" "$f" "$(stat -c %s "$side_a/$f")"
    printf '         %s  %s (second build, %s bytes)\n' "$hb" "$f" "$(stat -c %s "$side_b/$f")"
    cmp "$side_a/$f" "$side_b/$f" | sed 's/^/         /' || true
    fail=1
  fi
done < <(list "$side_a")
if ((fail)); then
  echo "repro: FAILED: the builds differ (REPRO_KEEP=1 keeps both for diffoscope)"
  exit 1
fi
echo "repro: OK: $n files identical byte for byte in two builds of $rev"

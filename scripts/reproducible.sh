#!/usr/bin/env bash
# Reproducible-build test (make test-repro; docs/building.md): builds the
# release binaries of one commit (HEAD, or REPRO_REV) twice, in two fresh
# clones under two differently named folders, the second with its own
# empty Go build cache and module cache, and compares every output byte
# for byte: the user interface (frontend/dist), the Linux binaries, the
# Windows .exe files (cross-compiled with mingw-w64) and their resources,
# and with --full also the Linux desktop binary, the tarball and the .debs.
# Prints each file's SHA-256 on both sides; exits 1 naming every file
# that differs. Uncommitted changes are not part of the test; the
# git-ignored trusted update root (backend/update/trust/root/root.json),
# when present, is copied into both clones.
#
#   scripts/reproducible.sh [--full]
#   scripts/reproducible.sh --compare DIR1 DIR2   compare two trees already
#                         built (e.g. kept ones, or two machines' clones)
#   REPRO_REV=v1.2.0      the commit to build (default HEAD)
#   REPRO_GOCACHE=DIR     the second build's Go cache (default: a new,
#                         empty one; a kept one makes reruns quicker)
#   REPRO_KEEP=1          keep the two clones (their folder is printed)
set -euo pipefail
if [ "${1:-}" = --compare ]; then
  [ $# -eq 3 ] || { echo "usage: $0 --compare DIR1 DIR2" >&2; exit 2; }
  set -- --compare "$(realpath "$2")" "$(realpath "$3")"
fi
cd "$(dirname "$0")/.."
root=$PWD
full=0
[ "${1:-}" = --full ] && full=1
rev=$(git rev-parse --verify "${REPRO_REV:-HEAD}^{commit}")
tmp=$(mktemp -d "${TMPDIR:-/tmp}/outpost-repro.XXXXXX")
cleanup() {
  if [ "${REPRO_KEEP:-}" = 1 ]; then echo "repro: kept $tmp"; else chmod -R u+w "$tmp" && rm -rf "$tmp"; fi
}
trap cleanup EXIT

# Two folders of different names and depths, so an embedded path shows.
side_a=$tmp/a/outpost
side_b=$tmp/second-build/src/elsewhere
gocache_a=$(go env GOCACHE)
gocache_b=${REPRO_GOCACHE:-$tmp/gocache-b}
# The second build also unpacks the modules into a module cache of its
# own, from the first one's downloads (no network), so no module's folder
# is shared either.
modcache_a=$(go env GOMODCACHE)
modcache_b=$tmp/gomodcache-b

linux_bins=(outpost-admin outpost-server outpost-release)
((full)) && linux_bins=(outpost "${linux_bins[@]}")

build_side() { # DIR GOCACHE [GOMODCACHE]
  local dir=$1 cache=$2 modcache=${3:-} start=$SECONDS
  mkdir -p "$(dirname "$dir")"
  git clone --quiet --shared --no-checkout "$root" "$dir"
  git -C "$dir" checkout --quiet --detach "$rev"
  # The clinic's trusted update root is git-ignored: use the same one.
  if [ -f "$root/backend/update/trust/root/root.json" ]; then
    cp "$root/backend/update/trust/root/root.json" "$dir/backend/update/trust/root/"
  fi
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
  if [ -n "$modcache" ]; then
    rel=(env GOMODCACHE="$modcache" GOPROXY="file://$modcache_a/cache/download" GOSUMDB=off "${rel[@]}")
  fi
  # Linux and Windows side by side: their C compiles share nothing.
  GOCACHE=$cache "${rel[@]}" linux "${linux_bins[@]}" &
  local linux_pid=$!
  GOCACHE=$cache "${rel[@]}" windows outpost outpost-admin || { wait "$linux_pid" || true; return 1; }
  wait "$linux_pid"
  GOCACHE=$cache "${rel[@]}" check-windows
  if ((full)); then
    GOCACHE=$cache "${rel[@]}" tarball
    GOCACHE=$cache "${rel[@]}" deb
  fi
  echo "repro: built in $dir in $((SECONDS - start)) s (Go cache $cache${modcache:+, modules in $modcache})"
}

# The outputs to compare, named relative to a clone.
list() {
  (cd "$1" && find frontend/dist build/release/linux_amd64 build/release/windows_amd64 dist -type f 2>/dev/null | LC_ALL=C sort)
}
compare() { # DIR1 DIR2
  local a=$1 b=$2 fail=0 n=0 f ha hb
  if ! diff <(list "$a") <(list "$b") >"$tmp/lists.diff"; then
    echo "repro: the two builds made different sets of files:"
    cat "$tmp/lists.diff"
    fail=1
  fi
  while read -r f; do
    [ -f "$b/$f" ] || continue
    n=$((n + 1))
    ha=$(sha256sum <"$a/$f" | cut -d' ' -f1)
    if cmp -s "$a/$f" "$b/$f"; then
      printf 'same     %s  %s\n' "$ha" "$f"
    else
      hb=$(sha256sum <"$b/$f" | cut -d' ' -f1)
      printf 'DIFFERS  %s  %s (first build, %s bytes)\n' "$ha" "$f" "$(stat -c %s "$a/$f")"
      printf '         %s  %s (second build, %s bytes)\n' "$hb" "$f" "$(stat -c %s "$b/$f")"
      cmp "$a/$f" "$b/$f" | sed 's/^/         /' || true
      fail=1
    fi
  done < <(list "$a")
  if ((n == 0)); then
    echo "repro: FAILED: nothing to compare in $a"
    return 1
  fi
  if ((fail)); then
    echo "repro: FAILED: the builds differ (REPRO_KEEP=1 keeps both for diffoscope)"
    return 1
  fi
  echo "repro: OK: $n files identical byte for byte"
}

if [ "${1:-}" = --compare ]; then
  compare "$2" "$3"
  exit
fi

echo "repro: commit $rev ($(git describe --tags --always "$rev"))"
build_side "$side_a" "$gocache_a"
build_side "$side_b" "$gocache_b" "$modcache_b"
compare "$side_a" "$side_b"
echo "repro: both builds were of $rev"

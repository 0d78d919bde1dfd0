#!/usr/bin/env bash
# Regenerates the table of direct dependencies in docs/dependencies.md (S15)
# between its "inventory:begin" and "inventory:end" markers, from go.mod,
# frontend/package.json, the Go module proxy and the npm registry. Run it
# when a dependency changes (CONTRIBUTING.md); review and commit the diff.
#   scripts/inventory.sh [TODAY as YYYY-MM-DD]
set -euo pipefail
cd "$(dirname "$0")/.."
doc=docs/dependencies.md
tmp=$(mktemp); trap 'rm -f "$tmp" "$tmp.new"' EXIT
root=$(pwd)
(cd tools/scan && GOFLAGS=-mod=readonly go run ./inventory "$root" ${1:+"$1"}) >"$tmp"
grep -q '<!-- inventory:begin -->' "$doc" && grep -q '<!-- inventory:end -->' "$doc" ||
  { echo "inventory: $doc has no inventory:begin/end markers" >&2; exit 1; }
awk -v table="$tmp" '
  /<!-- inventory:begin -->/ { print; while ((getline l < table) > 0) print l; skip = 1; next }
  /<!-- inventory:end -->/ { skip = 0 }
  !skip' "$doc" >"$tmp.new"
mv "$tmp.new" "$doc"
echo "inventory: $doc updated; review the diff"

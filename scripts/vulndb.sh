#!/usr/bin/env bash
# The Go vulnerability database govulncheck reads, as a pinned, checksummed
# input that works offline (S14).
#
#   scripts/vulndb.sh               verify the pinned archive, unpack it into
#                                   .cache/vulndb/<sha256>/ (once) and print
#                                   that folder's absolute path
#   scripts/vulndb.sh refresh SRC [SOURCE-NOTE]
#                                   rebuild the archive from SRC, a folder of
#                                   OSV reports (a golang/vulndb checkout's
#                                   data/osv, or the ID folder of a copy of
#                                   the database), and rewrite the pin
#
# The pin is tools/scan/vulndb/PIN (sha256 of govulndb.tar.gz, the newest
# report's date, where the reports came from). Why an archive in the
# repository: CI reaches only the Go module proxy, Debian and npm; the
# public database (vuln.go.dev) is not reachable and the module proxy
# refuses golang.org/x/vulndb (403 for every version), so no registry
# serves the reports. See CONTRIBUTING.md, "Refreshing the vulnerability
# database".
set -euo pipefail
cd "$(dirname "$0")/.."
dir=tools/scan/vulndb
archive=$dir/govulndb.tar.gz
pin=$dir/PIN
cache=.cache/vulndb

sha() { sha256sum "$1" | cut -d' ' -f1; }
pinned() { sed -n "s/^$1=//p" "$pin"; }

case "${1:-path}" in
path)
  want=$(pinned sha256)
  [ -n "$want" ] || { echo "vulndb: no sha256 in $pin" >&2; exit 1; }
  out=$cache/$want
  if [ ! -f "$out/.verified" ]; then
    got=$(sha "$archive")
    if [ "$got" != "$want" ]; then
      echo "vulndb: $archive has sha256 $got, the pin in $pin says $want: refusing it" >&2
      exit 1
    fi
    rm -rf "$out" && mkdir -p "$out"
    tar -xzf "$archive" -C "$out"
    [ -s "$out/index/db.json" ] && [ -s "$out/index/modules.json" ] && [ -d "$out/ID" ] ||
      { echo "vulndb: $archive is not a database (index/db.json, index/modules.json, ID/)" >&2; exit 1; }
    touch "$out/.verified"
  fi
  echo "$(pwd)/$out"
  ;;
refresh)
  src=${2:?usage: scripts/vulndb.sh refresh OSV_DIR [SOURCE-NOTE]}
  note=${3:-$src}
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  (cd tools/scan && go run -mod=readonly ./vulndb "$(cd "$OLDPWD" && realpath "$src")" "$tmp/db")
  cp "$dir/LICENSE" "$tmp/db/LICENSE"
  # Deterministic: sorted names, fixed times and owners, gzip without a name/time.
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --mode='u=rwX,go=rX' \
    -C "$tmp/db" -cf - . | gzip -n -9 > "$tmp/govulndb.tar.gz"
  modified=$(sed -n 's/.*"modified":"\([^"]*\)".*/\1/p' "$tmp/db/index/db.json")
  mv "$tmp/govulndb.tar.gz" "$archive"
  cat > "$pin" <<PIN
# Pinned Go vulnerability database (scripts/vulndb.sh checks it before use).
# Reports: the Go vulnerability database, CC BY 4.0, the Go Authors (LICENSE).
modified=$modified
source=$note
reports=$(ls "$tmp/db/ID" | wc -l)
sha256=$(sha "$archive")
PIN
  cat "$pin"
  ;;
*)
  echo "usage: scripts/vulndb.sh [path | refresh OSV_DIR [SOURCE-NOTE]]" >&2; exit 2 ;;
esac

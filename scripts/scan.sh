#!/usr/bin/env bash
# The security scanners CI runs (S7, S14, S25, S26); `make scan` runs them
# all. Each fails the build on a finding that its reviewed allow-list in
# .ci/allow/ does not accept, and on an allow-list entry that no longer
# matches anything.
#
#   scripts/scan.sh [all | tools | selftest | pins | gosec | staticcheck | govulncheck | secrets | npm | sbom]
#   (sbom writes dist/, or $SBOM_DIR, for `make sbom` and `make release`;
#   it is not part of all)
#
# Tools are pinned in tools/scan/go.mod (a module of its own, so the app's
# go.mod stays clean; gosec is its library at the pinned version, run by
# tools/scan/gosec) and built once into .cache/scan/bin with -mod=readonly.
# Nothing here reaches the network except the Go module proxy (tool and
# module downloads, go.sum-checked) and npm's audit endpoint.
#
# Environment:
#   VULNDB=dir|url        govulncheck's database instead of the pinned one
#   NPM_AUDIT_STRICT=1    fail when npm's advisory service cannot be reached
#                         (set it where the network allows: a release machine)
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
bin=$root/.cache/scan/bin
export GOFLAGS=-mod=readonly
TAGS=desktop,production,webkit2_41

failed=()
step() { printf '\n== %s\n' "$1"; }
fail() { echo "scan: $1 FAILED"; failed+=("$1"); }

tools() {
  step "tools (tools/scan/go.mod)"
  mkdir -p "$bin"
  (cd tools/scan && go build -o "$bin/" \
    honnef.co/go/tools/cmd/staticcheck \
    golang.org/x/vuln/cmd/govulncheck \
    github.com/zricethezav/gitleaks/v8 \
    github.com/CycloneDX/cyclonedx-gomod/cmd/cyclonedx-gomod \
    ./gosec ./scanfilter ./vulndb ./sbomcheck && go vet ./...) || { echo "scan: building the scanners failed"; exit 1; }
}

gosec() {
  step gosec
  # tools/scan/gosec: gosec's rules and analyzers without its AI autofix
  # (whose SDKs doubled the cold build). Inline #nosec comments are
  # ignored: every exception is in .ci/allow/gosec.txt, in one reviewed place.
  "$bin/gosec" ./... >"$tmp/gosec.json" || { fail "gosec (did not run)"; return; }
  "$bin/scanfilter" gosec .ci/allow/gosec.txt <"$tmp/gosec.json" || fail gosec
}

staticcheck() {
  step staticcheck
  "$bin/staticcheck" -f json ./... >"$tmp/staticcheck.json"
  local rc=$?
  "$bin/scanfilter" staticcheck .ci/allow/staticcheck.txt <"$tmp/staticcheck.json" || fail staticcheck
  # Exit 1 is "found problems" (judged above); anything else is a crash.
  if [ "$rc" -gt 1 ]; then fail "staticcheck (exit $rc)"; fi
}

govulncheck() {
  step "govulncheck"
  local db=${VULNDB:-}
  if [ -z "$db" ]; then
    db=$(scripts/vulndb.sh) || { fail "govulncheck (database)"; return; }
    db=file://$db
    echo "database: pinned, $(sed -n 's/^modified=//p' tools/scan/vulndb/PIN) (tools/scan/vulndb/PIN)"
  fi
  # With the desktop tags, so the shipped app's code (Wails' webkit side too)
  # is what is analysed; the server and tools build the same either way.
  "$bin/govulncheck" -db "$db" -tags "$TAGS" -format json ./... >"$tmp/govulncheck.json" ||
    { fail "govulncheck (did not run)"; return; }
  "$bin/scanfilter" govulncheck .ci/allow/govulncheck.txt <"$tmp/govulncheck.json" || fail govulncheck
  # The Windows build links other modules (WebView2, Credential Manager).
  if command -v x86_64-w64-mingw32-gcc >/dev/null; then
    echo "the Windows build (GOOS=windows, mingw-w64):"
    GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc \
      "$bin/govulncheck" -db "$db" -tags desktop,production -format json ./... >"$tmp/govulncheck-windows.json" ||
      { fail "govulncheck windows (did not run)"; return; }
    "$bin/scanfilter" govulncheck .ci/allow/govulncheck.txt <"$tmp/govulncheck-windows.json" || fail "govulncheck windows"
  else
    echo "the Windows build: NOT CHECKED (no x86_64-w64-mingw32-gcc; scripts/deps.sh installs it)"
  fi
  (cd tools/scan && "$bin/govulncheck" -db "$db" -format json ./... >"$tmp/govulncheck-tools.json") ||
    { fail "govulncheck tools/scan (did not run)"; return; }
  echo "the scanners themselves (tools/scan):"
  "$bin/scanfilter" govulncheck .ci/allow/govulncheck.txt <"$tmp/govulncheck-tools.json" || fail "govulncheck tools/scan"
}

# The working tree as git sees it (tracked plus untracked, not ignored).
tree_copy() {
  local dst=$1
  git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do
    [ -f "$f" ] && printf '%s\0' "$f"
  done | tar --null -T - -cf - | tar -xf - -C "$dst"
}

secrets() {
  step "secrets (gitleaks: every commit, then the working tree)"
  local cfg=$root/.ci/allow/gitleaks.toml
  "$bin/gitleaks" git --no-banner --redact --log-level warn -c "$cfg" --exit-code 1 . || fail "secrets (history)"
  mkdir -p "$tmp/tree" && tree_copy "$tmp/tree"
  (cd "$tmp/tree" && "$bin/gitleaks" dir --no-banner --redact --log-level warn -c "$cfg" --exit-code 1 .) || fail "secrets (tree)"
}

# The scanners must find what they are for: secrets planted in a throw-away
# repository (never in ours: the values are made here at run time) and a
# known vulnerability in a throw-away module, against the pinned database.
selftest() {
  step "selftest (a planted AWS key and private key; a known vulnerable module)"
  local d=$tmp/planted
  mkdir -p "$d" && git -C "$d" init -q && git -C "$d" config user.email t@example.invalid && git -C "$d" config user.name t
  local aws body
  aws="AKIA$(head -c 64 /dev/urandom | base32 | tr -dc 'A-Z2-7' | head -c 16)"
  body=$(head -c 900 /dev/urandom | base64 -w 64)
  printf 'aws_access_key_id = %s\n' "$aws" >"$d/deploy.conf"
  printf -- '-----BEGIN RSA %s KEY-----\n%s\n-----END RSA %s KEY-----\n' PRIVATE "$body" PRIVATE >"$d/server.key"
  git -C "$d" add . && git -C "$d" commit -qm planted
  git -C "$d" rm -q deploy.conf server.key && git -C "$d" commit -qm removed
  "$bin/gitleaks" git --no-banner --log-level error -c "$root/.ci/allow/gitleaks.toml" -f json -r "$tmp/planted.json" "$d" >/dev/null
  local rc=$?
  if [ "$rc" -ne 1 ] || ! grep -q '"RuleID": "aws-access-token"' "$tmp/planted.json" || ! grep -q '"RuleID": "private-key"' "$tmp/planted.json"; then
    fail "selftest: gitleaks did not find the planted AWS key and private key in history (exit $rc)"
  else
    echo "gitleaks finds the planted AWS key and private key in a removed commit"
  fi
  printf 'aws_secret = %s\n' "$aws" >"$d/now.env"
  if (cd "$d" && "$bin/gitleaks" dir --no-banner --log-level error -c "$root/.ci/allow/gitleaks.toml" . >/dev/null); then
    fail "selftest: gitleaks did not find the planted AWS key in the tree"
  else
    echo "gitleaks finds the planted AWS key in the working tree"
  fi

  local m=$tmp/vulnmod
  mkdir -p "$m"
  cat >"$m/go.mod" <<'MOD'
module example.invalid/vulnmod

go 1.22

require golang.org/x/text v0.3.5
MOD
  printf 'package main\n\nimport "golang.org/x/text/language"\n\nfunc main() { _, _ = language.Parse("en") }\n' >"$m/main.go"
  local db=${VULNDB:-file://$(scripts/vulndb.sh)}
  # go.sum is made here (checked against the checksum database as usual).
  (cd "$m" && GOFLAGS=-mod=mod go mod tidy >"$tmp/vulnmod.err" 2>&1) || { fail "selftest: go mod tidy in the throw-away module"; return; }
  (cd "$m" && "$bin/govulncheck" -db "$db" -format json ./... >"$tmp/vulnmod.json" 2>"$tmp/vulnmod.err")
  "$bin/scanfilter" govulncheck /dev/null <"$tmp/vulnmod.json" >"$tmp/vulnmod.txt" # exits 1: it has findings
  if grep -q '^govulncheck: GO-2021-0113 ' "$tmp/vulnmod.txt"; then
    echo "govulncheck with the pinned database finds GO-2021-0113 in golang.org/x/text v0.3.5"
  else
    cat "$tmp/vulnmod.err"
    fail "selftest: govulncheck did not find GO-2021-0113 (golang.org/x/text v0.3.5) with the pinned database"
  fi
}

# S25: the pins are committed and the module cache matches them.
pins() {
  step "pins (go.sum, tools/scan/go.sum, package-lock.json committed; go mod verify)"
  local f ok=1
  for f in go.sum tools/scan/go.sum frontend/package-lock.json; do
    git ls-files --error-unmatch "$f" >/dev/null 2>&1 || { echo "$f is not committed"; ok=0; }
  done
  go mod verify || ok=0
  ((ok)) || fail pins
}

npm_audit() {
  step "npm (package-lock integrity; npm audit --audit-level=moderate)"
  # S25: every package comes with an integrity hash from the lock file.
  node -e '
    const lock = require("./frontend/package-lock.json");
    const bad = Object.entries(lock.packages || {}).filter(([k, p]) =>
      k.startsWith("node_modules/") && !p.link && !/^sha512-/.test(p.integrity || ""));
    if (lock.lockfileVersion < 2 || bad.length) {
      console.log("package-lock.json: entries without a sha512 integrity:", bad.map(([k]) => k).join(", ") || "(lockfileVersion < 2)");
      process.exit(1);
    }
    console.log("package-lock.json:", Object.keys(lock.packages).length - 1, "packages, each with a sha512 integrity");
  ' || fail "npm (lock file integrity)"
  (cd frontend && npm audit --audit-level=moderate --json >"$tmp/npm-audit.json" 2>"$tmp/npm-audit.err")
  if grep -q '"vulnerabilities"' "$tmp/npm-audit.json"; then
    "$bin/scanfilter" npm-audit .ci/allow/npm-audit.txt <"$tmp/npm-audit.json" || fail "npm audit"
  elif [ "${NPM_AUDIT_STRICT:-}" = 1 ]; then
    cat "$tmp/npm-audit.json" "$tmp/npm-audit.err"
    fail "npm audit (the registry's advisory service could not be reached; NPM_AUDIT_STRICT=1)"
  else
    echo "npm audit: NOT CHECKED: the registry's advisory service could not be reached from here:"
    grep -h -m2 'audit' "$tmp/npm-audit.err" | sed 's/^/  /'
    echo "  (run it where the network allows, with NPM_AUDIT_STRICT=1; see README, Security scanners)"
  fi
}

# CycloneDX SBOMs (S26): the app (its Go modules, built with the desktop
# tags, and the frontend's npm packages) and the server.
sbom() {
  local out=${SBOM_DIR:-dist} version=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
  step "sbom ($out, version $version)"
  mkdir -p "$out" && rm -f "$out"/outpost_*.cdx.json "$out"/outpost-server_*.cdx.json
  local app=$out/outpost_$version.cdx.json server=$out/outpost-server_$version.cdx.json
  GOFLAGS="-mod=readonly -tags=$TAGS" "$bin/cyclonedx-gomod" app -json -licenses -std -noserial -notimestamp \
    -output "$tmp/outpost.go.cdx.json" . 2>"$tmp/sbom.log" || { cat "$tmp/sbom.log"; fail "sbom (app, Go)"; return; }
  (cd frontend && npm sbom --sbom-format cyclonedx --sbom-type application) >"$tmp/outpost.npm.cdx.json" 2>>"$tmp/sbom.log" ||
    { cat "$tmp/sbom.log"; fail "sbom (app, npm)"; return; }
  "$bin/sbomcheck" merge "$app" "$tmp/outpost.go.cdx.json" "$tmp/outpost.npm.cdx.json" "$version" || fail "sbom (merge)"
  "$bin/cyclonedx-gomod" app -json -licenses -noserial -notimestamp -main backend/cmd/outpost-server \
    -std -output "$server" . 2>>"$tmp/sbom.log" || { cat "$tmp/sbom.log"; fail "sbom (server)"; return; }
  "$bin/sbomcheck" meta "$server" outpost-server "$version" || fail "sbom (server name)"
  # What an auditor looks for first: the database engines and the UI shell.
  "$bin/sbomcheck" check "$app" github.com/mutecomm/go-sqlcipher/v4 github.com/wailsapp/wails/v2 svelte std || fail "sbom (app contents)"
  "$bin/sbomcheck" check "$server" github.com/mattn/go-sqlite3 std || fail "sbom (server contents)"
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
what=${1:-all}
case "$what" in
all) tools; selftest; pins; secrets; gosec; staticcheck; govulncheck; npm_audit; SBOM_DIR=$tmp/sbom sbom ;;
tools) tools ;;
selftest | pins | secrets | gosec | staticcheck | govulncheck | sbom) tools >/dev/null; "$what" ;;
npm) tools >/dev/null; npm_audit ;;
*) echo "usage: scripts/scan.sh [all|tools|selftest|pins|gosec|staticcheck|govulncheck|secrets|npm|sbom]" >&2; exit 2 ;;
esac

echo
if ((${#failed[@]})); then
  echo "scan: FAILED: ${failed[*]}"
  exit 1
fi
echo "scan: all passed"

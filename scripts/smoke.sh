#!/usr/bin/env bash
# Smoke test of the real desktop binary: starts it in a virtual X display
# with a fresh data folder (and, via with-keyring.sh, a real keyring),
# waits until the UI reports its first screen, takes a screenshot and
# checks that the window rendered a screen rather than a blank page.
# Runs twice: a fresh folder must open setup, a set-up one must open login.
set -euo pipefail

bin=${1:-build/bin/outpost}
admin=${2:-build/bin/outpost-admin}
out=${SMOKE_OUT:-build/smoke}
mkdir -p "$out"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

shoot() { # name data-dir expected-screen
  local name=$1 dir=$2 want=$3 log="$work/$1.log"
  xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
    "$1" --data-dir "$2" >"$3" 2>&1 &
    app=$!
    for _ in $(seq 1 120); do
      grep -q "ui ready" "$3" && break
      kill -0 $app 2>/dev/null || break
      sleep 0.5
    done
    sleep 1
    import -window root "$4"
    kill $app 2>/dev/null || true
    wait $app 2>/dev/null || true' bash "$bin" "$dir" "$log" "$out/$name.png"

  if ! grep -q "ui ready: screen=$want" "$log"; then
    echo "smoke: $name: the UI did not report screen '$want'. Log:" >&2
    sed 's/^/  /' "$log" >&2
    return 1
  fi
  # A blank or failed webview is one or two colours; a rendered screen
  # with text, fields and buttons has many.
  local colours
  colours=$(/usr/bin/convert "$out/$name.png" -format '%k' info:)
  if [ "$colours" -lt 64 ]; then
    echo "smoke: $name: the screenshot has only $colours colours: the window looks blank" >&2
    return 1
  fi
  echo "smoke: $name: screen '$want' rendered ($colours colours) -> $out/$name.png"
}

shoot setup "$work/fresh" setup
printf 'harbor-lantern-quiet-81\n' | "$admin" init --data-dir "$work/clinic" --clinic "Smoke Test Clinic" --admin smoke >/dev/null
shoot login "$work/clinic" login
echo "smoke: 2 passed, 0 failed"

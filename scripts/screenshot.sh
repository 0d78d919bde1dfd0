#!/usr/bin/env bash
# Regenerates docs/screenshot.png: the real desktop window on a demo clinic
# of synthetic patients, signed in and searching. Needs make build first;
# run inside scripts/with-keyring.sh.
set -euo pipefail
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
login=$(build/bin/outpost-admin demo --data-dir "$work/demo" --patients 400)
password=$(sed -n 's/^Password: *//p' <<<"$login")
xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  build/bin/outpost --data-dir "$1" >"$3/app.log" 2>&1 &
  app=$!
  for _ in $(seq 1 120); do grep -q "ui ready" "$3/app.log" && break; sleep 0.5; done
  sleep 1
  xdotool mousemove 386 395 click 1          # accept the notice
  xdotool mousemove 640 470 click 1 type --delay 20 clinician
  xdotool mousemove 640 548 click 1 type --delay 20 "$2"
  xdotool key Return
  sleep 3
  xdotool type --delay 60 "ban"
  sleep 2
  import -window root docs/screenshot.png
  kill $app; wait $app 2>/dev/null || true' bash "$work/demo" "$password" "$work"
echo "wrote docs/screenshot.png"

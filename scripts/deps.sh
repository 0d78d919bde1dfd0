#!/usr/bin/env bash
# Installs what building and testing Outpost needs on Debian or Ubuntu:
# system packages through apt (only those missing), then the frontend's
# npm packages from package-lock.json. Go modules come through the Go
# module proxy on first build (go.sum pins them).
set -euo pipefail

pkgs=(build-essential pkg-config libgtk-3-dev libwebkit2gtk-4.1-dev
      xvfb xauth xdotool imagemagick fonts-dejavu-core chromium dbus gnome-keyring poppler-utils
      gcc-mingw-w64-x86-64 dpkg-dev)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  echo "deps: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

need() { command -v "$1" >/dev/null || { echo "deps: $1 is required ($2)" >&2; exit 1; }; }
need go "Go 1.26 or newer from https://go.dev/dl"
need node "Node.js 20.19 or newer"
need npm "npm 10 or newer"

# npm ci only when the lock file changed since the last install.
stamp=frontend/node_modules/.outpost-lock
if ! cmp -s frontend/package-lock.json "$stamp" 2>/dev/null; then
  (cd frontend && npm ci --no-audit --no-fund --loglevel=error)
  cp frontend/package-lock.json "$stamp"
fi

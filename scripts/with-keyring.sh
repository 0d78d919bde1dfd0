#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with a fresh, unlocked
# gnome-keyring (Secret Service), as a desktop session would have. The
# XDG folders point into a temporary directory so that nothing touches
# the user's own keyring; Go keeps its usual caches.
set -euo pipefail

export GOENV="$(go env GOENV)" GOCACHE="$(go env GOCACHE)" GOMODCACHE="$(go env GOMODCACHE)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" 2>/dev/null || true' EXIT
export XDG_DATA_HOME="$tmp/data" XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache" XDG_RUNTIME_DIR="$tmp/run"
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" "$XDG_RUNTIME_DIR"
chmod 700 "$XDG_RUNTIME_DIR"
export OUTPOST_REQUIRE_KEYRING=1 NO_AT_BRIDGE=1

dbus-run-session --config-file="$(dirname "$0")/session-bus.conf" -- bash -c '
  printf test | gnome-keyring-daemon --unlock --components=secrets >/dev/null
  exec "$@"' bash "$@" 2> >(grep -v "Failed to set fd limit" >&2)

#!/usr/bin/env bash
# Reproducible release builds (docs/building.md). Run through make:
#   make release [VERSION=X.Y.Z]    everything below, then dist/SHA256SUMS
#   make release-linux              the four Linux binaries and the tarball
#   make release-windows            outpost.exe and outpost-admin.exe (mingw-w64)
#   make deb                        the desktop and the server .deb
# or directly: scripts/release.sh STEP... with steps
#   linux [NAME...]    build Linux amd64 binaries into $STAGE/linux_amd64
#                      (default: outpost outpost-admin outpost-server outpost-release)
#   windows [NAME...]  build Windows amd64 binaries into $STAGE/windows_amd64
#                      (default: outpost outpost-admin) and copy them to $DIST
#   tarball            $DIST/outpost_<ver>_linux_amd64.tar.gz
#   deb                $DIST/outpost_<debver>_amd64.deb, outpost-server_<debver>_amd64.deb
#   sums               $DIST/SHA256SUMS over every other file in $DIST
#   check-windows      check the .exe files are Windows amd64 programs that
#                      need nothing but Windows' own DLLs
#
# Same inputs, same bytes: -trimpath, -buildid= and no symbol tables in
# the Go binaries (cgo's C compiler gets -ffile-prefix-map from go build
# with -trimpath), the version from git describe (or VERSION), every
# archive's times set to SOURCE_DATE_EPOCH (the last commit's time), its
# entries sorted and owned by root, gzip without a name or time.
# scripts/reproducible.sh builds twice in two folders and compares.
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
DIST=${DIST:-dist}
STAGE=${STAGE:-build/release}
DESKTOP_TAGS=${DESKTOP_TAGS:-desktop,production,webkit2_41}
WINDOWS_TAGS=${WINDOWS_TAGS:-desktop,production}
MINGW_CC=${MINGW_CC:-x86_64-w64-mingw32-gcc}
WINDRES=${WINDRES:-x86_64-w64-mingw32-windres}

if [[ ! $VERSION =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]]; then
  echo "release: VERSION '$VERSION' must be letters, digits and . _ + - only" >&2
  exit 2
fi
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || echo 0)
fi
export SOURCE_DATE_EPOCH
export TZ=UTC LC_ALL=C
export GOFLAGS=${GOFLAGS:--mod=readonly}
umask 022

LDFLAGS="-s -w -buildid= -X main.version=$VERSION"
linux_dir=$STAGE/linux_amd64
windows_dir=$STAGE/windows_amd64

# Debian versions start with a digit: X.Y.Z stays, X.Y.Z-N-gHASH becomes
# X.Y.Z+N.gHASH, anything else (a bare commit) 0.0.0+git.TEXT.
deb_version() {
  local v=${VERSION#v}
  if [[ $v =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]]; then
    echo "$v"
  elif [[ $v =~ ^([0-9]+\.[0-9]+\.[0-9]+)[-+](.*)$ ]]; then
    echo "${BASH_REMATCH[1]}+${BASH_REMATCH[2]//-/.}"
  else
    echo "0.0.0+git.${v//-/.}"
  fi
}

pkg_of() {
  case $1 in
    outpost) echo . ;;
    outpost-admin | outpost-server | outpost-release) echo "./backend/cmd/$1" ;;
    *) echo "release: unknown binary $1" >&2; return 2 ;;
  esac
}

need_frontend() {
  if [ ! -f frontend/dist/index.html ]; then
    echo "release: frontend/dist is not built (make frontend)" >&2
    exit 1
  fi
}

build_linux() {
  local names=("$@")
  ((${#names[@]})) || names=(outpost outpost-admin outpost-server outpost-release)
  mkdir -p "$linux_dir"
  local n pkgs=()
  for n in "${names[@]}"; do
    if [ "$n" = outpost ]; then
      need_frontend
      echo "release: linux/amd64 $n $VERSION"
      CGO_ENABLED=1 GOOS=linux GOARCH=amd64 \
        "$GO" build -trimpath -tags "$DESKTOP_TAGS" -ldflags "$LDFLAGS" -o "$linux_dir/$n" .
    else
      pkgs+=("$(pkg_of "$n")")
    fi
  done
  # The command-line programs in one go build, so their C (SQLCipher,
  # SQLite) compiles in parallel.
  if ((${#pkgs[@]})); then
    echo "release: linux/amd64 ${pkgs[*]##*/} $VERSION"
    CGO_ENABLED=1 GOOS=linux GOARCH=amd64 \
      "$GO" build -trimpath -ldflags "$LDFLAGS" -o "$linux_dir/" "${pkgs[@]}"
  fi
}

# The Windows resources (icon, manifest, version information) as a .syso
# object in the main package, which is where the Go linker looks for one;
# it is removed again after the build (git ignores it meanwhile).
SYSO=outpost_windows_amd64.syso
windows_resources() {
  local res=$windows_dir/res num=0,0,0,0 v=${VERSION#v}
  if [[ $v =~ ^([0-9]+)\.([0-9]+)\.([0-9]+) ]]; then
    num="${BASH_REMATCH[1]},${BASH_REMATCH[2]},${BASH_REMATCH[3]},0"
  fi
  rm -rf "$res" && mkdir -p "$res"
  cp build/windows/outpost.rc build/windows/icon.ico "$res/"
  sed "s/{{.Info.ProductVersion}}\.0/${num//,/.}/" build/windows/wails.exe.manifest >"$res/outpost.exe.manifest"
  (cd "$res" && "$WINDRES" "-DOUTPOST_VERSION_NUM=$num" "-DOUTPOST_VERSION_STR=\\\"$VERSION\\\"" \
      -DMANIFEST=outpost.exe.manifest -O coff -i outpost.rc -o outpost.syso)
}

build_windows() {
  local names=("$@")
  ((${#names[@]})) || names=(outpost outpost-admin)
  command -v "$MINGW_CC" >/dev/null || { echo "release: $MINGW_CC missing (apt install gcc-mingw-w64-x86-64)" >&2; exit 1; }
  mkdir -p "$windows_dir" "$DIST"
  local n
  for n in "${names[@]}"; do
    echo "release: windows/amd64 $n $VERSION"
    if [ "$n" = outpost ]; then
      need_frontend
      windows_resources
      cp "$windows_dir/res/outpost.syso" "$SYSO"
      trap 'rm -f "$SYSO"' EXIT
      CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC="$MINGW_CC" \
        "$GO" build -trimpath -tags "$WINDOWS_TAGS" -ldflags "$LDFLAGS -H windowsgui" -o "$windows_dir/$n.exe" .
      rm -f "$SYSO"
    else
      CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC="$MINGW_CC" \
        "$GO" build -trimpath -ldflags "$LDFLAGS" -o "$windows_dir/$n.exe" "$(pkg_of "$n")"
    fi
    rm -f "$DIST/${n}"_*_windows_amd64.exe
    install -m 0755 "$windows_dir/$n.exe" "$DIST/${n}_${VERSION}_windows_amd64.exe"
  done
}

check_windows() {
  local f dlls bad=0
  for f in "$windows_dir"/*.exe; do
    if ! grep -q 'file format pei-x86-64' <<<"$(x86_64-w64-mingw32-objdump -f "$f")"; then
      echo "release: $f is not a Windows amd64 program" >&2; bad=1; continue
    fi
    dlls=$(x86_64-w64-mingw32-objdump -p "$f" | awk '/DLL Name:/ {print $3}' | sort -u | tr '\n' ' ')
    # Only Windows' own libraries: no libgcc, libwinpthread or OpenSSL DLL to ship.
    for d in $dlls; do
      case ${d,,} in
        kernel32.dll | msvcrt.dll | advapi32.dll | user32.dll | ws2_32.dll | ntdll.dll | ole32.dll | shell32.dll | gdi32.dll) ;;
        *) echo "release: $f needs $d, which Windows does not have" >&2; bad=1 ;;
      esac
    done
    echo "release: $f: $(stat -c %s "$f") bytes, imports $dlls"
  done
  if [ -f "$windows_dir/outpost.exe" ]; then
    local hdr
    hdr=$(x86_64-w64-mingw32-objdump -p -h "$windows_dir/outpost.exe")
    grep -q 'Subsystem.*Windows GUI' <<<"$hdr" || { echo "release: outpost.exe is not a GUI program" >&2; bad=1; }
    grep -q '\.rsrc' <<<"$hdr" || { echo "release: outpost.exe has no resources (icon, manifest)" >&2; bad=1; }
  fi
  return $bad
}

# Licence notes: Go's own licence, the licence file of every Go module
# linked into the given binaries (go version -m), and of the npm packages
# the user interface bundles (the packages its sources import, and their
# dependencies).
licenses() {
  local mods
  mods=$("$GO" version -m "$@" | awk '$1 == "dep" || $1 == "=>" {print $2, $3}' | sort -u)
  local dirs
  dirs=$("$GO" list -m -f '{{.Path}} {{.Version}} {{.Dir}}' all 2>/dev/null)
  echo "Outpost $VERSION: licences of the software it includes"
  echo
  echo "== Go $("$GO" env GOVERSION) (standard library and runtime) =="
  echo
  cat "$("$GO" env GOROOT)/LICENSE"
  local path ver dir f
  while read -r path ver; do
    [ -n "$path" ] || continue
    dir=$(awk -v p="$path" -v v="$ver" '$1 == p && $2 == v {print $3; exit}' <<<"$dirs")
    echo
    echo "== Go module $path $ver =="
    echo
    f=""
    if [ -n "$dir" ]; then
      f=$(find "$dir" -maxdepth 1 -type f \( -iname 'licen[cs]e*' -o -iname 'copying*' \) | LC_ALL=C sort | head -1)
    fi
    if [ -n "$f" ]; then cat "$f"; else echo "(no licence file found in the module)"; fi
  done <<<"$mods"
  if [[ " $* " == *"/outpost "* ]] && [ -d frontend/node_modules ]; then
    (cd frontend && node -e '
      const fs = require("fs"), path = require("path");
      const src = [];
      (function walk(d) { for (const e of fs.readdirSync(d, {withFileTypes: true})) {
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p); else if (/\.(ts|js|svelte)$/.test(e.name)) src.push(fs.readFileSync(p, "utf8"));
      } })("src");
      const roots = new Set();
      for (const s of src) for (const m of s.matchAll(/from\s+["\x27]([^."\x27][^"\x27]*)["\x27]/g)) {
        const parts = m[1].split("/"); roots.add(m[1].startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]);
      }
      const seen = new Map(), todo = [...roots];
      while (todo.length) {
        const n = todo.pop(); if (seen.has(n)) continue;
        const dir = path.join("node_modules", n);
        if (!fs.existsSync(path.join(dir, "package.json"))) continue;
        const pj = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8"));
        seen.set(n, {dir, pj}); todo.push(...Object.keys(pj.dependencies || {}));
      }
      for (const n of [...seen.keys()].sort()) {
        const {dir, pj} = seen.get(n);
        const lic = fs.readdirSync(dir).filter(f => /^(licen[cs]e|copying)/i.test(f)).sort()[0];
        process.stdout.write(`\n== npm package ${n} ${pj.version} (${pj.license || "licence not stated"}) ==\n\n`);
        process.stdout.write(lic ? fs.readFileSync(path.join(dir, lic), "utf8") : "(no licence file in the package)\n");
      }')
  fi
}

# touch_tree DIR: every entry's time to SOURCE_DATE_EPOCH.
touch_tree() { find "$1" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +; }

tarball() {
  local name=outpost_${VERSION}_linux_amd64 n
  local root=$STAGE/tar/$name
  for n in outpost outpost-admin outpost-server outpost-release; do
    [ -x "$linux_dir/$n" ] || { echo "release: $linux_dir/$n missing (scripts/release.sh linux)" >&2; exit 1; }
  done
  rm -rf "$STAGE/tar" && mkdir -p "$root" "$DIST"
  for n in outpost outpost-admin outpost-server outpost-release; do install -m 0755 "$linux_dir/$n" "$root/"; done
  install -m 0644 README.md build/outpost-server.service build/linux/outpost.desktop "$root/"
  install -m 0644 build/appicon.png "$root/outpost.png"
  licenses "$linux_dir"/outpost "$linux_dir"/outpost-admin "$linux_dir"/outpost-server "$linux_dir"/outpost-release >"$root/LICENSES.txt"
  chmod 0644 "$root/LICENSES.txt"
  touch_tree "$STAGE/tar"
  rm -f "$DIST"/outpost_*_linux_amd64.tar.gz
  tar --sort=name --format=gnu --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    -C "$STAGE/tar" -cf - "$name" | gzip -n -9 >"$DIST/$name.tar.gz"
  echo "release: $DIST/$name.tar.gz"
}

# shlibs_depends BINARY...: the Depends line dpkg-shlibdeps computes from
# the libraries the binaries link (no network: the installed packages'
# shlibs/symbols files).
shlibs_depends() {
  local tmp abs=()
  tmp=$(mktemp -d)
  local b
  for b in "$@"; do abs+=("$(realpath "$b")"); done
  mkdir -p "$tmp/debian"
  printf 'Source: outpost\n\nPackage: outpost\nArchitecture: amd64\n' >"$tmp/debian/control"
  (cd "$tmp" && dpkg-shlibdeps -O "${abs[@]}" 2>/dev/null) | sed -n 's/^shlibs:Depends=//p'
  rm -rf "$tmp"
}

build_deb() { # ROOT NAME: $ROOT holds the file tree and DEBIAN/
  local root=$1 name=$2
  local size
  size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
  sed -i "s/^Installed-Size:.*/Installed-Size: $size/" "$root/DEBIAN/control"
  touch_tree "$root"
  dpkg-deb --root-owner-group -Zxz --build "$root" "$DIST/$name" >/dev/null
  echo "release: $DIST/$name"
}

debs() {
  local v n
  v=$(deb_version)
  for n in outpost outpost-admin outpost-server; do
    [ -x "$linux_dir/$n" ] || { echo "release: $linux_dir/$n missing (scripts/release.sh linux)" >&2; exit 1; }
  done
  rm -rf "$STAGE/deb" && mkdir -p "$DIST"
  rm -f "$DIST"/outpost_*_amd64.deb "$DIST"/outpost-server_*_amd64.deb

  # The desktop app and the administrators' tool.
  local d=$STAGE/deb/outpost
  install -d -m 0755 "$d/DEBIAN" "$d/usr/bin" "$d/usr/share/applications" \
    "$d/usr/share/icons/hicolor/512x512/apps" "$d/usr/share/doc/outpost"
  install -m 0755 "$linux_dir/outpost" "$linux_dir/outpost-admin" "$d/usr/bin/"
  install -m 0644 build/linux/outpost.desktop "$d/usr/share/applications/"
  install -m 0644 build/appicon.png "$d/usr/share/icons/hicolor/512x512/apps/outpost.png"
  licenses "$linux_dir/outpost" "$linux_dir/outpost-admin" >"$d/usr/share/doc/outpost/copyright"
  chmod 0644 "$d/usr/share/doc/outpost/copyright"
  local deps
  deps=$(shlibs_depends "$linux_dir/outpost" "$linux_dir/outpost-admin")
  [ -n "$deps" ] || deps="libc6, libgtk-3-0, libwebkit2gtk-4.1-0"
  sed -e "s/@VERSION@/$v/" -e "s/@DEPENDS@/$deps/" build/linux/deb/outpost.control >"$d/DEBIAN/control"
  build_deb "$d" "outpost_${v}_amd64.deb"

  # The clinic's sync server, as a system service.
  d=$STAGE/deb/outpost-server
  install -d -m 0755 "$d/DEBIAN" "$d/usr/bin" "$d/lib/systemd/system" "$d/usr/share/doc/outpost-server"
  install -m 0755 "$linux_dir/outpost-server" "$d/usr/bin/"
  sed 's#/usr/local/bin/outpost-server#/usr/bin/outpost-server#g' build/outpost-server.service >"$d/lib/systemd/system/outpost-server.service"
  chmod 0644 "$d/lib/systemd/system/outpost-server.service"
  licenses "$linux_dir/outpost-server" >"$d/usr/share/doc/outpost-server/copyright"
  chmod 0644 "$d/usr/share/doc/outpost-server/copyright"
  deps=$(shlibs_depends "$linux_dir/outpost-server")
  [ -n "$deps" ] || deps="libc6"
  sed -e "s/@VERSION@/$v/" -e "s/@DEPENDS@/$deps/" build/linux/deb/outpost-server.control >"$d/DEBIAN/control"
  install -m 0755 build/linux/deb/outpost-server.postinst "$d/DEBIAN/postinst"
  install -m 0755 build/linux/deb/outpost-server.prerm "$d/DEBIAN/prerm"
  install -m 0755 build/linux/deb/outpost-server.postrm "$d/DEBIAN/postrm"
  build_deb "$d" "outpost-server_${v}_amd64.deb"
}

sums() {
  mkdir -p "$DIST"
  (cd "$DIST" && find . -maxdepth 1 -type f ! -name 'SHA256SUMS*' -printf '%P\n' | LC_ALL=C sort |
    xargs -r -d '\n' sha256sum -- >SHA256SUMS.new && mv SHA256SUMS.new SHA256SUMS)
  echo "release: $DIST/SHA256SUMS"
  cat "$DIST/SHA256SUMS"
}

[ $# -gt 0 ] || { sed -n '2,20p' "$0"; exit 2; }
step=$1
shift
case $step in
  linux) build_linux "$@" ;;
  windows) build_windows "$@" ;;
  check-windows) check_windows ;;
  tarball) tarball ;;
  deb) debs ;;
  sums) sums ;;
  deb-version) deb_version ;;
  *) echo "release: unknown step $step" >&2; exit 2 ;;
esac

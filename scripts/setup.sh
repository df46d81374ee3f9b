#!/usr/bin/env bash
# Installs what Skein needs on a Debian 12 machine, idempotently; quick when all is present.
#   - PostgreSQL server binaries (initdb, pg_ctl, pg_basebackup, pgbench)
#   - the official DuckDB 1.5.5 library (libduckdb.so) from the npm package
#     @duckdb/node-bindings-linux-x64, into /opt/skein/duckdb/v1.5.5 (binaries carry an rpath to it)
#   - the official ducklake, postgres_scanner, tpch, httpfs (object storage) and aws (its
#     credential chain) extensions 1.5.5 from their PyPI wheels, into DuckDB's extension
#     directory, so a plain `LOAD ducklake` works
#   - Garage 2.5.0 (the S3-compatible store of `skein sandbox up --object-store`), built
#     once with `cargo install --locked` into ~/.cache/skein-tools/garage-2.5.0 (about
#     11 minutes on two cores; reused afterwards)
# DuckDB is never compiled from source here.
set -euo pipefail

DUCKDB_VERSION=1.5.5
NODE_BINDINGS_VERSION=1.5.5-r.5
LIBDUCKDB_SHA256=fc23f12e376c47be520f75221288281906e7942e8fd6f6ce4849198ba60d0405
LIB_DIR=/opt/skein/duckdb/v${DUCKDB_VERSION}
EXT_DIR=${SKEIN_DUCKDB_EXTENSION_DIR:-$HOME/.duckdb/extensions/v${DUCKDB_VERSION}/linux_amd64}
EXTENSIONS=(ducklake postgres_scanner tpch httpfs aws)
GARAGE_VERSION=2.5.0
GARAGE_ROOT=${SKEIN_GARAGE_ROOT:-$HOME/.cache/skein-tools/garage-${GARAGE_VERSION}}

say() { printf 'setup: %s\n' "$*"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=
apt_install() {
  local missing=()
  for p in "$@"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -z "$apt_updated" ]; then as_root apt-get update -qq; apt_updated=1; fi
  say "installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# 1. System packages: the PostgreSQL server and what the build needs.
apt_install postgresql postgresql-contrib build-essential pkg-config ca-certificates unzip python3-pip
# pg_query (PostgreSQL's parser, libpg_query) builds its bindings with bindgen and protobuf.
apt_install libclang-dev protobuf-compiler
command -v npm >/dev/null || apt_install npm
# The desktop shell (Tauri 2 on WebKitGTK), fonts for charts exported with plotters, and the
# browser and desktop tests: Debian's Chromium (never a browser download), Xvfb, WebKitWebDriver,
# ImageMagick for screenshots of the desktop window.
apt_install libwebkit2gtk-4.1-dev libxdo-dev libssl-dev libayatana-appindicator3-dev librsvg2-dev \
  xvfb xauth webkit2gtk-driver imagemagick chromium \
  libfontconfig1-dev fonts-dejavu-core
# The Debian package starts a cluster of its own on 5432; Skein's sandbox does not need it.
# The OS keyring's tests: a private D-Bus session bus with GNOME Keyring (secret-tool reads
# back what Skein stores). The SSH tunnels' tests: OpenSSH's client and server (sshd runs only
# inside the tests, on loopback).
apt_install gnome-keyring libsecret-tools dbus-daemon dbus openssh-client openssh-server
# The metrics' test: a real Prometheus scrapes `skein serve` (run only inside the test, on a
# loopback port; the package's own service is not used).
apt_install prometheus
# The desktop notifications' test: a real notification server (dunst) on a private session bus.
apt_install dunst

# 2. The official libduckdb.so.
if [ "$(sha256sum "$LIB_DIR/libduckdb.so" 2>/dev/null | cut -d' ' -f1)" != "$LIBDUCKDB_SHA256" ]; then
  say "installing libduckdb.so $DUCKDB_VERSION into $LIB_DIR"
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "@duckdb/node-bindings-linux-x64@${NODE_BINDINGS_VERSION}" >/dev/null && tar xzf ./*.tgz package/libduckdb.so)
  got=$(sha256sum "$tmp/package/libduckdb.so" | cut -d' ' -f1)
  if [ "$got" != "$LIBDUCKDB_SHA256" ]; then
    echo "setup: libduckdb.so checksum mismatch (got $got, want $LIBDUCKDB_SHA256)" >&2; exit 1
  fi
  as_root mkdir -p "$LIB_DIR"
  as_root install -m 0755 "$tmp/package/libduckdb.so" "$LIB_DIR/libduckdb.so"
  rm -rf "$tmp"
fi

# 3. The official extensions, from their wheels.
mkdir -p "$EXT_DIR"
for ext in "${EXTENSIONS[@]}"; do
  [ -s "$EXT_DIR/$ext.duckdb_extension" ] && continue
  say "installing the $ext extension $DUCKDB_VERSION into $EXT_DIR"
  tmp=$(mktemp -d)
  pkg="duckdb-extension-${ext//_/-}==${DUCKDB_VERSION}"
  python3 -m pip download --quiet --no-deps --disable-pip-version-check -d "$tmp" "$pkg"
  unzip -q -j -o "$tmp"/*.whl "*/extensions/v${DUCKDB_VERSION}/${ext}.duckdb_extension" -d "$tmp/x"
  install -m 0644 "$tmp/x/$ext.duckdb_extension" "$EXT_DIR/$ext.duckdb_extension"
  rm -rf "$tmp"
done

# 4. tauri-driver, the WebDriver bridge the desktop test drives the app through.
if ! command -v tauri-driver >/dev/null && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
  say "installing tauri-driver"
  CARGO_TARGET_DIR="$HOME/.cache/skein-tools" cargo install tauri-driver --locked --quiet
fi

# 4b. Garage, pinned, built once outside any clone.
if [ ! -x "$GARAGE_ROOT/bin/garage" ]; then
  say "building Garage $GARAGE_VERSION into $GARAGE_ROOT (once; about 11 minutes on two cores)"
  CARGO_TARGET_DIR="$HOME/.cache/skein-tools" cargo install garage --version "$GARAGE_VERSION" --locked --quiet --root "$GARAGE_ROOT"
fi

# 5. The UI's and the browser tests' npm packages (from package-lock.json).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
for d in ui tests/web; do
  lock="$root/$d/package-lock.json" stamp="$root/$d/node_modules/.package-lock.json"
  if [ -f "$lock" ] && { [ ! -f "$stamp" ] || [ "$lock" -nt "$stamp" ]; }; then
    say "installing the npm packages of $d"
    (cd "$root/$d" && npm ci --no-audit --no-fund --loglevel=error)
  fi
done

# 6. The unprivileged user the sandbox runs servers as when started by root.
if [ "$(id -u)" = 0 ] && ! id postgres >/dev/null 2>&1; then
  echo "setup: no 'postgres' user after installing postgresql" >&2; exit 1
fi
say "ready (DuckDB $DUCKDB_VERSION at $LIB_DIR, extensions in $EXT_DIR, Garage at $GARAGE_ROOT/bin/garage)"

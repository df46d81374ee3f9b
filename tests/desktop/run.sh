#!/usr/bin/env bash
# Desktop end-to-end test: the real skein-desktop binary, driven through WebDriver
# (tauri-driver + WebKitWebDriver) in a virtual X display, against the sandbox.
#
#   tests/desktop/run.sh [SCREENSHOT.png]
#
# Starts the sandbox (`skein sandbox up --reuse`), then under `xvfb-run -a` starts
# tauri-driver on free ports, opens a session on the app with the sandbox profile, waits
# (up to SKEIN_DESKTOP_TIMEOUT_MS, default 60000) until the Overview shows replica1 and
# replica2 each with a state word, writes a screenshot, prints
# `desktop: overview rendered in N ms` (from the session request to the first poll that saw
# both replicas) and `desktop: ok`. Exits non-zero with `desktop: FAILED: …` otherwise.
#
# Environment:
#   CARGO_TARGET_DIR            where the binaries are (default ~/.cache/skein-target)
#   SKEIN_DESKTOP_BIN           the app (default $CARGO_TARGET_DIR/debug/skein-desktop)
#   SKEIN_BIN                   the CLI (default $CARGO_TARGET_DIR/debug/skein)
#   SKEIN_DESKTOP_PROFILE       a profile to use instead of starting the sandbox
#   SKEIN_DESKTOP_SCREENSHOT    screenshot path when no argument is given
#                               (default ${TMPDIR:-/tmp}/skein-desktop.png)
#   SKEIN_DESKTOP_TIMEOUT_MS    how long to wait for the Overview (default 60000)
#   SKEIN_DESKTOP_SETTLE_MS     wait after the first render before the screenshot (default 2000)
#   SKEIN_DESKTOP_HOLD_MINUTES  keep the app open that long on #/SKEIN_DESKTOP_HOLD_ROUTE
#                               (default replicas) and print its memory 30 s in and at every
#                               whole minute (benchmark; default 0)
#   SKEIN_DESKTOP_NO_PROFILE    1: start the app with no profile (no sandbox, SKEIN_PROFILE
#                               unset), wait for the first-run profile picker instead of the
#                               Overview and print the empty window's memory (benchmark)
#   TAURI_DRIVER                tauri-driver (default: on PATH, else ~/.cargo/bin/tauri-driver)
#   WEBKIT_WEBDRIVER            the native driver (default /usr/bin/WebKitWebDriver)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
say() { printf 'desktop: %s\n' "$*"; }
die() { printf 'desktop: FAILED: %s\n' "$*" >&2; exit 1; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/skein-target}
app=${SKEIN_DESKTOP_BIN:-$CARGO_TARGET_DIR/debug/skein-desktop}
skein=${SKEIN_BIN:-$CARGO_TARGET_DIR/debug/skein}
shot=${1:-${SKEIN_DESKTOP_SCREENSHOT:-${TMPDIR:-/tmp}/skein-desktop.png}}
case $shot in /*) ;; *) shot=$PWD/$shot ;; esac

# The WebDriver part runs inside a virtual display of its own (1920x1080: the window is
# 1280x800; xvfb-run's default screen is 640x480x8).
if [ -z "${SKEIN_DESKTOP_IN_XVFB:-}" ]; then
  [ -x "$app" ] || die "no app at $app (build it: cargo build -p skein-desktop; it embeds ui/dist)"
  command -v xvfb-run >/dev/null || die "xvfb-run is missing (apt-get install xvfb)"
  command -v node >/dev/null || die "node is missing"
  profile=${SKEIN_DESKTOP_PROFILE:-}
  if [ "${SKEIN_DESKTOP_NO_PROFILE:-0}" = 1 ]; then
    unset SKEIN_PROFILE
    export SKEIN_DESKTOP_IN_XVFB=1
    exec xvfb-run -a -s "-screen 0 1920x1080x24" bash "${BASH_SOURCE[0]}" "$shot"
  fi
  if [ -z "$profile" ]; then
    [ -x "$skein" ] || die "no skein CLI at $skein (build it: cargo build -p skein-cli)"
    profile=$("$skein" sandbox up --reuse --scale 0.01 | tail -n 1) || die "the sandbox did not start"
  fi
  [ -f "$profile" ] || die "profile $profile does not exist"
  export SKEIN_DESKTOP_IN_XVFB=1 SKEIN_DESKTOP_PROFILE=$profile
  exec xvfb-run -a -s "-screen 0 1920x1080x24" bash "${BASH_SOURCE[0]}" "$shot"
fi

driver=${TAURI_DRIVER:-$(command -v tauri-driver || echo "$HOME/.cargo/bin/tauri-driver")}
native=${WEBKIT_WEBDRIVER:-/usr/bin/WebKitWebDriver}
[ -x "$driver" ] || die "tauri-driver is missing (cargo install tauri-driver --locked)"
[ -x "$native" ] || die "$native is missing (apt-get install webkit2gtk-driver)"

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}
port=$(free_port)
native_port=$(free_port)
while [ "$native_port" = "$port" ]; do native_port=$(free_port); done

log=$(mktemp -t skein-tauri-driver.XXXXXX.log)
driver_pid=

# Every process this script started: tauri-driver and what it spawned (WebKitWebDriver, the
# app, WebKit's processes), children first, each by its id.
descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    descendants "$child"
    echo "$child"
  done
}
cleanup() {
  local status=$? pids
  if [ -n "$driver_pid" ]; then
    pids=$(descendants "$driver_pid")
    kill "$driver_pid" 2>/dev/null || true
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$driver_pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$driver_pid" 2>/dev/null || true
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    wait "$driver_pid" 2>/dev/null || true
  fi
  if [ "$status" != 0 ] && [ -s "$log" ]; then
    echo "--- tauri-driver log (last 40 lines) ---" >&2
    tail -n 40 "$log" >&2
  fi
  rm -f "$log"
  exit "$status"
}
trap cleanup EXIT

"$driver" --port "$port" --native-port "$native_port" --native-driver "$native" >"$log" 2>&1 &
driver_pid=$!

if [ "${SKEIN_DESKTOP_NO_PROFILE:-0}" = 1 ]; then
  target=(--no-profile 1)
else
  target=(--profile "$SKEIN_DESKTOP_PROFILE")
fi
node "$here/webdriver.mjs" \
  --port "$port" \
  --driver-pid "$driver_pid" \
  --app "$app" \
  "${target[@]}" \
  --screenshot "$shot" \
  --timeout-ms "${SKEIN_DESKTOP_TIMEOUT_MS:-60000}" \
  --settle-ms "${SKEIN_DESKTOP_SETTLE_MS:-2000}" \
  --hold-minutes "${SKEIN_DESKTOP_HOLD_MINUTES:-0}" \
  --hold-route "${SKEIN_DESKTOP_HOLD_ROUTE:-replicas}"

say ok

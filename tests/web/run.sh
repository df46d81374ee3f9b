#!/usr/bin/env bash
# The web console end to end: a sandbox of its own (primary + 2 replicas + lake), `skein serve`
# on a free loopback port with a known token, then the browser tests in Debian's Chromium.
# Needs: the built UI (ui/dist), the skein binary, /usr/bin/chromium (scripts/setup.sh).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
: "${CARGO_TARGET_DIR:=$HOME/.cache/skein-target}"
skein="$CARGO_TARGET_DIR/debug/skein"

[ -x "$skein" ] || { echo "web tests: $skein is missing: run cargo build -p skein-cli" >&2; exit 1; }
[ -f "$root/ui/dist/index.html" ] || { echo "web tests: ui/dist is missing: run make ui" >&2; exit 1; }
[ -x /usr/bin/chromium ] || { echo "web tests: /usr/bin/chromium is missing: run make setup" >&2; exit 1; }
if [ ! -d "$here/node_modules/playwright-core" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

dir="/tmp/skein-web-test-$$"
serve_pid=""
cleanup() {
  local status=$?
  if [ -n "$serve_pid" ]; then
    kill "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
  fi
  "$skein" sandbox down --dir "$dir" >/dev/null 2>&1 || true
  exit "$status"
}
trap cleanup EXIT

# SKEIN_SANDBOX_ARGS: more `skein sandbox up` flags (e.g. '--replicas 16 --no-caches' for heap-replicas.mjs).
# shellcheck disable=SC2086
"$skein" sandbox up --dir "$dir" --scale 0.01 ${SKEIN_SANDBOX_ARGS:-} >/dev/null
token="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
log="$dir/serve.log"
SKEIN_CONFIG_DIR="$dir/config" SKEIN_STATE_DIR="$dir/state" "$skein" serve --profile "$dir/profile.toml" \
  --bind 127.0.0.1:0 --token "$token" --ui-dir "$root/ui/dist" >"$log" 2>&1 &
serve_pid=$!
url=""
for _ in $(seq 1 100); do
  url="$(grep -o 'http://[^ ]*' "$log" | head -1 || true)"
  [ -n "$url" ] && break
  kill -0 "$serve_pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 0.1
done
[ -n "$url" ] || { echo "web tests: skein serve printed no URL" >&2; cat "$log" >&2; exit 1; }

export SKEIN_URL="$url" SKEIN_TOKEN="$token" SKEIN_BIN="$skein" SKEIN_SANDBOX_DIR="$dir"
export SKEIN_PROFILE="$dir/profile.toml"
cd "$here"
if [ $# -gt 0 ]; then
  node "$@"     # a script of its own against the same stack (e.g. shot-workbench.mjs)
else
  node --test --test-concurrency=1 --test-reporter=spec ./*.test.mjs
fi

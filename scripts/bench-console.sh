#!/usr/bin/env bash
# Console benchmarks: prints figures, asserts nothing.
#   1. the delay from a lag change on a replica to its appearance in the web UI (p50/p95, s);
#   2. desktop app start to the first rendered Overview (ms, median of 3);
#   3. RSS of the desktop process tree (app + WebKit processes) after BENCH_MINUTES (default 10)
#      on a 16-replica sandbox, with the Replicas page open and the history filling.
# Each part starts its own sandbox and stops it afterwards.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${CARGO_TARGET_DIR:=$HOME/.cache/skein-target}"
export CARGO_TARGET_DIR
skein="$CARGO_TARGET_DIR/debug/skein"
desktop="$CARGO_TARGET_DIR/debug/skein-desktop"
minutes="${BENCH_MINUTES:-10}"
[ -d "$root/tests/web/node_modules/playwright-core" ] || (cd "$root/tests/web" && npm ci --no-audit --no-fund --loglevel=error)

port_of() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print([n["port"] for n in d["nodes"] if n["name"]==sys.argv[2]][0])' "$1" "$2"; }

# 1. Lag change → UI delay, in web mode.
dir=/tmp/skein-bench-web-$$
serve_pid=""
cleanup() {
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true
  "$skein" sandbox down --dir "$dir" >/dev/null 2>&1 || true
}
trap cleanup EXIT
"$skein" sandbox up --dir "$dir" --scale 0.01 --json >"$dir.json"
token="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
SKEIN_CONFIG_DIR="$dir/config" "$skein" serve --profile "$dir/profile.toml" --bind 127.0.0.1:0 \
  --token "$token" --ui-dir "$root/ui/dist" >"$dir/serve.log" 2>&1 &
serve_pid=$!
for _ in $(seq 1 100); do grep -q http "$dir/serve.log" && break; sleep 0.1; done
SKEIN_URL="$(grep -o 'http://[^ ]*' "$dir/serve.log" | head -1)" \
PGPASSFILE="$dir/pgpass" PRIMARY_PORT="$(port_of "$dir.json" primary)" REPLICA1_PORT="$(port_of "$dir.json" replica1)" \
  node "$root/tests/web/bench-lag.mjs"
cleanup
serve_pid=""
rm -f "$dir.json"

# 2. Desktop start → first rendered Overview.
dir=/tmp/skein-bench-desktop-$$
"$skein" sandbox up --dir "$dir" --scale 0.01 >/dev/null
times=()
for i in 1 2 3; do
  line="$(SKEIN_DESKTOP_PROFILE="$dir/profile.toml" bash "$root/tests/desktop/run.sh" 2>&1 | grep -o 'overview rendered in [0-9]* ms' || true)"
  [ -n "$line" ] && times+=("$(echo "$line" | grep -o '[0-9]*' | head -1)")
done
if [ "${#times[@]}" -gt 0 ]; then
  median="$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
  echo "desktop start → Overview rendered: median ${median} ms (runs: ${times[*]} ms)"
else
  echo "desktop start → Overview rendered: no run succeeded (see tests/desktop/run.sh)"
fi
"$skein" sandbox down --dir "$dir" >/dev/null

# 3. RSS after $minutes minutes with 16 replicas.
dir=/tmp/skein-bench-16-$$
"$skein" sandbox up --dir "$dir" --replicas 16 --scale 0.01 --no-caches >/dev/null
SKEIN_DESKTOP_PROFILE="$dir/profile.toml" SKEIN_DESKTOP_HOLD_MINUTES="$minutes" SKEIN_DESKTOP_TIMEOUT_MS=120000 \
  SKEIN_DESKTOP_SCREENSHOT="/tmp/skein-bench-16.png" bash "$root/tests/desktop/run.sh" | grep -E 'RSS|rendered|FAILED' || true
"$skein" sandbox down --dir "$dir" >/dev/null

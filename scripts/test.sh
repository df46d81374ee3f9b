#!/usr/bin/env bash
# The whole test suite: formatting, clippy with warnings denied, the type check (.ts and .svelte,
# svelte-check) and build of the UI, its lint (Biome: formatting and rules) and unit tests
# (Vitest), every Rust test (unit tests and tests against real PostgreSQL servers and
# DuckDB/DuckLake, including the RPC surface and the up-to-date check of the generated TypeScript
# bindings), the lake's tests again on a three-node Garage cluster, the web console in Debian's Chromium against `skein serve`, and the desktop app under
# Xvfb through tauri-driver, and a fired alert reaching the desktop's notification server.
# Closes with one summary line.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
: "${CARGO_TARGET_DIR:=$HOME/.cache/skein-target}"
export CARGO_TARGET_DIR

log=$(mktemp)
trap 'rm -f "$log"' EXIT

cargo fmt --all --check
(cd ui && npm run --silent build)
(cd ui && npm run --silent lint)
(cd ui && NO_COLOR=1 npm run --silent test) 2>&1 | tee "$log"
cargo clippy --workspace --all-targets -- -D warnings
set +e
cargo test --workspace --no-fail-fast -- --test-threads=2 2>&1 | tee -a "$log"
rust_rc=${PIPESTATUS[0]}
# The lake's whole suite again with every lake on a three-node Garage cluster (s3://).
SKEIN_TEST_OBJECT_STORE=1 cargo test -p skein-lake --no-fail-fast --test '*' -- --test-threads=2 2>&1 | tee -a "$log"
store_rc=${PIPESTATUS[0]}
set -e
cargo build -q -p skein-cli -p skein-desktop

set +e
bash tests/web/run.sh 2>&1 | tee -a "$log"
web_rc=${PIPESTATUS[0]}
# The timeline over a long history, on a sandbox of its own (the other tests keep a short one).
bash tests/web/run.sh --test --test-reporter=spec timeline-history.solo.mjs 2>&1 | tee -a "$log"
history_rc=${PIPESTATUS[0]}
# The console on a lake in a three-node Garage cluster, one node stopped and started.
SKEIN_SANDBOX_ARGS='--object-store' bash tests/web/run.sh --test --test-reporter=spec store.solo.mjs 2>&1 | tee -a "$log"
store_web_rc=${PIPESTATUS[0]}
# The desktop app on a sandbox of its own, stopped afterwards.
desk="/tmp/skein-desktop-test-$$"
"$CARGO_TARGET_DIR/debug/skein" sandbox up --dir "$desk" --scale 0.01 >/dev/null
SKEIN_STATE_DIR="$desk/state" SKEIN_CONFIG_DIR="$desk/config" SKEIN_DESKTOP_PROFILE="$desk/profile.toml" bash tests/desktop/run.sh "$desk/desktop.png" 2>&1 | tee -a "$log"
desktop_rc=${PIPESTATUS[0]}
"$CARGO_TARGET_DIR/debug/skein" sandbox down --dir "$desk" >/dev/null || true
# A fired alert as a desktop notification (a sandbox, a display and a session bus of its own).
bash tests/desktop/notify.sh 2>&1 | grep -v '^dbus-daemon' | tee -a "$log"
notify_rc=${PIPESTATUS[0]}
set -e

awk -v desktop_rc="$desktop_rc" -v notify_rc="$notify_rc" '
  /^test result:/ { passed += $4; failed += $6 }
  # Vitest: "      Tests  28 passed (28)" or "      Tests  1 failed | 27 passed (28)".
  /^ +Tests +[0-9]/ { for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed/) passed += $i; if ($(i+1) ~ /^failed/) failed += $i } }
  /^ℹ pass / { passed += $3 }
  /^ℹ fail / { failed += $3 }
  END {
    if (desktop_rc == 0) passed += 1; else failed += 1
    if (notify_rc == 0) passed += 1; else failed += 1
    printf "tests: %d passed, %d failed\n", passed, failed
  }' "$log"
for rc in "$rust_rc" "$store_rc" "$web_rc" "$history_rc" "$store_web_rc" "$desktop_rc" "$notify_rc"; do
  [ "$rc" = 0 ] || exit "$rc"
done

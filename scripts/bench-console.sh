#!/usr/bin/env bash
# Console benchmarks: print figures measured in this run and assert nothing. Where a target is
# named, it is printed beside the figure for the reader; no figure makes the script fail.
#
#   scripts/bench-console.sh
#
# Environment:
#   BENCH_PARTS    which parts run, in this order (default "bundle lag start memory heap timeline")
#   BENCH_MINUTES  how long the memory part holds the Replicas page (default 10)
#   BENCH_LONG     1: the 60-minute memory run (BENCH_MINUTES=60)
#   BENCH_TRIALS   lag trials (default 20)
#   BENCH_BUILD    debug (default) or release: which build of the desktop app start and memory
#                  measure
#   HEAP_MINUTES   how long the heap part holds the Replicas page in Chromium (default 5)
#   BENCH_BEFORE   the commit the bundle is compared with (default: the last commit of the
#                  hand-built DOM UI, bd85734ec6bb)
# Each part that needs a sandbox starts its own and stops it afterwards.
#
# Output, one line per figure (B = bytes, MB = 2^20 bytes):
#
# bundle (scripts/bench-bundle.sh: BENCH_BEFORE's ui/ built in a temporary git worktree, this
# clone's ui/ built into ui/dist; every dist/assets/*.js and *.css compressed on its own with
# `gzip -9 -c FILE | wc -c`, summed):
#   ui bundle before (<commit>): JS <raw> B, gzip <gz> B (<n> files); CSS <raw> B, gzip <gz> B (<n> files)
#   ui bundle after (<commit>):  the same for this clone's ui/
#   ui bundle gzip after/before: JS <ratio>, CSS <ratio>, JS+CSS <ratio> (gzip -9 per file, summed)
#
# heap (tests/web/heap-replicas.mjs through tests/web/run.sh on a 16-replica sandbox, in
# Chromium through the DevTools protocol): the JS heap after a forced GC, DOM nodes, listeners,
# renderer RSS and busy time at 30 s and every minute on #/replicas, then the constructors whose
# retained size grew most and the functions that allocated most (garbage included); the script's
# header explains each column.
#
# timeline (tests/web/timeline-history.solo.mjs through tests/web/run.sh with HISTORY_COMMITS,
# default 10,000: that many commits by another writer, `skein sandbox history`): the timeline
# in Chromium, zoomed 4×, dragged across its width in 240 pointer moves:
#   history: <n> commits in <s> s (<ms> ms a commit)
#   timeline pan (<n> marks): <k> draws, draw ms p50 … p95 … max …; <k> frames, interval ms p50 …
#       p95 … max …, over 25 ms (a dropped frame at 60 Hz): <k> (goal 0)
#
# lag (tests/web/bench-lag.mjs, web mode in Chromium against `skein serve` on ui/dist): WAL
# replay paused on replica1, a write committed on the primary, the delay until the Overview's
# replica1 badge shows a non-zero byte lag; this clone's UI and `skein serve` on one sandbox,
# first with the profile's `[sampling] interval_ms = 1000`, then 250 (the default):
#   lag change → UI (1000 ms sampling): p50 <s> s, p95 <s> s, max <s> s (<n> trials)
#   lag change → UI (250 ms sampling):  the same (target p95 ≤ 0.5 s)
#
# start (tests/desktop/run.sh, three runs): from the WebDriver session request to the first
# poll that saw the Overview's replica1 and replica2 each with a state word:
# with an app that embeds the before UI (this backend, built once per run: see
# ensure_before_app) and with this clone's, alternated, three runs each:
#   desktop start → Overview rendered (before): median <ms> ms (runs: <ms> <ms> <ms> ms)
#   desktop start → Overview rendered (after):  the same
#   desktop start → Overview rendered after/before: <ratio>
#
# memory (tests/desktop/run.sh): resident memory (VmRSS) of the desktop process tree — the
# skein-desktop process and every process under it (WebKitWebProcess, WebKitNetworkProcess) —
# summed by process name, then in total. RSS counts pages shared between processes once per
# process. The app in the shared target dir embeds the ui/dist it was built with.
#   desktop RSS empty window (no profile open): <MB> MB (skein-desktop <MB> MB, WebKit… <MB> MB, …)
#       the baseline: the app started with no profile, measured 5 s after its first-run
#       profile picker appeared
#   desktop RSS 16 replicas, #/replicas at 30 s: <MB> MB (by process); baseline + <MB> MB (target ≤ +100 MB)
#   desktop PSS …: the same tree's proportional set size (smaps_rollup Pss, summed): a page the
#       app and its web process share (WebKit's and Mesa's libraries) counted once, not twice;
#       printed after each RSS line, the baseline's too; a page shared with a process outside
#       the tree is split with it as well, so run no other WebKit app meanwhile
#   desktop RSS 16 replicas, #/replicas at 10 min: … (when BENCH_MINUTES > 10)
#   desktop RSS 16 replicas, #/replicas at <N> min: …
#       a 16-replica sandbox (no caches), the Overview rendered, then #/replicas kept open and
#       sampled 30 s after it opened and at every whole minute; N = BENCH_MINUTES
#   desktop RSS per minute on #/replicas (MB): 1:<MB> 2:<MB> … N:<MB>
#   desktop RSS growth from minute 10 to minute <N>: <±MB> MB (target < 20 MB)
#       or "n/a (…)" when BENCH_MINUTES ≤ 10
#   desktop #/replicas showed <k> replicas at 30 s, <k> at <N> min
#       distinct replica names in the page's text, a check that the page was drawn
#   desktop RSS 16 replicas, #/replicas at 30 s, before UI: <MB> MB (…); baseline + <MB> MB
#   desktop RSS 16 replicas, #/replicas at <M> min, before UI: …
#       the same hold with the app that embeds the before UI, M = min(N, 10) minutes
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
: "${CARGO_TARGET_DIR:=$HOME/.cache/skein-target}"
export CARGO_TARGET_DIR
skein="$CARGO_TARGET_DIR/debug/skein"
# BENCH_BUILD=release measures the desktop app as users run it (`cargo build --release -p
# skein-desktop`, built here when missing); the default is the debug build `make build` makes.
build="${BENCH_BUILD:-debug}"
case $build in
  debug) cargo_profile=() ;;
  release) cargo_profile=(--release) ;;
  *) echo "BENCH_BUILD must be debug or release, not '$build'" >&2; exit 2 ;;
esac
desktop="$CARGO_TARGET_DIR/$build/skein-desktop"
if [ "$build" = release ] && [ ! -x "$desktop" ]; then cargo build -q --release -p skein-desktop; fi
parts="${BENCH_PARTS:-bundle lag start memory heap timeline}"
minutes="${BENCH_MINUTES:-10}"
[ "${BENCH_LONG:-0}" = 1 ] && minutes=60
case $minutes in
  '' | *[!0-9]* | 0) echo "BENCH_MINUTES must be a whole number of minutes above 0, not '$minutes'" >&2; exit 2 ;;
esac
for part in $parts; do
  case $part in bundle | lag | start | memory | heap | timeline) ;; *)
    echo "BENCH_PARTS: unknown part '$part' (the parts: bundle lag start memory heap timeline)" >&2; exit 2 ;;
  esac
done
wants() { [[ " $parts " == *" $1 "* ]]; }
need() { [ -x "$1" ] || { echo "no binary at $1 (build it: make build)" >&2; exit 2; }; }
if wants lag || wants start || wants memory; then need "$skein"; fi
if wants start || wants memory; then need "$desktop"; fi

port_of() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print([n["port"] for n in d["nodes"] if n["name"]==sys.argv[2]][0])' "$1" "$2"; }

# Whatever this run started, stopped on any exit. What the sandboxes and npm say goes to
# $setup_log, shown when the run stops on an error.
serve_pid=""
sandboxes=()
setup_log=$(mktemp -t skein-bench-setup.XXXXXX.log)
cleanup() {
  local status=$? d
  [ -n "$serve_pid" ] && kill "$serve_pid" 2>/dev/null || true
  for d in "${sandboxes[@]}"; do "$skein" sandbox down --dir "$d" >>"$setup_log" 2>&1 || true; done
  if [ "$status" != 0 ]; then
    echo "--- sandbox and npm output (last 40 lines of $setup_log) ---" >&2
    tail -n 40 "$setup_log" >&2
  else
    rm -f "$setup_log"
  fi
}
trap cleanup EXIT
sandbox_down() {
  "$skein" sandbox down --dir "$1" >>"$setup_log" 2>&1
  local d keep=()
  for d in "${sandboxes[@]}"; do [ "$d" = "$1" ] || keep+=("$d"); done
  sandboxes=("${keep[@]}")
}

# The before UI (scripts/bench-bundle.sh keeps its dist) and a desktop app that embeds it,
# built once per run: ui/dist swapped for the before dist, `cargo build -p skein-desktop`, the
# binary copied to $bench_cache/skein-desktop-before, ui/dist put back (its files touched so
# that cargo embeds them again) and the app rebuilt. Each answers 1 when it could not.
bench_cache="${BENCH_CACHE:-$HOME/.cache/skein-bench}"
before_dist="$bench_cache/before-dist"
before_app="$bench_cache/skein-desktop-before-$build"
before_app_built=0
ensure_before_dist() {
  [ -f "$before_dist/index.html" ] || bash "$root/scripts/bench-bundle.sh" >>"$setup_log" 2>&1 || return 1
  [ -f "$before_dist/index.html" ]
}
ensure_before_app() {
  [ "$before_app_built" = 1 ] && return 0
  ensure_before_dist || return 1
  [ -f "$root/ui/dist/index.html" ] || (cd "$root/ui" && npm run --silent build >>"$setup_log" 2>&1) || return 1
  local keep ok=0
  keep="$(mktemp -d)"
  mv "$root/ui/dist" "$keep/dist"
  cp -r "$before_dist" "$root/ui/dist"
  if cargo build -q "${cargo_profile[@]}" -p skein-desktop >>"$setup_log" 2>&1 && cp "$desktop" "$before_app"; then ok=1; fi
  rm -rf "$root/ui/dist"
  mv "$keep/dist" "$root/ui/dist"
  rmdir "$keep"
  find "$root/ui/dist" -type f -exec touch {} +
  cargo build -q "${cargo_profile[@]}" -p skein-desktop >>"$setup_log" 2>&1 || return 1
  # The app now embeds this clone's UI again, not the before one.
  if cmp -s "$desktop" "$before_app"; then echo "the rebuilt app still embeds the before UI" >>"$setup_log"; return 1; fi
  [ "$ok" = 1 ] && before_app_built=1
  [ "$ok" = 1 ]
}

# Bundle size before and after; also builds the ui/dist the lag part serves.
if wants bundle; then
  bash "$root/scripts/bench-bundle.sh"
fi

# Lag change → UI delay, in web mode: the before UI, then this clone's, on one sandbox.
if wants lag; then
  [ -f "$root/ui/dist/index.html" ] || { echo "no ui/dist (build it: make ui)" >&2; exit 2; }
  [ -d "$root/tests/web/node_modules/playwright-core" ] || (cd "$root/tests/web" && npm ci --no-audit --no-fund --loglevel=error >>"$setup_log" 2>&1)
  dir=/tmp/skein-bench-web-$$
  sandboxes+=("$dir")
  "$skein" sandbox up --dir "$dir" --scale 0.01 --json >"$dir.json" 2>>"$setup_log"
  # This clone's UI and backend, sampling once a second (the period before 250 ms became the
  # default), then every 250 ms: the same profile with its [sampling] table set.
  for every in 1000 250; do
    if grep -q '^interval_ms' "$dir/profile.toml"; then
      sed "s/^interval_ms = .*/interval_ms = $every/" "$dir/profile.toml" >"$dir/profile-$every.toml"
    else
      { cat "$dir/profile.toml"; printf '\n[sampling]\ninterval_ms = %s\n' "$every"; } >"$dir/profile-$every.toml"
    fi
    token="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    SKEIN_CONFIG_DIR="$dir/config" "$skein" serve --profile "$dir/profile-$every.toml" --bind 127.0.0.1:0 \
      --token "$token" --ui-dir "$root/ui/dist" >"$dir/serve.log" 2>&1 &
    serve_pid=$!
    for _ in $(seq 1 100); do grep -q http "$dir/serve.log" && break; sleep 0.1; done
    BENCH_LABEL="$every ms sampling" SKEIN_URL="$(grep -o 'http://[^ ]*' "$dir/serve.log" | head -1)" \
    PGPASSFILE="$dir/pgpass" PRIMARY_PORT="$(port_of "$dir.json" primary)" REPLICA1_PORT="$(port_of "$dir.json" replica1)" \
      node "$root/tests/web/bench-lag.mjs" || echo "lag change → UI ($every ms sampling): the run failed"
    kill "$serve_pid" 2>/dev/null || true
    wait "$serve_pid" 2>/dev/null || true
    serve_pid=""
  done
  sandbox_down "$dir"
  rm -f "$dir.json"
fi

# Desktop start → first rendered Overview: the app with the before UI and this clone's,
# alternated, three runs each.
if wants start; then
  dir=/tmp/skein-bench-desktop-$$
  sandboxes+=("$dir")
  "$skein" sandbox up --dir "$dir" --scale 0.01 >>"$setup_log" 2>&1
  apps=()
  if ensure_before_app; then apps+=("before:$before_app"); else echo "desktop start → Overview rendered (before): not measured (no before app built; $setup_log)"; fi
  apps+=("after:$desktop")
  declare -A times=()
  for _ in 1 2 3; do
    for a in "${apps[@]}"; do
      line="$(SKEIN_DESKTOP_BIN="${a#*:}" SKEIN_DESKTOP_PROFILE="$dir/profile.toml" bash "$root/tests/desktop/run.sh" 2>&1 | grep -o 'overview rendered in [0-9]* ms' || true)"
      [ -n "$line" ] && times[${a%%:*}]+="$(echo "$line" | grep -o '[0-9]*' | head -1) "
    done
  done
  medians=()
  for a in "${apps[@]}"; do
    k=${a%%:*}
    if [ -n "${times[$k]:-}" ]; then
      median="$(printf '%s\n' ${times[$k]} | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
      medians+=("$median")
      echo "desktop start → Overview rendered ($k): median ${median} ms (runs: ${times[$k]% } ms)"
    else
      echo "desktop start → Overview rendered ($k): no run succeeded (see tests/desktop/run.sh)"
    fi
  done
  if [ "${#medians[@]}" = 2 ]; then
    awk -v b="${medians[0]}" -v a="${medians[1]}" 'BEGIN { printf "desktop start → Overview rendered after/before: %.2f\n", a / b }'
  fi
  sandbox_down "$dir"
fi

# Desktop memory: the empty window, then 16 replicas on the Replicas page for $minutes minutes.
if wants memory; then
  # The runs' output stays in $log when a figure is missing.
  log=$(mktemp -t skein-bench-memory.XXXXXX.log)
  missing=0
  # A line of webdriver.mjs "desktop: RSS <label>: <MB> MB (<by process>)" as "<MB> <by process>".
  rss_of() { sed -n "s/^desktop: RSS $1: \([0-9]*\) MB (\(.*\))\$/\1 \2/p" "$log" | tail -n 1; }
  pss_of() { sed -n "s/^desktop: PSS $1: \([0-9]*\) MB (\(.*\))\$/\1 \2/p" "$log" | tail -n 1; }
  why() {
    local failed
    failed="$(grep FAILED "$log" | tail -n 1 || true)"
    echo "${failed:-no such line in the output} (output kept in $log)"
  }

  SKEIN_DESKTOP_NO_PROFILE=1 SKEIN_DESKTOP_SETTLE_MS=5000 SKEIN_DESKTOP_SCREENSHOT=/tmp/skein-bench-empty.png \
    bash "$root/tests/desktop/run.sh" >"$log" 2>&1 || true
  echo "--- 16 replicas ---" >>"$log"
  base="$(rss_of 'empty window (no profile open)')"
  if [ -n "$base" ]; then
    base_mb=${base%% *}
    echo "desktop RSS empty window (no profile open): ${base_mb} MB (${base#* })"
    base_pss="$(pss_of 'empty window (no profile open)')"
    base_pss_mb=${base_pss%% *}
    [ -n "$base_pss" ] && echo "desktop PSS empty window (no profile open): ${base_pss_mb} MB (${base_pss#* })"
  else
    base_mb=""
    missing=1; echo "desktop RSS empty window (no profile open): not measured: $(why)"
  fi

  dir=/tmp/skein-bench-16-$$
  sandboxes+=("$dir")
  "$skein" sandbox up --dir "$dir" --replicas 16 --scale 0.01 --no-caches >>"$setup_log" 2>&1
  echo "(holding #/replicas for $minutes min…)" >&2
  SKEIN_DESKTOP_PROFILE="$dir/profile.toml" SKEIN_DESKTOP_HOLD_MINUTES="$minutes" SKEIN_DESKTOP_TIMEOUT_MS=120000 \
    SKEIN_DESKTOP_SCREENSHOT=/tmp/skein-bench-16.png bash "$root/tests/desktop/run.sh" >>"$log" 2>&1 || true
  # The same hold with the before UI, at most 10 minutes, on the same sandbox.
  before_minutes=$((minutes < 10 ? minutes : 10))
  before_log=$(mktemp -t skein-bench-memory-before.XXXXXX.log)
  if ensure_before_app; then
    echo "(holding #/replicas for $before_minutes min with the before UI…)" >&2
    SKEIN_DESKTOP_BIN="$before_app" SKEIN_DESKTOP_PROFILE="$dir/profile.toml" SKEIN_DESKTOP_HOLD_MINUTES="$before_minutes" \
      SKEIN_DESKTOP_TIMEOUT_MS=120000 SKEIN_DESKTOP_SCREENSHOT=/tmp/skein-bench-16-before.png \
      bash "$root/tests/desktop/run.sh" >"$before_log" 2>&1 || true
  fi
  sandbox_down "$dir"

  against() { # total MB → "; baseline + <d> MB (target ≤ +100 MB)"
    if [ -n "$base_mb" ]; then printf '; baseline + %d MB (target ≤ +100 MB)' $(($1 - base_mb)); fi
  }
  shown_at() {
    local k
    k="$(sed -n "s/^desktop: #\/replicas shows \([0-9]*\) replicas $1\$/\1/p" "$log" | tail -n 1)"
    echo "${k:-?}"
  }
  marks=("30 s")
  if [ "$minutes" -gt 10 ]; then marks+=("10 min"); fi
  marks+=("$minutes min")
  for mark in "${marks[@]}"; do
    got="$(rss_of "at $mark on #\/replicas")"
    if [ -n "$got" ]; then
      echo "desktop RSS 16 replicas, #/replicas at $mark: ${got%% *} MB (${got#* })$(against "${got%% *}")"
      pss="$(pss_of "at $mark on #\/replicas")"
      if [ -n "$pss" ] && [ -n "${base_pss_mb:-}" ]; then
        echo "desktop PSS 16 replicas, #/replicas at $mark: ${pss%% *} MB (${pss#* }); baseline + $((${pss%% *} - base_pss_mb)) MB"
      fi
    else
      missing=1; echo "desktop RSS 16 replicas, #/replicas at $mark: not measured: $(why)"
    fi
  done
  per_minute="$(sed -n 's/^desktop: RSS at \([0-9]*\) min on #\/replicas: \([0-9]*\) MB .*/\1:\2/p' "$log" | paste -sd ' ')"
  echo "desktop RSS per minute on #/replicas (MB): ${per_minute:-none}"
  if [ "$minutes" -gt 10 ]; then
    m10="$(rss_of 'at 10 min on #\/replicas')"
    end="$(rss_of "at $minutes min on #\/replicas")"
    if [ -n "$m10" ] && [ -n "$end" ]; then
      printf 'desktop RSS growth from minute 10 to minute %d: %+d MB (target < 20 MB)\n' "$minutes" $((${end%% *} - ${m10%% *}))
    else
      missing=1; echo "desktop RSS growth from minute 10 to minute $minutes: not measured: $(why)"
    fi
  else
    echo "desktop RSS growth from minute 10: n/a (BENCH_MINUTES=$minutes; BENCH_LONG=1 holds 60 min)"
  fi
  echo "desktop #/replicas showed $(shown_at 'at 30 s') replicas at 30 s, $(shown_at "at $minutes min") at $minutes min"
  for mark in "30 s" "$before_minutes min"; do
    got="$(sed -n "s/^desktop: RSS at $mark on #\/replicas: \([0-9]*\) MB (\(.*\))\$/\1 \2/p" "$before_log" | tail -n 1)"
    if [ -n "$got" ]; then
      echo "desktop RSS 16 replicas, #/replicas at $mark, before UI: ${got%% *} MB (${got#* })$(against "${got%% *}")"
    else
      missing=1; echo "desktop RSS 16 replicas, #/replicas at $mark, before UI: not measured (output kept in $before_log)"
    fi
  done
  [ "$missing" = 0 ] && rm -f "$before_log"
  if [ "$missing" = 0 ]; then rm -f "$log"; fi
fi

if wants heap; then
  need "$skein"
  echo "heap: #/replicas of a 16-replica sandbox in Chromium for ${HEAP_MINUTES:-5} min (tests/web/heap-replicas.mjs)"
  SKEIN_SANDBOX_ARGS='--replicas 16 --no-caches' HEAP_MINUTES="${HEAP_MINUTES:-5}" bash "$root/tests/web/run.sh" heap-replicas.mjs
fi

if wants timeline; then
  need "$skein"
  echo "timeline: ${HISTORY_COMMITS:-10000} commits, then a pan in Chromium (tests/web/timeline-history.solo.mjs)"
  HISTORY_COMMITS="${HISTORY_COMMITS:-10000}" bash "$root/tests/web/run.sh" --test --test-reporter=spec timeline-history.solo.mjs
fi

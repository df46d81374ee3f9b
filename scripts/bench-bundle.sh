#!/usr/bin/env bash
# UI bundle size, before and after the move to Svelte 5, built in the same run. Prints figures,
# asserts nothing. Called by scripts/bench-console.sh; runs alone too:
#
#   scripts/bench-bundle.sh
#
# "Before" is the last commit of the hand-built DOM UI (BENCH_BEFORE, default bd85734ec6bb…).
# Its ui/ is checked out in a temporary `git worktree` under $BENCH_CACHE (default
# ~/.cache/skein-bench), built with its own `npm run build` against a node_modules kept in
# $BENCH_CACHE (installed once with `npm ci`, reused while its package-lock.json is the same),
# and the worktree is removed again (directory and registration); its dist/ is kept as
# $BENCH_CACHE/before-dist for the lag and start parts of scripts/bench-console.sh. "After" is this clone's
# ui/, built with `npm run build` into ui/dist (`npm ci` first when ui/node_modules is missing),
# which is also the ui/dist the rest of the console benchmark serves.
#
# Sizes: every file of dist/assets/ ending in .js (JS) or .css (CSS), each compressed on its
# own with `gzip -9 -c FILE | wc -c` (as a server sends it), summed. Output:
#
#   ui bundle before (bd85734ec6bb): JS <raw> B, gzip <gz> B (<n> files); CSS <raw> B, gzip <gz> B (<n> files)
#   ui bundle after (<HEAD short>):  JS <raw> B, gzip <gz> B (<n> files); CSS <raw> B, gzip <gz> B (<n> files)
#   ui bundle gzip after/before: JS <ratio>, CSS <ratio>, JS+CSS <ratio> (gzip -9 per file, summed)
#   ui first load JS (index.html: script + modulepreloads), gzip: before <gz> B (<n> files), after <gz> B (<n> files), after/before <ratio>
#
# Pages other than the Overview are chunks loaded when first shown, so the first load is what a
# window fetches and parses before its first page; the bundle is every chunk.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
before="${BENCH_BEFORE:-bd85734ec6bbb3de68ee378c5ad917a26e38ad05}"
cache="${BENCH_CACHE:-$HOME/.cache/skein-bench}"
src="$cache/before-src"
npm_quiet=(--no-audit --no-fund --loglevel=error)
mkdir -p "$cache"

# Sums over one dist/assets directory: "<js raw> <js gzip> <js files> <css raw> <css gzip> <css files>".
sizes() {
  local dir="$1" ext f raw gz n out=()
  for ext in js css; do
    raw=0 gz=0 n=0
    for f in "$dir"/*."$ext"; do
      [ -f "$f" ] || continue
      raw=$((raw + $(wc -c <"$f")))
      gz=$((gz + $(gzip -9 -c "$f" | wc -c)))
      n=$((n + 1))
    done
    out+=("$raw" "$gz" "$n")
  done
  echo "${out[*]}"
}
# Gzip bytes of the JS a first page needs: the scripts and modulepreloads dist/index.html names
# (the pages loaded later are chunks of their own). "<gzip> <files>".
first_load() {
  local dist="$1" f gz=0 n=0
  for f in $(grep -oE '(src|href)="\./assets/[^"]+\.js"' "$dist/index.html" | sed -E 's/.*"\.\/(.*)"/\1/'); do
    gz=$((gz + $(gzip -9 -c "$dist/$f" | wc -c)))
    n=$((n + 1))
  done
  echo "$gz $n"
}
line() { # label, then the six numbers of sizes()
  printf 'ui bundle %s: JS %s B, gzip %s B (%s files); CSS %s B, gzip %s B (%s files)\n' "$@"
}

drop_worktree() {
  if [ -d "$src" ] || git -C "$root" worktree list --porcelain | grep -qx "worktree $src"; then
    rm -f "$src/ui/node_modules"
    git -C "$root" worktree remove --force "$src" 2>/dev/null || rm -rf "$src"
  fi
  git -C "$root" worktree prune
}
trap drop_worktree EXIT

# Before: a temporary worktree at the commit, its node_modules from the cache.
drop_worktree # a worktree left by an interrupted run
git -C "$root" worktree add --detach --quiet "$src" "$before"
lock_sum="$(sha256sum "$src/ui/package-lock.json" | cut -c1-16)"
# The cached directory is itself named node_modules: packages resolve their dependencies from
# their real path (TypeScript 7 finds its platform binary that way).
modules="$cache/before-deps/node_modules"
if [ "$(cat "$cache/before-deps/lock.sha256" 2>/dev/null || true)" != "$lock_sum" ]; then
  rm -rf "$cache/before-deps"
  (cd "$src/ui" && npm ci "${npm_quiet[@]}" >/dev/null)
  mkdir -p "$cache/before-deps"
  mv "$src/ui/node_modules" "$modules"
  echo "$lock_sum" >"$cache/before-deps/lock.sha256"
fi
ln -s "$modules" "$src/ui/node_modules"
(cd "$src/ui" && npm run --silent build >"$cache/before-build.log" 2>&1) || {
  echo "ui bundle before: the build failed (log: $cache/before-build.log)" >&2
  exit 1
}
read -r -a b <<<"$(sizes "$src/ui/dist/assets")"
read -r -a bf <<<"$(first_load "$src/ui/dist")"
# The before UI stays built for the rest of the console benchmark (lag and start, before/after).
rm -rf "$cache/before-dist"
cp -r "$src/ui/dist" "$cache/before-dist"
drop_worktree
trap - EXIT

# After: this clone's ui/.
[ -d "$root/ui/node_modules" ] || (cd "$root/ui" && npm ci "${npm_quiet[@]}" >/dev/null)
(cd "$root/ui" && npm run --silent build >"$cache/after-build.log" 2>&1) || {
  echo "ui bundle after: the build failed (log: $cache/after-build.log)" >&2
  exit 1
}
read -r -a a <<<"$(sizes "$root/ui/dist/assets")"
read -r -a af <<<"$(first_load "$root/ui/dist")"

line "before (${before:0:12})" "${b[@]}"
line "after ($(git -C "$root" rev-parse --short=12 HEAD)$(git -C "$root" diff --quiet HEAD -- ui || echo ', ui/ modified'))" "${a[@]}"
awk -v bj="${b[1]}" -v bc="${b[4]}" -v aj="${a[1]}" -v ac="${a[4]}" '
function ratio(x, y) { return y > 0 ? sprintf("%.2f", x / y) : "n/a" }
BEGIN {
  printf "ui bundle gzip after/before: JS %s, CSS %s, JS+CSS %s (gzip -9 per file, summed)\n", ratio(aj, bj), ratio(ac, bc), ratio(aj + ac, bj + bc)
}'
awk -v b="${bf[0]}" -v bn="${bf[1]}" -v a="${af[0]}" -v an="${af[1]}" 'BEGIN {
  printf "ui first load JS (index.html: script + modulepreloads), gzip: before %d B (%d files), after %d B (%d files), after/before %.2f\n", b, bn, a, an, (b > 0 ? a / b : 0)
}'

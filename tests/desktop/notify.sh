#!/usr/bin/env bash
# Desktop notifications of alerts: the real skein-desktop binary on a sandbox of its own whose
# profile fires `slot_retained` at 1 MiB after one sample, in a virtual X display with a private
# D-Bus session, a real notification server (dunst) and dbus-monitor watching
# org.freedesktop.Notifications. A slot created on the primary and left inactive while the
# primary writes must reach the desktop as a Notify call naming the rule, the subject and what
# it retains; then the app, the daemons and the sandbox are stopped by pid.
#
#   tests/desktop/notify.sh     prints `notify: ok` or `notify: FAILED: …` (exit 1)
set -euo pipefail

say() { printf 'notify: %s\n' "$*"; }
die() { printf 'notify: FAILED: %s\n' "$*" >&2; exit 1; }

export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/skein-target}
app=${SKEIN_DESKTOP_BIN:-$CARGO_TARGET_DIR/debug/skein-desktop}
skein=${SKEIN_BIN:-$CARGO_TARGET_DIR/debug/skein}

if [ -z "${SKEIN_NOTIFY_INSIDE:-}" ]; then
  [ -x "$app" ] || die "no app at $app (cargo build -p skein-desktop)"
  for tool in xvfb-run dbus-run-session dunst dbus-monitor psql; do
    command -v "$tool" >/dev/null || die "$tool is missing (scripts/setup.sh installs it)"
  done
  # Readable by the postgres user the sandbox runs its servers as.
  dir=/tmp/skein-notify-$$
  mkdir -p "$dir" && chmod 755 "$dir"
  trap '"$skein" sandbox down --dir "$dir/sandbox" >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
  "$skein" sandbox up --dir "$dir/sandbox" --replicas 1 --scale 0 --no-caches >/dev/null
  profile="$dir/sandbox/profile.toml"
  sed -i -e 's/^fire_after = .*/fire_after = 1/' -e 's/^slot_retained_bytes = .*/slot_retained_bytes = 1048576/' "$profile"
  grep -q '^fire_after = 1$' "$profile" || die "the profile has no [alerts] fire_after to edit"
  port=$(grep -o 'port=[0-9]*' "$profile" | head -n 1 | cut -d= -f2)
  SKEIN_NOTIFY_INSIDE=1 NOTIFY_DIR=$dir NOTIFY_PROFILE=$profile NOTIFY_PORT=$port \
    xvfb-run -a -s "-screen 0 1600x1000x24" dbus-run-session -- bash "${BASH_SOURCE[0]}"
  exit $?
fi

# Inside the display and the session bus.
pids=()
stop() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap stop EXIT
dunst >"$NOTIFY_DIR/dunst.log" 2>&1 &
pids+=($!)
dbus-monitor "interface='org.freedesktop.Notifications',member='Notify'" >"$NOTIFY_DIR/monitor.log" 2>&1 &
pids+=($!)
sleep 1
SKEIN_STATE_DIR="$NOTIFY_DIR/state" SKEIN_CONFIG_DIR="$NOTIFY_DIR/config" PGPASSFILE="$NOTIFY_DIR/sandbox/pgpass" \
  "$app" "$NOTIFY_PROFILE" >"$NOTIFY_DIR/app.log" 2>&1 &
pids+=($!)
sleep 6
PGPASSFILE="$NOTIFY_DIR/sandbox/pgpass" psql -X -q -h 127.0.0.1 -p "$NOTIFY_PORT" -U postgres -d tpch \
  -c "SELECT pg_create_physical_replication_slot('forgotten', true)" \
  -c "CREATE TABLE filler AS SELECT g, repeat(md5(g::text), 8) AS pad FROM generate_series(1, 20000) g" >/dev/null
for _ in $(seq 1 60); do
  if grep -q 'string "Skein: slot_retained on slot forgotten on primary"' "$NOTIFY_DIR/monitor.log"; then
    grep -A1 'string "Skein: slot_retained on slot forgotten on primary"' "$NOTIFY_DIR/monitor.log" | tail -n 1 | grep -q 'retains .* of WAL (alert at 1.0 MiB)' \
      || die "the notification's body does not say what the slot retains: $(cat "$NOTIFY_DIR/monitor.log")"
    say "ok (a Notify call reached the desktop's notification server)"
    exit 0
  fi
  sleep 0.5
done
die "no desktop notification within 30 s; app log: $(tail -n 20 "$NOTIFY_DIR/app.log"); monitor: $(cat "$NOTIFY_DIR/monitor.log")"

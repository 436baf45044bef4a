#!/usr/bin/env bash
# Runs a command inside a throwaway desktop: a private X display (Xvfb), a
# Secret Service (gnome-keyring), a notification daemon (dunst) and
# tauri-driver, with HOME, XDG dirs and TMPDIR in a fresh directory. Stops
# everything it started, whatever happens. Run it under its own D-Bus
# session, so helpers that D-Bus activates end with it:
#
#   dbus-run-session -- scripts/with-desktop.sh COMMAND...
#
# COMMAND sees: DISPLAY, WEBDRIVER_URL, KEYWARD_DESKTOP_DIR (the throwaway
# directory: home/, data/, cache/, config/, tmp/, vault/), KEYWARD_VAULT.
set -euo pipefail

if [ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ]; then
  echo "with-desktop: run under dbus-run-session" >&2
  exit 2
fi

driver=$(command -v tauri-driver || echo "${CARGO_HOME:-$HOME/.cargo}/bin/tauri-driver")
work=$(mktemp -d "${TMPDIR:-/tmp}/keyward-desktop.XXXXXX")
pids=()
cleanup() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local limit=$1 what=$2; shift 2
  for ((i = 0; i < limit * 10; i++)); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "with-desktop: $what did not come up" >&2
  return 1
}

mkdir -p "$work"/{home,data,cache,config,tmp,runtime}
chmod 700 "$work/runtime"
export HOME="$work/home" XDG_DATA_HOME="$work/data" XDG_CACHE_HOME="$work/cache" \
  XDG_CONFIG_HOME="$work/config" XDG_RUNTIME_DIR="$work/runtime" TMPDIR="$work/tmp" \
  KEYWARD_DESKTOP_DIR="$work" KEYWARD_VAULT="$work/vault"
export NO_AT_BRIDGE=1

# A file manager stand-in: with no FileManager1 service on this bus, "Reveal
# in file manager" falls back to xdg-open on the file's folder; this one
# records the folder it was asked to open.
mkdir -p "$work/bin"
printf '#!/bin/sh\nprintf "%%s\\n" "$1" >> "$KEYWARD_DESKTOP_DIR/opened"\n' > "$work/bin/xdg-open"
chmod +x "$work/bin/xdg-open"
export PATH="$work/bin:$PATH"

# A free display, chosen by Xvfb itself.
Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$work/display" 2>"$work/xvfb.log" &
pids+=($!)
wait_for 10 "Xvfb" test -s "$work/display"
export DISPLAY=":$(cat "$work/display")"

# Secret Service, unlocked with a throwaway password.
eval "$(printf 'keyward-test' | gnome-keyring-daemon --unlock --components=secrets --daemonize 2>/dev/null)" || true
[ -n "${GNOME_KEYRING_PID:-}" ] && pids+=("$GNOME_KEYRING_PID")

dunst >"$work/dunst.log" 2>&1 &
pids+=($!)
wait_for 10 "the notification daemon" dbus-send --session --print-reply --dest=org.freedesktop.DBus \
  /org/freedesktop/DBus org.freedesktop.DBus.GetNameOwner string:org.freedesktop.Notifications

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(free_port)
native=$(free_port)
"$driver" --port "$port" --native-port "$native" >"$work/tauri-driver.log" 2>&1 &
pids+=($!)
wait_for 15 "tauri-driver" python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)"
export WEBDRIVER_URL="http://127.0.0.1:$port"

"$@"

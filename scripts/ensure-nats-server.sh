#!/usr/bin/env bash
# Makes sure a `nats-server` with JetStream is installed for the NATS tests, benchmark and example
# (test/nats, bench/nats.mjs, examples/distributed), and prints its path. Idempotent: does nothing
# when it is already there. On Debian/Ubuntu it installs the distribution's `nats-server` package
# with apt-get, non-interactively (CI runs as root with no stdin). The package does not start a
# service in a container: every caller starts its own server, on a free loopback port, with
# JetStream in a temporary directory (test/support/nats.ts).
#
# RXP_NATS_SERVER=/path/to/nats-server uses another build (e.g. on macOS) and installs nothing.
set -euo pipefail

fail() {
  echo "ensure-nats-server: $*" >&2
  echo "ensure-nats-server: install nats-server yourself (Debian: apt-get install -y nats-server)," >&2
  echo "ensure-nats-server: or point RXP_NATS_SERVER at one." >&2
  exit 1
}

if [[ -n "${RXP_NATS_SERVER:-}" ]]; then
  [[ -x "$RXP_NATS_SERVER" ]] || fail "RXP_NATS_SERVER=$RXP_NATS_SERVER is not an executable file"
  echo "$RXP_NATS_SERVER"
  exit 0
fi

# Debian installs it in /usr/sbin, which is not on every user's PATH.
find_server() { command -v nats-server 2>/dev/null || { [[ -x /usr/sbin/nats-server ]] && echo /usr/sbin/nats-server; } || true; }

found="$(find_server)"
if [[ -n "$found" ]]; then
  echo "$found"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || fail "nats-server is missing and apt-get is not available to install it"

if [[ "$(id -u)" -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  fail "nats-server is missing and installing it needs root (or password-less sudo)"
fi

echo "ensure-nats-server: nats-server is missing; installing Debian's nats-server package" >&2
# Wait for a dpkg lock held by another apt-get (e.g. the Chromium install of the browser test, which
# may run at the same time) instead of failing at once.
apt_opts=(-o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
# Output goes to stderr: stdout carries only the path, for callers that read it.
${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update </dev/null >&2 \
  || fail "apt-get update failed (see above)"
${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y --no-install-recommends nats-server </dev/null >&2 \
  || fail "apt-get install -y nats-server failed (see above)"

found="$(find_server)"
[[ -n "$found" ]] || fail "apt-get installed nats-server but it is not on PATH nor in /usr/sbin"
echo "$found"

#!/usr/bin/env bash
# Makes sure a headless-capable Chromium is installed for the browser test (test/browser), and
# prints its path. Idempotent: does nothing when it is already there. On Debian/Ubuntu it installs
# the distribution's `chromium` package with apt-get, non-interactively (CI runs as root with no
# stdin). `npx playwright install` is not used: it downloads browsers from a CDN, which may be
# unreachable, and the Debian build is the one the test is known to work with.
#
# RXP_CHROMIUM_PATH=/path/to/chromium uses another Chromium (e.g. on macOS) and installs nothing.
set -euo pipefail

fail() {
  echo "ensure-chromium: $*" >&2
  echo "ensure-chromium: install Chromium yourself (Debian: apt-get install -y chromium)," >&2
  echo "ensure-chromium: point RXP_CHROMIUM_PATH at one, or skip the browser test with RXP_SKIP_BROWSER=1." >&2
  exit 1
}

if [[ -n "${RXP_CHROMIUM_PATH:-}" ]]; then
  [[ -x "$RXP_CHROMIUM_PATH" ]] || fail "RXP_CHROMIUM_PATH=$RXP_CHROMIUM_PATH is not an executable file"
  echo "$RXP_CHROMIUM_PATH"
  exit 0
fi

chromium=/usr/bin/chromium
if [[ -x "$chromium" ]]; then
  echo "$chromium"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || fail "$chromium is missing and apt-get is not available to install it"

if [[ "$(id -u)" -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  fail "$chromium is missing and installing it needs root (or password-less sudo)"
fi

echo "ensure-chromium: $chromium is missing; installing Debian's chromium package (this takes a while)" >&2
export DEBIAN_FRONTEND=noninteractive
# Wait for a dpkg lock held by another apt-get (e.g. a parallel CI step) instead of failing at once.
apt_opts=(-o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
# Output goes to stderr: stdout carries only the path, for callers that read it.
${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" update </dev/null >&2 \
  || fail "apt-get update failed (see above)"
${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get "${apt_opts[@]}" install -y chromium </dev/null >&2 \
  || fail "apt-get install -y chromium failed (see above)"

[[ -x "$chromium" ]] || fail "apt-get installed chromium but $chromium is still missing"
echo "$chromium"

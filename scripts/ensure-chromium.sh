#!/usr/bin/env bash
# Makes sure a Chromium is installed for the viz report's browser test
# (packages/viz/test/report.e2e.test.ts): when GRADGRAPH_CHROMIUM (default /usr/bin/chromium) is
# missing, installs Debian's `chromium` package with apt-get, non-interactively, as root (or with
# passwordless sudo). Idempotent; silent when Chromium is already there, one line when it installed
# it; exits non-zero with a message (and the end of apt's log) when it cannot.
set -euo pipefail

chromium=${GRADGRAPH_CHROMIUM:-/usr/bin/chromium}
[ -x "$chromium" ] && exit 0

fail() {
  echo "ensure-chromium: $*" >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 ||
  fail "$chromium is missing and there is no apt-get to install Debian's chromium; install Chromium and set GRADGRAPH_CHROMIUM to its path"

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  fail "$chromium is missing and installing it needs root: run this script as root or with passwordless sudo"
fi

log=$(mktemp "${TMPDIR:-/tmp}/ensure-chromium.XXXXXX")
trap 'rm -f "$log"' EXIT
apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300)
if ! "${apt[@]}" update </dev/null >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  fail "apt-get update failed (see above); cannot install chromium"
fi
if ! "${apt[@]}" install chromium </dev/null >>"$log" 2>&1; then
  tail -n 20 "$log" >&2
  fail "apt-get install chromium failed (see above)"
fi
[ -x "$chromium" ] ||
  fail "installed Debian's chromium, but $chromium is still missing (is GRADGRAPH_CHROMIUM set to another path?)"
echo "ensure-chromium: installed $("$chromium" --version 2>/dev/null | head -n 1 || echo chromium)"

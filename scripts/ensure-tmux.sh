#!/usr/bin/env bash
# Makes sure tmux is installed for the progress bar's terminal test
# (apps/spiral/test/progress-tmux.test.ts): when `tmux` is not on the PATH, installs Debian's
# `tmux` package with apt-get, non-interactively, as root (or with passwordless sudo). Idempotent;
# silent when tmux is already there, one line when it installed it; exits non-zero with a message
# (and the end of apt's log) when it cannot.
set -euo pipefail

command -v tmux >/dev/null 2>&1 && exit 0

fail() {
  echo "ensure-tmux: $*" >&2
  exit 1
}

command -v apt-get >/dev/null 2>&1 ||
  fail "tmux is missing and there is no apt-get to install Debian's tmux; install tmux"

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root=(sudo -n)
else
  fail "tmux is missing and installing it needs root: run this script as root or with passwordless sudo"
fi

log=$(mktemp "${TMPDIR:-/tmp}/ensure-tmux.XXXXXX")
trap 'rm -f "$log"' EXIT
apt=("${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=300)
if ! "${apt[@]}" update </dev/null >"$log" 2>&1; then
  tail -n 20 "$log" >&2
  fail "apt-get update failed (see above); cannot install tmux"
fi
if ! "${apt[@]}" install --no-install-recommends tmux </dev/null >>"$log" 2>&1; then
  tail -n 20 "$log" >&2
  fail "apt-get install tmux failed (see above)"
fi
command -v tmux >/dev/null 2>&1 || fail "installed Debian's tmux, but tmux is still not on the PATH"
echo "ensure-tmux: installed $(tmux -V)"

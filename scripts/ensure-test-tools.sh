#!/usr/bin/env bash
# Installs the system tools the end-to-end tests drive (tmux for `dash watch`, socat as a
# foreign protocol client) when they are missing. Needs root or passwordless sudo for apt;
# otherwise it says what is missing and the tests that need it fail loudly.
set -u
missing=()
for tool in tmux socat; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "ensure-test-tools: missing ${missing[*]} and not root; install them first" >&2; exit 0
  fi
fi
if command -v apt-get >/dev/null 2>&1; then
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
    || echo "ensure-test-tools: apt-get install ${missing[*]} failed" >&2
else
  echo "ensure-test-tools: missing ${missing[*]} and no apt-get; install them first" >&2
fi
exit 0

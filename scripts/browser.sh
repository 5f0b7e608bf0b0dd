#!/usr/bin/env bash
# The UI tests drive Debian's Chromium through Playwright (its own browser download is not reachable):
# install the package when the machine lacks it.
set -euo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v chromium >/dev/null; then
  echo "installing Debian's chromium for the UI tests"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium >/dev/null
fi
echo "browser ready: $(command -v chromium)"

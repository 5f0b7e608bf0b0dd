#!/usr/bin/env bash
# The UI tests drive Debian's Chromium through Playwright (its own browser download is not reachable):
# install the package when the machine lacks it.
set -euo pipefail
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
# a CJK font, so that screenshots taken by the tests and scripts/screenshots.py show the Chinese text
if ! command -v chromium >/dev/null || ! fc-list 2>/dev/null | grep -qi "wenquanyi\|noto sans cjk"; then
  echo "installing Debian's chromium and a CJK font for the UI tests"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null
fi
echo "browser ready: $(command -v chromium)"

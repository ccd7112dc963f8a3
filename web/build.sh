#!/usr/bin/env bash
# Builds the web app into web/dist (committed, embedded by web/embed.go).
# Needs Node and npm; installs the pinned packages from package-lock.json.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x node_modules/.bin/esbuild ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
node_modules/.bin/tsc --noEmit -p .
node build.mjs

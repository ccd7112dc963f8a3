#!/usr/bin/env bash
# Fails when the committed web/dist is not what the sources build to.
set -euo pipefail
cd "$(dirname "$0")"
./build.sh >/dev/null
if ! git diff --quiet -- dist || [ -n "$(git ls-files --others --exclude-standard -- dist)" ]; then
  echo "web/dist is stale: run web/build.sh and commit web/dist" >&2
  git status --short -- dist >&2
  exit 1
fi
echo "web/dist is fresh"

#!/usr/bin/env bash
# Type-checks the example against packshot's AppRouter: installs the pinned
# packages, copies the committed generated router (web/src/generated/router.ts,
# what `packshot gen ts` writes) into src/server/ and runs tsc --strict.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
mkdir -p src/server
cp ../../web/src/generated/router.ts src/server/packshot-router.ts
node_modules/.bin/tsc -p .
echo "examples/t3-client type-checks"

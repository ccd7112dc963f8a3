#!/usr/bin/env bash
# Runs the tRPC client compatibility suite: installs the pinned npm packages,
# builds the Go test server and drives it with every @trpc/client link; then
# type-checks the README's client examples and examples/t3-client against the
# generated AppRouter.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
go build -o server-bin ./server
node --test test/
node readme-check.mjs
../../examples/t3-client/check.sh

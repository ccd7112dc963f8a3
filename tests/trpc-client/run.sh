#!/usr/bin/env bash
# Runs the tRPC client compatibility suite: installs the pinned npm packages,
# builds the Go test server and drives it with every @trpc/client link.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
go build -o server-bin ./server
node --test test/

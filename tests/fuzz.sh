#!/usr/bin/env bash
# Runs every fuzz target for a bounded time (FUZZTIME, default 8s each) on top of its
# committed seed corpus (testdata/fuzz/<Target> in each package). A failure leaves the
# crashing input in that directory: commit it with the fix, and it stays a regression test.
#   tests/fuzz.sh                 # all targets
#   FUZZTIME=1m tests/fuzz.sh     # longer, locally
set -euo pipefail
cd "$(dirname "$0")/.."

GO=${GO:-go}
FUZZTIME=${FUZZTIME:-8s}

# package target — what each one guards
targets=(
	"./internal/trpc FuzzParseRequest"   # tRPC request parsing (paths, batches, inputs)
	"./internal/trpc FuzzHTTPBatch"      # the tRPC HTTP handler end to end
	"./internal/trpc FuzzSuperJSONReferences" # superjson referentialEqualities: bounded, never circular
	"./internal/imaging FuzzDecodeGuard" # the upload guard: image headers and decoding
	"./internal/auth FuzzVerify"         # bearer token parsing and verification
	"./api FuzzHTTPSurface"              # every route of the real server, on a real database
)

for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	echo "== fuzz $name ($pkg, $FUZZTIME)"
	"$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$pkg"
done
echo "== fuzz: all ${#targets[@]} targets ran clean"

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
	corpus="${pkg#./}/testdata/fuzz/$name"
	before=$( (ls "$corpus" 2>/dev/null || true) | wc -l)
	log=$(mktemp)
	if ! "$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$pkg" 2>&1 | tee "$log"; then
		# go test -fuzz sometimes ends a clean run with a bare "context deadline exceeded"
		# when -fuzztime runs out while a worker is busy. A real finding always writes its
		# input to the corpus directory: only without one is the run tried again, once.
		after=$( (ls "$corpus" 2>/dev/null || true) | wc -l)
		if [ "$after" -eq "$before" ] && grep -q "context deadline exceeded" "$log" && ! grep -q "Failing input written" "$log"; then
			echo "== fuzz $name: the run ended on the fuzz-time deadline with no finding; once more"
			"$GO" test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$pkg"
		else
			rm -f "$log"
			exit 1
		fi
	fi
	rm -f "$log"
done
echo "== fuzz: all ${#targets[@]} targets ran clean"

#!/usr/bin/env bash
# The fault-tolerance suite (issue 9): real packshot processes on a throwaway PostgreSQL
# cluster, killed, restarted and attacked while they work (scenarios 1, 2, 4, 5, 6), then
# every fuzz target for a bounded time (scenario 7, tests/fuzz.sh). `make faults` runs it.
#   tests/faults/run.sh                       # everything
#   tests/faults/run.sh -run TestKillWorker   # one scenario (arguments go to go test; no fuzzing)
set -euo pipefail
cd "$(dirname "$0")/../.."

"${GO:-go}" test -tags faults -count=1 -timeout 12m "$@" ./tests/faults/
if [ $# -eq 0 ]; then
	tests/fuzz.sh
fi

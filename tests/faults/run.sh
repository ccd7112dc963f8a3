#!/usr/bin/env bash
# The fault-tolerance suite (issue 9): real packshot processes on a throwaway PostgreSQL
# cluster, killed, restarted and attacked while they work. `make faults` runs it; the fuzz
# targets (scenario 7) run apart, in tests/fuzz.sh (`make fuzz`).
#   tests/faults/run.sh                       # every scenario
#   tests/faults/run.sh -run TestKillWorker   # one of them (arguments go to go test)
set -euo pipefail
cd "$(dirname "$0")/../.."
exec "${GO:-go}" test -tags faults -count=1 -timeout 20m "$@" ./tests/faults/

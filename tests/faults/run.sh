#!/usr/bin/env bash
# The fault-tolerance suite (issue 9): real packshot processes on a throwaway PostgreSQL
# cluster, killed, restarted and attacked while they work. `make faults` runs this.
#   tests/faults/run.sh                     # every scenario
#   tests/faults/run.sh -run TestKillWorker # one of them
set -euo pipefail
cd "$(dirname "$0")/../.."
exec "${GO:-go}" test -tags faults -count=1 -timeout 12m "$@" ./tests/faults/

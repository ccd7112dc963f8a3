#!/usr/bin/env bash
# Runs the browser checks: builds packshot, starts `packshot serve` on its
# embedded database in a temporary data dir on a free port (dev mode), runs
# tests/e2e/e2e.test.mjs in Debian's Chromium, and stops the server.
# Two workers (PACKSHOT_WORKERS) make a pack's images finish one after
# another, as on a busy server, so there is a "some done, some on their way"
# moment to watch.
#
#   tests/e2e/run.sh                      # screenshots go to test-output/
#   UPDATE_SCREENSHOT=1 tests/e2e/run.sh  # also refresh docs/screenshot-project.png
#   BASE_URL=http://127.0.0.1:8080 tests/e2e/run.sh   # against a running server
#   tests/e2e/run.sh --test-name-pattern='job monitor'  # only some checks (node --test options)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  echo "e2e: $chromium is missing (apt-get install -y chromium)" >&2
  exit 1
fi
cd "$here"
if [ ! -d node_modules/playwright-core ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

work="$(mktemp -d -t packshot-e2e.XXXXXX)"
server_pid=""
fake_pid=""
cleanup() {
  if [ -n "$fake_pid" ]; then kill -TERM "$fake_pid" 2>/dev/null || true; fi
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

if [ -z "${BASE_URL:-}" ]; then
  (cd "$root" && go build -o "$work/packshot" ./cmd/packshot)
  # The AI provider is a local fake (fake-openai.mjs): lifestyle and custom
  # images go through the real OpenAI client, and a check can make one fail.
  node fake-openai.mjs >"$work/fake.log" 2>&1 &
  fake_pid=$!
  for _ in $(seq 1 100); do grep -q '^listening' "$work/fake.log" 2>/dev/null && break; sleep 0.1; done
  fake_port="$(sed -n 's/^listening //p' "$work/fake.log")"
  [ -n "$fake_port" ] || { echo "e2e: the fake OpenAI did not start" >&2; cat "$work/fake.log" >&2; exit 1; }
  port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  env -u DATABASE_URL -u AUTH_JWT_SECRET -u SUPABASE_JWT_SECRET -u OPENAI_API_KEY -u GEMINI_API_KEY -u REMOVEBG_API_KEY \
    PACKSHOT_DATA_DIR="$work/data" PACKSHOT_ADDR="127.0.0.1:$port" PACKSHOT_LOG_LEVEL=warn \
    PACKSHOT_WORKERS="${PACKSHOT_WORKERS:-2}" \
    OPENAI_API_KEY=sk-e2e-fake OPENAI_BASE_URL="http://127.0.0.1:$fake_port/v1" \
    ${PACKSHOT_E2E_ENV:-} \
    "$work/packshot" serve >"$work/server.log" 2>&1 &
  server_pid=$!
  export BASE_URL="http://127.0.0.1:$port"
  for _ in $(seq 1 600); do
    if curl -fsS "$BASE_URL/readyz" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "e2e: packshot serve exited:" >&2
      cat "$work/server.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  curl -fsS "$BASE_URL/readyz" >/dev/null || { echo "e2e: server not ready" >&2; cat "$work/server.log" >&2; exit 1; }
fi

export TEST_OUTPUT="${TEST_OUTPUT:-$root/test-output}"
mkdir -p "$TEST_OUTPUT"
rm -f "$TEST_OUTPUT"/*.png
if [ "${UPDATE_SCREENSHOT:-}" = 1 ]; then
  export DOCS_SCREENSHOT="$root/docs/screenshot-project.png"
  mkdir -p "$root/docs"
fi
status=0
node --test --test-concurrency=1 --test-reporter=spec "$@" e2e.test.mjs || status=$?
if [ "$status" -ne 0 ] && [ -s "$work/server.log" ]; then
  echo "--- server log (last 60 lines) ---" >&2
  tail -n 60 "$work/server.log" >&2
fi
exit "$status"
